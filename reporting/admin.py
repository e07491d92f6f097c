"""Admin for the review queue's policy rows (audited like every policy edit)."""

from django.contrib import admin

from core.admin import AuditedAdmin

from .models import ReviewParameter


@admin.register(ReviewParameter)
class ReviewParameterAdmin(AuditedAdmin):
    list_display = ("key", "region_code", "value", "effective_from", "effective_to", "source")
    list_filter = ("key",)
