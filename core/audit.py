"""Audit trail helpers: services call `record(...)` in the same transaction as the change.

before = snapshot(obj)
obj.status = "revoked"; obj.save()
record(actor=user, action=AuditEvent.Action.TRANSITION, instance=obj, before=before, note=reason)

A note typed by a person is kept as typed; a note the system writes is a core.stored_text.Message
(note=Message("创建报表")), kept as msgid + params so each reader sees it in their language.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .middleware import current_request_id
from .models import AuditEvent
from .stored_text import store

Action = AuditEvent.Action


def _json_value(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime) and value.utcoffset() is not None:
        return value.astimezone(dt.UTC).isoformat()  # one instant, one text, whatever the zone it came in
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.fields.files.FieldFile):  # uploaded documents: the stored name
        return value.name or None
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def _field_value(field, instance):
    value = getattr(instance, field.attname)
    if isinstance(field, models.DecimalField) and value is not None:
        # "30000" and "30000.00" are the same amount: compare and store at the column's scale.
        value = Decimal(value).quantize(Decimal(1).scaleb(-field.decimal_places))
    return _json_value(value)


def snapshot(instance: models.Model) -> dict:
    """JSON-safe values of the instance's concrete fields (foreign keys as ids)."""
    return {
        f.name: _field_value(f, instance)
        for f in instance._meta.concrete_fields
        if f.name not in ("created_at", "updated_at", "password")  # never a password hash in the trail
    }


def diff(before: dict | None, after: dict | None) -> dict:
    before, after = before or {}, after or {}
    keys = list(dict.fromkeys([*before, *after]))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def record(
    *,
    actor,
    action: str,
    instance: models.Model,
    before: dict | None = None,
    note: str = "",
    changes: dict | None = None,
) -> AuditEvent:
    """Append one audit event; `changes` overrides the computed before/after diff when given."""
    after = None if action == Action.DELETE else snapshot(instance)
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor=actor if is_user else None,
        actor_label=(actor.get_full_name() or actor.get_username())
        if is_user
        else (str(actor) if actor else "系统"),
        request_id=current_request_id(),
        action=action,
        content_type=ContentType.objects.get_for_model(type(instance)),
        object_id=str(instance.pk),
        object_repr=str(instance)[:300],
        changes=changes if changes is not None else diff(before, after),
        note=store(note),  # a system Message kept as msgid + params, shown in the reader's language
    )


def history(instance: models.Model):
    """Audit events of one record, newest first, for its page."""
    return AuditEvent.objects.for_object(instance).select_related("actor")


def record_event(
    *,
    actor,
    action: str,
    what: str,
    instance: models.Model | None = None,
    note: str = "",
    changes: dict | None = None,
    content_type: ContentType | None = None,
    object_id: str = "",
) -> AuditEvent:
    """Append one audit event that is not a change of a record: an export (what = the file, changes =
    the filters), a failed or locked-out login (what = the name tried), a security step (a key issued)."""
    is_user = actor is not None and getattr(actor, "is_authenticated", False) and actor.pk is not None
    return AuditEvent.objects.create(
        actor=actor if is_user else None,
        actor_label=(actor.get_full_name() or actor.get_username()) if is_user else (str(actor or "匿名")),
        request_id=current_request_id(),
        action=action,
        content_type=ContentType.objects.get_for_model(instance._meta.model)
        if instance is not None
        else content_type,
        object_id=str(instance.pk) if instance is not None else object_id,
        object_repr=what[:300],
        changes=changes or {},
        note=store(note),  # a system Message kept as msgid + params, shown in the reader's language
    )
