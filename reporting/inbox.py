"""What the quarterly report puts in the work inbox (core.inbox), the unread-message count beside 消息, and
the regulators' message when a filing of their jurisdiction is submitted. Every source costs a constant
number of queries, whatever the number of filings."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.inbox import Task, inbox_source, menu_counter
from core.roles import Role, role_of
from core.scoping import region_level
from core.stored_text import Message

from .choices import FilingStatus
from .models import Filing, Notification
from .periods import Period


def filing_period() -> Period:
    """The quarter being filed now: the last completed one."""
    return Period.containing(timezone.localdate()).previous()


@inbox_source
def company_tasks(user) -> list[Task]:
    """Filer and approver: returned filings (to correct), the quarter due and not yet submitted; the
    approver also the drafts waiting for its submission."""
    role = role_of(user)
    if role not in (Role.FILER, Role.APPROVER) or not user.institution_id:
        return []
    tasks = []
    filings = list(
        Filing.objects.for_user(user)
        .filter(status__in=[FilingStatus.DRAFT, FilingStatus.RETURNED])
        .select_related("current_version")
        .order_by("year", "quarter")
    )
    for f in filings:
        url = reverse("reporting:filing_edit", args=[f.period])
        if f.status == FilingStatus.RETURNED and not (f.current_version and not f.current_version.is_frozen):
            tasks.append(
                Task(
                    "filing.returned",
                    _("%(p)s 季度报表被退回，请修改后重新报送") % {"p": f.period.label},
                    url,
                )
            )
        elif role == Role.APPROVER:
            tasks.append(
                Task(
                    "filing.submit",
                    _("%(p)s 季度报表草稿待审核报送") % {"p": f.period.label},
                    reverse("reporting:filing", args=[f.pk]),  # where the approver submits
                    due=f.due_date,
                )
            )
        elif f.status == FilingStatus.RETURNED:
            tasks.append(
                Task("filing.returned", _("%(p)s 季度报表被退回，修改中") % {"p": f.period.label}, url)
            )
    period = filing_period()
    if not any(f.period == period for f in filings) and _obliged_and_unfiled(user.institution_id, period):
        from .services import due_date

        tasks.append(
            Task(
                "filing.due",
                _("%(p)s 季度报表待填报") % {"p": period.label},
                reverse("reporting:filing_edit", args=[period]),
                due=due_date(user.institution.region_id, period),
            )
        )
    return tasks


def _obliged_and_unfiled(institution_id: int, period: Period) -> bool:
    from .selectors import obliged_institutions

    if Filing.objects.filter(
        institution_id=institution_id, year=period.year, quarter=period.quarter
    ).exists():
        return False
    return obliged_institutions(period).filter(pk=institution_id).exists()


@inbox_source
def filings_to_review(user) -> list[Task]:
    """Regulator: the submitted filings of its jurisdiction, one task for the review queue (first-time
    submissions and amendments counted apart)."""
    if role_of(user) != Role.REGULATOR:
        return []
    counts = (
        Filing.objects.for_user(user)
        .filter(status=FilingStatus.SUBMITTED)
        .aggregate(
            total=Count("pk"),
            amended=Count("pk", filter=Q(current_version__number__gt=1)),
        )
    )
    if not counts["total"]:
        return []
    url = reverse("reporting:review_queue")
    title = _("%(n)s 份季度报表待审核") % {"n": counts["total"]}
    if counts["amended"]:
        title += _("（其中更正 %(n)s 份）") % {"n": counts["amended"]}
    return [Task("filing.review", title, url, count=counts["total"])]


@menu_counter("reporting:notifications")
def unread_messages(user) -> int:
    return Notification.objects.for_user(user).filter(read_at__isnull=True).count()


def jurisdiction_regulators(region_code: str):
    """The active regulators whose jurisdiction holds `region_code`: its county, city and province."""
    from accounts.models import User

    codes = {region_code, region_code[:4] + "00", region_code[:2] + "0000"}
    if region_level(region_code) == "province":
        codes = {region_code}
    return User.objects.filter(role=Role.REGULATOR, is_active=True, region_id__in=codes)


def notify_regulators_of_submission(sender, filing, version, actor, **kwargs) -> None:
    """filing_submitted receiver: a message to each regulator of the filing's jurisdiction."""
    institution = filing.institution
    if version.number > 1:
        title = Message(
            "%(i)s 报送了 %(p)s 季度报表（第 %(n)s 版）",
            i=institution.name,
            p=filing.period.label,
            n=version.number,
        )
    else:
        title = Message("%(i)s 报送了 %(p)s 季度报表", i=institution.name, p=filing.period.label)
    Notification.objects.send(
        jurisdiction_regulators(institution.region_id),
        title=title,
        url=reverse("reporting:review", args=[filing.pk]),
    )
