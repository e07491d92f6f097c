"""The admin base for policy and reference rows: every save and delete leaves an audit event, so rows
edited in the admin keep their history like any record."""

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.forms import ModelForm
from django.http import HttpRequest

from core import audit
from core.stored_text import Message


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        before = audit.snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action=audit.Action.UPDATE if change else audit.Action.CREATE,
            instance=obj,
            before=before,
            note=Message("管理后台"),
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        snap = audit.snapshot(obj)
        audit.record(
            actor=request.user,
            action=audit.Action.DELETE,
            instance=obj,
            changes={k: [v, None] for k, v in snap.items()},
            note=Message("管理后台"),
        )
        super().delete_model(request, obj)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk delete would bypass the audit trail
        return actions


def audit_admin_actions(site: admin.AdminSite) -> None:
    """Every bulk action of every admin, the installed packages' ones included (enabling periodic tasks,
    resetting lockouts…), leaves one audit event naming the action and the rows it was run on: actions
    change rows with queryset updates that write no admin log entry."""
    for model_admin in site._registry.values():
        model_admin.get_actions = _audited_actions(model_admin.get_actions)


def _audited_actions(get_actions):
    def wrapped(request: HttpRequest) -> dict:
        return {
            name: (_audited(func, name, description), name, description)
            for name, (func, name, description) in get_actions(request).items()
        }

    return wrapped


def _audited(func, name: str, description):
    def run(model_admin, request, queryset):
        pks = [str(pk) for pk in queryset.order_by("pk").values_list("pk", flat=True)[:1000]]
        audit.record_event(
            actor=request.user,
            action=audit.Action.UPDATE,
            what=f"{model_admin.model._meta.verbose_name}：{description}",
            content_type=ContentType.objects.get_for_model(model_admin.model),
            changes={"admin_action": name, "objects": pks},
            note=Message("管理后台批量操作"),
        )
        return func(model_admin, request, queryset)

    return run
