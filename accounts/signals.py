"""Security events into the audit trail, and tokens that die with the account's state:

- every failed login (page, token endpoint, admin) and every lock-out (django-axes) is an audit event;
- a lock-out and a password change delete the person's API token;
- every change made in /admin/ is an audit event: AuditedAdmin records its own (with the field diff);
  for any other model admin, third-party ones included, the admin's log entry is copied."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from core import audit
from core.admin import AuditedAdmin
from core.net import client_ip
from core.stored_text import Message

from .middleware import IdleSessionMiddleware
from .models import User
from .services import tokens_drop


def _user_named(username: str) -> User | None:
    return User.objects.filter(username=username).first() if username else None


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username") or "")[:150]
    audit.record_event(
        actor=None,
        action=audit.Action.LOGIN_FAILED,
        what=username,
        instance=_user_named(username),
        changes={
            "ip": client_ip(request) if request is not None else "",
            "path": getattr(request, "path", ""),
        },
    )


@receiver(user_locked_out, dispatch_uid="audit_locked_out")
def audit_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    username = str(username or "")[:150]
    dropped = tokens_drop(username=username)
    audit.record_event(
        actor=None,
        action=audit.Action.LOCKED_OUT,
        what=username,
        instance=_user_named(username),
        changes={"ip": ip_address or "", "tokens_revoked": dropped},
    )


@receiver(post_save, sender=User, dispatch_uid="tokens_die_with_the_password")
def tokens_die_with_the_password(sender, instance: User, created: bool, **kwargs):
    # AbstractBaseUser.set_password keeps the raw password in _password until save() has run.
    if not created and getattr(instance, "_password", None) is not None:
        tokens_drop(username=instance.username)


_ADMIN_ACTIONS = {ADDITION: audit.Action.CREATE, CHANGE: audit.Action.UPDATE, DELETION: audit.Action.DELETE}


@receiver(post_save, sender=LogEntry, dispatch_uid="audit_admin_log_entry")
def audit_admin_log_entry(sender, instance: LogEntry, created: bool, **kwargs):
    if not created:
        return
    model = instance.content_type.model_class() if instance.content_type_id else None
    if model is not None and isinstance(admin.site._registry.get(model), AuditedAdmin):
        return  # recorded by AuditedAdmin itself, with the field diff
    audit.record_event(
        actor=instance.user,
        action=_ADMIN_ACTIONS.get(instance.action_flag, audit.Action.UPDATE),
        what=instance.object_repr,
        content_type=instance.content_type,
        object_id=str(instance.object_id or "")[:64],
        changes={"admin": instance.get_change_message()},
        note=Message("管理后台"),
    )


# Bulk deletion writes its log entries with bulk_create (no post_save) and bypasses AuditedAdmin's
# delete_model: off everywhere, so every deletion in /admin/ goes through the audited single delete.
admin.site.disable_action("delete_selected")


@receiver(user_logged_in, dispatch_uid="session_renewed_at_login")
def session_renewed_at_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        IdleSessionMiddleware.renew(request.session)
