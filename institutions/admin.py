"""Admin for the registry's policy data and reference rows. Every save and delete is audited, so the
rule parameters (licence number patterns, deadlines, thresholds) keep their history like any record."""

from django.contrib import admin

from core import audit

from .models import Bank, PolicyRule, ProvinceLicenceSetting


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        before = audit.snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action=audit.Action.UPDATE if change else audit.Action.CREATE,
            instance=obj,
            before=before,
            note="管理后台",
        )

    def delete_model(self, request, obj):
        snap = audit.snapshot(obj)
        audit.record(
            actor=request.user,
            action=audit.Action.DELETE,
            instance=obj,
            changes={k: [v, None] for k, v in snap.items()},
            note="管理后台",
        )
        super().delete_model(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk delete would bypass the audit trail
        return actions


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
        "province_code",
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
