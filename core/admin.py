"""The admin base for policy and reference rows: every save and delete leaves an audit event, so rows
edited in the admin keep their history like any record."""

from django.contrib import admin
from django.db.models import Model
from django.forms import ModelForm
from django.http import HttpRequest

from core import audit


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        before = audit.snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action=audit.Action.UPDATE if change else audit.Action.CREATE,
            instance=obj,
            before=before,
            note="管理后台",
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        snap = audit.snapshot(obj)
        audit.record(
            actor=request.user,
            action=audit.Action.DELETE,
            instance=obj,
            changes={k: [v, None] for k, v in snap.items()},
            note="管理后台",
        )
        super().delete_model(request, obj)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk delete would bypass the audit trail
        return actions
