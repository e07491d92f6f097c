"""Reads of the subsidies app for pages, API, the inbox and the annual report. Every queryset starts from
`for_user` (the publicity list from the public's view of it)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from core.roles import COMPANY_ROLES, Role, role_of
from core.scoping import in_subtree, region_subtree_q
from institutions.models import Institution

from . import calculations as calc
from . import services
from .choices import COMMITTED, TO_REVIEW, SchemeKind, Status
from .models import Application, ApplicationLine, PublicityEntry, Scheme
from .permissions import may_decide, may_review

ZERO = Decimal("0.00")


def schemes_for(user) -> QuerySet[Scheme]:
    return Scheme.objects.for_user(user).order_by("region_code", "code")


def applications_for(
    user, *, status: str = "", scheme: str = "", year: str = "", q: str = ""
) -> QuerySet[Application]:
    qs = Application.objects.for_user(user).select_related("scheme", "institution__region")
    if status:
        qs = qs.filter(status=status)
    if scheme:
        qs = qs.filter(scheme__code=scheme)
    if year and str(year).isdigit():
        qs = qs.filter(year=int(year))
    if q:
        qs = qs.filter(Q(institution__name__contains=q) | Q(institution__credit_code=q))
    return qs.order_by("-updated_at", "-id")


def application_lines(user, application: Application) -> QuerySet[ApplicationLine]:
    return ApplicationLine.objects.for_user(user).filter(application=application).order_by("-eligible", "id")


def application_steps(application: Application):
    return application.steps.select_related("actor").order_by("at", "id")


def schemes_covering(region_code: str) -> list[Scheme]:
    """Open schemes whose region holds `region_code`."""
    return [
        s
        for s in Scheme.objects.for_user(None).filter(open=True).order_by("code")
        if not s.region_code or in_subtree(s.region_code, region_code)
    ]


def estimate(scheme: Scheme, institution: Institution, year: int) -> dict:
    """What the institution would get now, computed from its data without storing anything."""
    probe = Application(scheme=scheme, institution=institution, year=year)
    try:
        if scheme.kind == SchemeKind.FEE_SUBSIDY:
            total = services.fee_subsidy_estimate(scheme=scheme, institution_id=institution.pk, year=year)
            return {"amount": total.amount, "eligible": total.eligible, "total": total.guarantees}
        result, lines = services.COMPUTERS[scheme.kind](probe)
        if scheme.kind == SchemeKind.AWARD_POOL:
            s = result["summary"]
            return {"amount": None, "coefficient": s["coefficient"], "weighted": s["weighted"]}
        return {"amount": result["amount"], "marginal": result["marginal"], "whole": result["whole"]}
    except calc.Uncomputable as exc:
        return {"error": str(exc)}
    except services.AppError as exc:
        return {"error": str(exc.message)}


def company_overview(user, year: int | None = None) -> dict:
    """The schemes open to the user's institution with an estimate each, and its applications."""
    institution = Institution.objects.for_user(user).select_related("region").get(pk=user.institution_id)
    year = year or timezone.localdate().year - 1
    mine = {
        (a.scheme_id, a.year): a
        for a in Application.objects.for_user(user)
        .filter(institution=institution)
        .exclude(status=Status.REJECTED)
    }
    schemes = [
        {"scheme": s, "estimate": estimate(s, institution, year), "existing": mine.get((s.pk, year))}
        for s in schemes_covering(institution.region_id)
        if s.covers_year(year)
    ]
    return {"institution": institution, "year": year, "schemes": schemes}


def finance_queues(user) -> dict[str, list[Application]]:
    """What waits for this finance officer: to review (初审), to decide (复核), to publish, to pay."""
    qs = Application.objects.for_user(user, "change").select_related("scheme", "institution__region")
    waiting = list(qs.filter(status__in=(*TO_REVIEW, Status.REVIEWED, Status.APPROVED, Status.PUBLICITY)))
    queues: dict[str, list[Application]] = {"review": [], "decide": [], "publish": [], "pay": []}
    for a in waiting:
        if a.status in TO_REVIEW and may_review(user, a):
            queues["review"].append(a)
        elif a.status == Status.REVIEWED and may_decide(user, a) and a.reviewed_by_id != user.pk:
            queues["decide"].append(a)
        elif a.status == Status.APPROVED and may_decide(user, a):
            queues["publish"].append(a)
        elif a.status == Status.PUBLICITY and may_decide(user, a):
            queues["pay"].append(a)
    return queues


