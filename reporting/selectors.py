"""Reads used by views, API and tasks; every queryset starts from `for_user`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.policy import Governing, governing
from institutions.choices import InstitutionStatus, LicenceStatus
from institutions.models import Institution, Licence, StatusChange

from .choices import FilingStatus, ReviewParameterKey
from .models import Filing, ReportTemplate, ReviewParameter
from .periods import Period

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest

    from core.roles import Actor


def obliged_institutions(period: Period) -> QuerySet[Institution]:
    """Institutions that must file for `period`: operating at the period end (by their status history,
    `StatusChange`), and holding a licence in force at the period end (issued by then, not cancelled or
    revoked by then). Unscoped; callers narrow with `for_user`.

    A licence recorded without its issue date (the legacy register) counts from the holder's founding
    date, the earliest day it can have been issued, so no quarter before the company existed is due.
    With neither date it counts for every quarter: a licence on the register is presumed in force rather
    than letting an unfiled report drop off the board."""
    end = period.end
    in_force = (
        Licence.objects.filter(institution=OuterRef("pk"))
        .annotate(in_force_from=Coalesce("issued_on", "institution__established_on"))
        .filter(Q(in_force_from__isnull=True) | Q(in_force_from__lte=end))
        .exclude(cancelled_on__lte=end)
        .exclude(revoked_on__lte=end)
        .exclude(
            status__in=[LicenceStatus.CANCELLED, LicenceStatus.REVOKED],
            cancelled_on__isnull=True,
            revoked_on__isnull=True,
        )
    )
    # no quarter is due before the quarterly report existed (its first edition's effective date)
    report_in_force = ReportTemplate.objects.filter(effective_from__lte=end).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=end)
    )
    # operating then: its status at the period end, by its history (StatusChange.status_on)
    return (
        Institution.objects.filter(Exists(in_force), Exists(report_in_force))
        .alias(status_then=StatusChange.status_on(end))
        .filter(status_then=InstitutionStatus.OPERATING)
    )


def filings_for(user: Actor, period: Period | None = None) -> QuerySet[Filing]:
    qs = Filing.objects.for_user(user).select_related("institution", "institution__region", "current_version")
    if period:
        qs = qs.filter(year=period.year, quarter=period.quarter)
    return qs


# A version's report data: lists show only a version's number and times, and this data is the bulk of
# what each row would read and decode
VERSION_DATA = ("values", "findings", "review_comments", "explanations", "prefill", "overrides")


def listed(filings: QuerySet[Filing]) -> QuerySet[Filing]:
    """`filings` for a list: their current versions without the report data."""
    return filings.defer(*(f"current_version__{name}" for name in VERSION_DATA))


def review_queue(user: Actor, points: Governing) -> QuerySet[Filing]:
    """Submitted filings in the user's jurisdiction, riskiest first, then oldest submission. The risk
    adds the validation score (warnings, explanations, large changes) and the points of the filing's
    threshold breaches (`points`: the review points in force for the reviewer, `review_points_for`)."""
    return (
        listed(filings_for(user))
        .filter(status=FilingStatus.SUBMITTED)
        .annotate(risk=review_risk(points))
        .order_by("-risk", "first_submitted_at", "pk")
    )


def review_risk(points: Governing, filing: Filing | None = None):
    """The one review risk of a filing, for the queue (an SQL expression) and the review page (`filing`
    given: its value): the validation score stored at submission plus the points of each threshold
    breach the indicators found, at the reviewer's points."""
    per_breach = points.require(ReviewParameterKey.THRESHOLD_BREACH).value
    if filing is not None:
        return filing.risk_score + per_breach * filing.breach_count
    return F("risk_score") + per_breach * F("breach_count")


def review_points(region_code: str, day: dt.date, rows: list[ReviewParameter] | None = None) -> Governing:
    """The review queue's points and badge cut-offs in force on `day` for a region, from the database or
    from rows loaded once."""
    if rows is None:
        return ReviewParameter.objects.governing(day, region_code)
    return governing(ReviewParameter, rows, day, region_code)


def review_points_for(user: Actor) -> Governing:
    """The review points and badge cut-offs in force today for the user's jurisdiction (nationwide for a
    user without one, e.g. an administrator)."""
    return review_points(user.region_id or "", timezone.localdate())


def completeness(user: Actor, period: Period) -> dict:
    """Counts and rows for the board: every obliged institution in scope with its filing (or none)."""
    institutions = (
        obliged_institutions(period)
        .filter(pk__in=Institution.objects.for_user(user).values("pk"))
        .select_related("region")
        .order_by("region_id", "name")
    )
    filings = {
        f.institution_id: f
        for f in filings_for(user, period)
        .select_related(None)
        .only(
            "id",
            "institution_id",
            "status",
            "due_date",
            "first_submitted_at",
            "current_version__nil_return",
            "current_version__number",
        )
        .select_related("current_version")
    }
    today = timezone.localdate()
    rows = []
    counts = {
        k: 0
        for k in (
            "obliged",
            "filed",
            "accepted",
            "submitted",
            "returned",
            "draft",
            "nil",
            "late",
            "missing",
            "overdue",
            "amended",
        )
    }
    by_city: dict[str, dict[str, int]] = {}
    from .services import due_date, due_settings

    due_rows = due_settings()
    for inst in institutions:
        f = filings.get(inst.pk)
        due = f.due_date if f and f.due_date else due_date(inst.region_id, period, due_rows)
        filed = bool(f and f.first_submitted_at)
        state = "missing" if not filed else f.status
        # filed after the due date ("late") is not the same as not filed and past due ("overdue")
        late = bool(filed and f.is_late)
        overdue = not filed and today > due
        nil = bool(f and f.current_version and f.current_version.nil_return and filed)
        counts["obliged"] += 1
        counts["filed"] += filed
        counts["nil"] += nil
        counts["late"] += late
        counts["overdue"] += overdue
        city = by_city.setdefault(
            inst.region_id[:4] + "00", {"obliged": 0, "filed": 0, "missing": 0, "overdue": 0, "late": 0}
        )
        city["obliged"] += 1
        city["filed"] += filed
        city["missing"] += not filed
        city["overdue"] += overdue
        city["late"] += late
        counts["amended"] += bool(f and f.current_version and f.current_version.number > 1 and filed)
        if not filed:
            counts["missing"] += 1
        elif f.status in counts:
            counts[f.status] += 1
        rows.append(
            {
                "institution": inst,
                "filing": f,
                "state": state,
                "late": late,
                "overdue": overdue,
                "nil": nil,
                "due": due,
            }
        )
    return {"counts": counts, "rows": rows, "by_city": by_city}


def institution_filings_tab(request: HttpRequest, institution: Institution) -> dict:
    """Context of the institution page's filings tab: its latest eight quarters."""
    filings = listed(
        Filing.objects.for_user(request.user)
        .filter(institution=institution)
        .select_related("current_version")
    ).order_by("-year", "-quarter")[:8]
    return {"filings": filings}
