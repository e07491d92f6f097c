"""Admin for the registry's policy data and reference rows. Every save and delete is audited, so the
rule parameters (licence number patterns, deadlines, thresholds) keep their history like any record."""

from django.contrib import admin

from core.admin import AuditedAdmin

from .models import Bank, PolicyRule, ProvinceLicenceSetting


@admin.register(PolicyRule)
class PolicyRuleAdmin(AuditedAdmin):
    list_display = (
        "code",
        "region_code",
        "severity",
        "value",
        "text_value",
        "effective_from",
        "effective_to",
        "source",
    )
    list_filter = ("code", "severity")
    search_fields = ("source", "region_code")


@admin.register(ProvinceLicenceSetting)
class ProvinceLicenceSettingAdmin(AuditedAdmin):
    list_display = (
        "region_code",
        "abbreviation",
        "number_pattern",
        "announce_days",
        "return_days",
        "market_regulator_days",
        "reconsideration_days",
        "lawsuit_months",
        "effective_from",
    )


@admin.register(Bank)
class BankAdmin(AuditedAdmin):
    list_display = ("name", "kind", "parent", "region")
    search_fields = ("name",)
    raw_id_fields = ("parent", "region")
