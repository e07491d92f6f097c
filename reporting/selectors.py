"""Reads used by views, API and tasks; every queryset starts from `for_user`."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q

from institutions.choices import InstitutionStatus, LicenceStatus
from institutions.models import Institution, Licence

from .choices import FilingStatus
from .models import Filing
from .periods import Period


def obliged_institutions(period: Period):
    """Institutions that must file for `period`: operating, and holding a licence in force at the period
    end (issued by then, not cancelled or revoked by then). Unscoped; callers narrow with `for_user`."""
    end = period.end
    in_force = (
        Licence.objects.filter(institution=OuterRef("pk"))
        .filter(Q(issued_on__isnull=True) | Q(issued_on__lte=end))
        .exclude(cancelled_on__lte=end)
        .exclude(revoked_on__lte=end)
        .exclude(
            status__in=[LicenceStatus.CANCELLED, LicenceStatus.REVOKED],
            cancelled_on__isnull=True,
            revoked_on__isnull=True,
        )
    )
    return Institution.objects.filter(Exists(in_force), status=InstitutionStatus.OPERATING)


def filings_for(user, period: Period | None = None):
    qs = Filing.objects.for_user(user).select_related("institution", "institution__region", "current_version")
    if period:
        qs = qs.filter(year=period.year, quarter=period.quarter)
    return qs


BREACH_RISK = 40  # a policy-threshold breach outweighs any single validation warning


def review_queue(user):
    """Submitted filings in the user's jurisdiction, riskiest first, then oldest submission. The risk
    adds the validation score (warnings, explanations, large changes) and the filing's threshold breaches."""
    return (
        filings_for(user)
        .filter(status=FilingStatus.SUBMITTED)
        .annotate(risk=F("risk_score") + BREACH_RISK * F("breach_count"))
        .order_by("-risk", "first_submitted_at", "pk")
    )


def completeness(user, period: Period) -> dict:
    """Counts and rows for the board: every obliged institution in scope with its filing (or none)."""
    from django.utils import timezone

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
            "amended",
        )
    }
    from .services import due_date, due_settings

    settings = due_settings(period)
    for inst in institutions:
        f = filings.get(inst.pk)
        due = f.due_date if f and f.due_date else due_date(inst.region_id, period, settings)
        filed = bool(f and f.first_submitted_at)
        state = "missing" if not filed else f.status
        late = bool(filed and f.is_late) or (not filed and today > due)
        nil = bool(f and f.current_version and f.current_version.nil_return and filed)
        counts["obliged"] += 1
        counts["filed"] += filed
        counts["nil"] += nil
        counts["late"] += late
        counts["amended"] += bool(f and f.current_version and f.current_version.number > 1 and filed)
        if not filed:
            counts["missing"] += 1
        elif f.status in counts:
            counts[f.status] += 1
        rows.append({"institution": inst, "filing": f, "state": state, "late": late, "nil": nil, "due": due})
    return {"counts": counts, "rows": rows}


def institution_filings_tab(request, institution) -> dict:
    """Context of the institution page's filings tab: its latest eight quarters."""
    filings = (
        Filing.objects.for_user(request.user)
        .filter(institution=institution)
        .select_related("current_version")
        .order_by("-year", "-quarter")[:8]
    )
    return {"filings": filings}