def budget_rows(user, year: int) -> list[dict]:
    """Per scheme the user sees applications of: budget, approved (final), paid, remaining."""
    totals = (
        Application.objects.for_user(user)
        .filter(year=year, status__in=COMMITTED)
        .values("scheme_id")
        .annotate(
            approved=Sum("final_amount"),
            paid=Sum("final_amount", filter=Q(status=Status.PAID)),
            n=Count("id"),
        )
        .order_by()
    )
    by_scheme = {t["scheme_id"]: t for t in totals}
    rows = []
    for s in visible_schemes_for_budget(user):
        t = by_scheme.get(s.pk, {})
        approved = calc.money(t.get("approved") or ZERO)  # SQLite sums decimals as floats
        paid = calc.money(t.get("paid") or ZERO)
        rows.append(
            {
                "scheme": s,
                "budget": s.budget,
                "approved": approved,
                "paid": paid,
                "unpaid": approved - paid,
                "remaining": None if s.budget is None else s.budget - approved,
                "count": t.get("n") or 0,
            }
        )
    return rows


def visible_schemes_for_budget(user) -> list[Scheme]:
    """Schemes of the user's region, above it or below it (a city officer watches the province's award)."""
    region = getattr(user, "region_id", None) if role_of(user) in (Role.FINANCE, Role.REGULATOR) else None
    schemes = list(schemes_for(user))
    if not region:
        return schemes
    return [
        s
        for s in schemes
        if not s.region_code or in_subtree(s.region_code, region) or in_subtree(region, s.region_code)
    ]


def publicity_list(*, scheme: str = "", year: str = "") -> QuerySet[PublicityEntry]:
    """The public publicity list (公示) and the paid: institution, scheme, year, amount, period."""
    qs = PublicityEntry.objects.for_user(AnonymousUser()).select_related("scheme", "institution__region")
    if scheme:
        qs = qs.filter(scheme__code=scheme)
    if year and str(year).isdigit():
        qs = qs.filter(year=int(year))
    return qs.order_by("-publicity_from", "scheme__code", "institution__name")


def payments_for(user) -> QuerySet[Application]:
    return (
        Application.objects.for_user(user)
        .filter(status=Status.PAID)
        .select_related("scheme", "institution", "paid_by")
        .order_by("-paid_on", "-id")
    )


def annual_report_figures(*, region_code: str, year: int, user=None) -> list[dict]:
    """For the annual supervision report: per scheme, the applications of institutions in `region_code`
    (and below) for `year` that were approved (or went on to publicity and payment), the amounts
    approved (after any pro rata scaling) and paid. One query; read as `user` when given."""
    institutions = region_subtree_q("institution__region_id", region_code)
    applications = Application.objects.for_user(user) if user is not None else Application.objects.all()
    rows = (
        applications.filter(institutions, year=year, status__in=COMMITTED)
        .values("scheme__code", "scheme__name", "scheme__kind")
        .annotate(
            approved_count=Count("id"),
            approved_amount=Sum("final_amount"),
            paid_amount=Sum("final_amount", filter=Q(status=Status.PAID)),
            paid_count=Count("id", filter=Q(status=Status.PAID)),
        )
        .order_by("scheme__code")
    )
    return [
        {
            "scheme": r["scheme__code"],
            "name": r["scheme__name"],
            "kind": r["scheme__kind"],
            "approved_count": r["approved_count"],
            "approved_amount": calc.money(r["approved_amount"] or ZERO),
            "paid_count": r["paid_count"],
            "paid_amount": calc.money(r["paid_amount"] or ZERO),
        }
        for r in rows
    ]


def newer_data(application: Application) -> bool:
    """Whether the records or filings behind the frozen amount changed since it was computed."""
    if not application.data_stamp:
        return False
    return services.data_stamp(application) != application.data_stamp


def status_counts(user) -> dict[str, int]:
    counts = defaultdict(int)
    for status, n in (
        Application.objects.for_user(user).values_list("status").annotate(n=Count("id")).order_by()
    ):
        counts[status] = n
    return counts


def is_company(user) -> bool:
    return role_of(user) in COMPANY_ROLES


def default_year() -> int:
    return dt.date.today().year - 1


def institution_tab(request, institution) -> dict:
    """The institution page's subsidy tab: its applications the user may see."""
    applications = (
        Application.objects.for_user(request.user)
        .filter(institution=institution)
        .select_related("scheme")
        .order_by("-year", "scheme__code")
    )
    return {"subsidy_applications": applications}


def computing_job(application: Application):
    """The background job computing the application (core.jobs), while its draft says so; else None."""
    from core.models import Job

    job_id = (application.computation or {}).get("job")
    if not job_id or not application.computation.get("computing"):
        return None
    return Job.objects.filter(pk=job_id).first()
