"""Reminders to institutions that have not filed: N days before the due date, on the due date and
when overdue (days from the per-province DueDateSetting), plus manual bulk reminders from the board.
Each (institution, period, event) is recorded once in `Reminder` (unique constraint): the row's
creator sends, so a reminder is never sent twice even if beat runs twice."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, override

from accounts.models import User
from core.permissions import require
from core.stored_text import Message
from institutions.models import Institution

from . import selectors, services
from .choices import ReminderEvent
from .models import Filing, Notification, Reminder
from .periods import Period
from .permissions import may_remind


def _unfiled(period: Period, institution_qs):
    filed = Filing.objects.filter(year=period.year, quarter=period.quarter, first_submitted_at__isnull=False)
    return institution_qs.exclude(pk__in=filed.values("institution_id")).order_by("pk")


def _event_for(today: dt.date, due: dt.date, setting) -> str | None:
    before = setting.remind_days_before if setting else 5
    overdue = setting.overdue_days_after if setting else 1
    if today == due:
        return ReminderEvent.DUE
    if due - dt.timedelta(days=before) <= today < due:
        return ReminderEvent.BEFORE
    if today >= due + dt.timedelta(days=overdue):
        return ReminderEvent.OVERDUE
    return None


# Chinese msgids (English in the catalogue): stored as the message and shown in each reader's language
_TEXT = {
    ReminderEvent.BEFORE: gettext_noop("%(p)s季度报表将于%(d)s截止，请按时报送"),
    ReminderEvent.DUE: gettext_noop("%(p)s季度报表今日（%(d)s）截止，请尽快报送"),
    ReminderEvent.OVERDUE: gettext_noop("%(p)s季度报表已逾期（截止日%(d)s），请立即报送"),
    ReminderEvent.MANUAL: gettext_noop("监管部门催报：请尽快报送%(p)s季度报表（截止日%(d)s）"),
}


def _send(
    institution: Institution, period: Period, event: str, due: dt.date, *, actor=None, key: str = ""
) -> bool:
    """Record the reminder; only the call that creates the row sends it."""
    try:
        with transaction.atomic():
            reminder = Reminder.objects.create(
                institution=institution,
                year=period.year,
                quarter=period.quarter,
                event=event,
                event_key=key,
                sent_by=actor,
            )
            users = list(User.objects.filter(institution=institution, is_active=True))
            url = reverse("reporting:filing_edit", args=[str(period)])
            params = {"p": period.label, "d": due.isoformat()}
            Notification.objects.send(users, title=Message(_TEXT[event], **params), url=url)
            reminder.recipients = len(users)
            reminder.save(update_fields=["recipients"])
            with override(settings.LANGUAGE_CODE):  # mail in the portal's language
                text = str(Message(_TEXT[event], **params))
            mails = [
                (
                    text,
                    f"{institution.name}：\n{text}",
                    settings.DEFAULT_FROM_EMAIL,
                    [u.email],
                )
                for u in users
                if u.email
            ]
            transaction.on_commit(lambda: send_mass_mail(mails, fail_silently=True))
    except IntegrityError:
        return False
    return True


def remind_due(today: dt.date) -> dict:
    """The scheduled run (Celery beat, daily): the last two quarters, each unfiled obliged institution."""
    sent = {}
    period = Period.containing(today).previous()
    for p in (period.previous(), period):
        due_rows = services.due_settings()
        for inst in _unfiled(p, selectors.obliged_institutions(p)):
            setting = services.due_setting_for(inst.region_id, p, due_rows)
            due = services.due_date(inst.region_id, p, due_rows)
            event = _event_for(today, due, setting)
            if event and _send(inst, p, event, due):
                sent[event] = sent.get(event, 0) + 1
    return sent


def remind_manual(*, actor, period: Period, institution_ids=None, today: dt.date | None = None) -> int:
    """Bulk reminders from the completeness board, to unfiled institutions in the actor's scope; once a day."""
    from django.utils import timezone

    require(actor, may_remind, message=_("只有监管人员可以催报"))
    today = today or timezone.localdate()
    qs = selectors.obliged_institutions(period).filter(
        pk__in=Institution.objects.for_user(actor).values("pk")
    )
    if institution_ids:
        qs = qs.filter(pk__in=institution_ids)
    due_rows = services.due_settings()
    n = 0
    for inst in _unfiled(period, qs):
        n += _send(
            inst,
            period,
            ReminderEvent.MANUAL,
            services.due_date(inst.region_id, period, due_rows),
            actor=actor,
            key=today.isoformat(),
        )
    return n
