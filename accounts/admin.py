from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Region, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("角色与辖区", {"fields": ("role", "region", "institution", "phone")}),
    )
    list_display = ("username", "get_full_name", "role", "region", "institution", "is_active")
    list_filter = ("role", "is_active")
    raw_id_fields = ("region", "institution")


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    search_fields = ("code", "name")
    list_filter = ("level",)
