"""Reads behind the indicator pages and API. Every query starts from `for_user(user)`; each function
issues a fixed number of queries whatever the number of institutions (aggregation happens in the
database or over one values list)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Avg, Count
from django.urls import reverse
from django.utils.http import urlencode

from accounts.models import Region
from core.policy import PolicyMissing
from core.scoping import region_subtree_q
from reporting.models import Filing, values_as_decimals
from reporting.periods import Period

from . import indicators as ind
from . import rules
from .models import (
    PERIOD_INDEXED,
    SEVERITY_RANK,
    Comparator,
    IndicatorBreach,
    IndicatorRun,
    IndicatorValue,
    Severity,
    Threshold,
)
from .services.compute import Policy

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from django.http import HttpRequest

    from core.roles import Actor
    from institutions.models import Institution

D = Decimal
# Buckets for the distribution charts: (label, low inclusive, high exclusive); None = open end.
LEVERAGE_BUCKETS = [
    ("<1", None, D(1)),
    ("1–3", D(1), D(3)),
    ("3–5", D(3), D(5)),
    ("5–7", D(5), D(7)),
    ("7–10", D(7), D(10)),
    ("10–15", D(10), D(15)),
    ("≥15", D(15), None),
]
FEE_BUCKETS = [
    ("<0.5%", None, D("0.005")),
    ("0.5–1%", D("0.005"), D("0.01")),
    ("1–1.5%", D("0.01"), D("0.015")),
    ("1.5–2%", D("0.015"), D("0.02")),
    ("2–3%", D("0.02"), D("0.03")),
    ("≥3%", D("0.03"), None),
]
SHARE_BUCKETS = [
    ("<50%", None, D("0.5")),
    ("50–80%", D("0.5"), D("0.8")),
    ("80–90%", D("0.8"), D("0.9")),
    ("≥90%", D("0.9"), None),
]
PEER_CODES = list(PERIOD_INDEXED)  # the charted indicators are the ones indexed by period


def periods(user: Actor, n: int = 8) -> list[Period]:
    """The latest `n` periods with computed filings visible to the user, oldest first."""
    rows = (
        IndicatorRun.objects.for_user(user)
        .values_list("year", "quarter")
        .distinct()
        .order_by("-year", "-quarter")[:n]
    )
    return sorted(Period(y, q) for y, q in rows)


def drill_url(**params) -> str:
    return (
        reverse("supervision:indicator_drill")
        + "?"
        + urlencode({k: v for k, v in params.items() if v is not None})
    )


def _bucket_of(value: Decimal | None, buckets: Sequence[tuple]) -> str | None:
    for label, lo, hi in buckets:
        if (lo is None or value >= lo) and (hi is None or value < hi):
            return label
    return None


def distribution(
    user: Actor, period: Period, code: str, buckets: Sequence[tuple], *, gov_backed_only: bool = False
) -> list[dict]:
    qs = IndicatorValue.objects.for_user(user).of_periods([(period.year, period.quarter)], [code])
    if gov_backed_only:
        qs = qs.filter(filing__indicator_run__gov_backed=True)
    counts = Counter()
    undefined = 0
    for value in qs.values_list("value", flat=True):
        if value is None:
            undefined += 1
        else:
            counts[_bucket_of(value, buckets)] += 1
    rows = [
        {
            "name": label,
            "value": counts.get(label, 0),
            "url": drill_url(period=str(period), code=code, lo=lo, hi=hi, gov=1 if gov_backed_only else None),
        }
        for label, lo, hi in buckets
    ]
    rows.append(
        {
            "name": "—",
            "value": undefined,
            "url": drill_url(period=str(period), code=code, undefined=1, gov=1 if gov_backed_only else None),
        }
    )
    return rows


def trends(user: Actor, period_list: list[Period], codes: list[str]) -> dict:
    """Mean of each indicator over the institutions per period (one query)."""
    if not period_list:
        return {"periods": [], "series": []}
    rows = (
        IndicatorValue.objects.for_user(user)
        .of_periods([(p.year, p.quarter) for p in period_list], codes)
        .filter(value__isnull=False)
        .values("year", "quarter", "code")
        .annotate(avg=Avg("value"))
    )
    avg = {(r["code"], Period(r["year"], r["quarter"])): r["avg"] for r in rows}
    series = []
    for code in codes:
        data = []
        for p in period_list:
            v = avg.get((code, p))
            data.append(
                {
                    "value": None if v is None else float(round(Decimal(v) * 100, 3)),
                    "url": drill_url(period=str(p), code=code),
                }
            )
        series.append({"code": code, "name": ind.INDICATORS[code].name, "data": data})
    return {"periods": [str(p) for p in period_list], "series": series}


def breaches_by_rule(user: Actor, period: Period) -> list[dict]:
    rows = (
        IndicatorBreach.objects.for_user(user)
        .filter(year=period.year, quarter=period.quarter)
        .values("threshold__code", "severity")
        .annotate(n=Count("id"))
        .order_by("-n", "threshold__code")
    )
    return [
        {
            "name": r["threshold__code"],
            "value": r["n"],
            "severity": r["severity"],
            "url": drill_url(period=str(period), rule=r["threshold__code"]),
        }
        for r in rows
    ]


def breaches_by_city(user: Actor, period: Period) -> list[dict]:
    regions = (
        IndicatorBreach.objects.for_user(user)
        .filter(year=period.year, quarter=period.quarter, severity__in=["breach", "warning"])
        .values_list("institution__region_id", flat=True)
    )
    # a city regulator sees its counties; everyone else cities
    by_county = (
        bool(getattr(user, "region_id", None))
        and user.region_id.endswith("00")
        and not user.region_id.endswith("0000")
    )
    per_city = Counter(code if by_county else code[:4] + "00" for code in regions)
    names = dict(Region.objects.filter(code__in=per_city).values_list("code", "name"))
    return [
        {"name": names.get(c, c), "value": n, "url": drill_url(period=str(period), city=c)}
        for c, n in sorted(per_city.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def quartiles(values: list[Decimal]) -> dict | None:
    if not values:
        return None
    values = sorted(values)
    if len(values) == 1:
        q1 = med = q3 = values[0]
    else:
        q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {"min": values[0], "q1": q1, "median": med, "q3": q3, "max": values[-1], "n": len(values)}


def peer_position(
    user: Actor, institution: Institution, period: Period, codes: Sequence[str] | None = PEER_CODES
) -> list[dict]:
    """The institution's values against its city's peers visible to the user (two queries)."""
    city = institution.region_id[:4] + "00"
    rows = (
        IndicatorValue.objects.for_user(user)
        .of_periods([(period.year, period.quarter)], codes)
        .filter(
            region_subtree_q("institution__region_id", city),
            value__isnull=False,
        )
        .values_list("institution_id", "code", "value")
    )
    by_code = defaultdict(list)
    own = {}
    for inst_id, code, value in rows:
        by_code[code].append(value)
        if inst_id == institution.pk:
            own[code] = value
    out = []
    for code in codes:
        values = by_code.get(code, [])
        stats = quartiles(values)
        mine = own.get(code)
        rank = None
        if mine is not None and values:
            rank = round(100 * sum(1 for v in values if v <= mine) / len(values))
        out.append(
            {"code": code, "indicator": ind.INDICATORS[code], "value": mine, "stats": stats, "rank": rank}
        )
    return out


def institution_series(
    user: Actor, institution_id: int, codes: Sequence[str] | None = None, n: int = 8
) -> tuple[list, list]:
    """{period: {code: value}} for the institution's latest `n` computed periods (two queries)."""
    runs = list(
        IndicatorRun.objects.for_user(user)
        .filter(institution_id=institution_id)
        .order_by("-year", "-quarter")[:n]
    )
    runs.reverse()
    filing_ids = [r.filing_id for r in runs]
    values = IndicatorValue.objects.filter(filing_id__in=filing_ids)
    if codes:
        values = values.filter(code__in=codes)
    table = defaultdict(dict)
    for fid, code, value in values.values_list("filing_id", "code", "value"):
        table[fid][code] = value
    return runs, table


def thresholds_for_run(run: IndicatorRun, thresholds: Iterable) -> list:
    period = Period(run.year, run.quarter)
    subject = rules.Subject(
        run.region_code, period.end, run.quarter, run.gov_backed, run.small_business_focus
    )
    return [t for t in thresholds if rules.threshold_applies(t, subject)]


def base_findings(filing: Filing) -> dict[str, ind.NonPositiveBase]:
    """{code: finding} for the filing's ratios over capital or assets whose base is zero or negative —
    why an undefined value breaches — recomputed from its current values with the parameters in force at
    its period end (one query for the parameters)."""
    if filing.current_version is None:
        return {}
    exact = ind.compute_exact(
        values_as_decimals(filing.current_version.values), Policy(thresholds=[]).params(filing.period.end)
    )
    return {code: v for code, v in exact.items() if isinstance(v, ind.NonPositiveBase)}


def all_thresholds() -> list[Threshold]:
    return list(Threshold.objects.all())


def leverage_cap(run: IndicatorRun, applying: list[Threshold]) -> Threshold:
    """The leverage cap that binds a run's institution: the lowest upper limit of breach severity among
    the thresholds that apply to it (PolicyMissing when none is in force)."""
    caps = [
        t
        for t in applying
        if t.indicator == "leverage"
        and t.severity == Severity.BREACH
        and t.comparator in (Comparator.LE, Comparator.LT)
    ]
    if not caps:
        raise PolicyMissing(Threshold, "leverage", run.region_code, Period(run.year, run.quarter).end)
    return min(caps, key=lambda t: t.value)


def filing_results(filing: Filing) -> tuple[dict[str, Decimal], dict[str, list[IndicatorBreach]]]:
    """A filing's stored indicator values, and its breaches by indicator ordered by threshold code
    (two queries): the filing panel and the API read the same results."""
    values = dict(IndicatorValue.objects.filter(filing=filing).values_list("code", "value"))
    breaches: dict[str, list[IndicatorBreach]] = {}
    for b in (
        IndicatorBreach.objects.filter(filing=filing).select_related("threshold").order_by("threshold__code")
    ):
        breaches.setdefault(b.indicator, []).append(b)
    return values, breaches


def filing_summary(filing: Filing) -> dict:
    """Indicators of one filing with their breaches, for the panel on the filing's pages (two queries)."""
    values, breaches = filing_results(filing)
    rows = [
        {"code": c, "def": d, "value": values[c], "breaches": [b.threshold for b in breaches.get(c, [])]}
        for c, d in ind.INDICATORS.items()
        if c in values
    ]
    return {"filing": filing, "rows": rows}


def institution_tab(request: HttpRequest, institution: Institution) -> dict:
    """Context of the institution page's indicators tab: the latest eight computed quarters, each with the
    thresholds its filing breached or missed, most severe first (two queries)."""
    runs = list(
        IndicatorRun.objects.for_user(request.user)
        .filter(institution=institution)
        .select_related("filing")
        .order_by("-year", "-quarter")[:8]
    )
    findings: dict[int, list] = {}
    for b in (
        IndicatorBreach.objects.filter(filing_id__in=[r.filing_id for r in runs])
        .select_related("threshold")
        .order_by("threshold__code")
    ):
        findings.setdefault(b.filing_id, []).append(b)
    for run in runs:
        run.findings = sorted(findings.get(run.filing_id, []), key=lambda b: SEVERITY_RANK[b.severity])
    return {"runs": runs}


# --- supervisory measures ---------------------------------------------------------------------------


def institution_measures_tab(request: HttpRequest, institution: Institution) -> dict:
    """Context of the institution page's measures tab: its measures, newest first (one query)."""
    from .models import Measure
    from .permissions import may_propose_measure

    measures = (
        Measure.objects.for_user(request.user)
        .filter(institution=institution)
        .select_related("measure_type")
        .order_by("-created_at", "-pk")[:50]
    )
    return {"measures": measures, "may_propose": may_propose_measure(request.user, institution)}


def inbox_tasks(user) -> list:
    """What waits for `user` in supervision (a fixed number of queries): a regulator's open warning cases,
    measures to approve (at its level), answers to review and measures past their deadline; a company's
    measures to acknowledge and to answer."""
    from django.db.models import Count, Min
    from django.urls import reverse
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from core.inbox import Task
    from core.roles import Role, is_company_user, role_of

    from .models import (
        ApprovalLevel,
        Measure,
        MeasureStatus,
        Rating,
        RatingStatus,
    )
    from .permissions import approval_authority

    tasks = []
    measures_url = reverse("supervision:measures")
    if is_company_user(user):
        rows = (
            Measure.objects.for_user(user)
            .filter(
                status__in=[MeasureStatus.ISSUED, MeasureStatus.ACKNOWLEDGED, MeasureStatus.MORE_REQUESTED]
            )
            .aggregate(n=Count("pk"), due=Min("deadline"))
        )
        if rows["n"]:
            tasks.append(
                Task(
                    "measure.answer",
                    _("监管措施待签收和答复"),
                    measures_url + "?due=1",
                    rows["n"],
                    rows["due"],
                )
            )
        rating = (
            Rating.objects.for_user(user)
            .filter(status=RatingStatus.CONFIRMED, objection_until__gte=timezone.localdate())
            .first()
        )
        if rating is not None:
            tasks.append(
                Task(
                    "rating.objection",
                    _("分类评级结果已出，可在异议期内提出异议"),
                    reverse("supervision:rating_detail", args=[rating.pk]),
                    1,
                    rating.objection_until,
                )
            )
        return tasks
    if role_of(user) not in (Role.REGULATOR, Role.ADMIN):
        return tasks
    # warning cases: supervision/inbox.py
    level = approval_authority(user)
    if level:
        to_approve = (
            Measure.objects.for_user(user, "change")
            .filter(status=MeasureStatus.PROPOSED)
            .exclude(proposed_by=user)
        )
        if level != ApprovalLevel.PROVINCE:
            to_approve = to_approve.filter(measure_type__approval_level=ApprovalLevel.CITY)
        n = to_approve.count()
        if n:
            tasks.append(Task("measure.approve", _("监管措施待审批"), measures_url + "?status=proposed", n))
    mine = Measure.objects.for_user(user, "change")
    answered = mine.filter(status=MeasureStatus.ANSWERED).count()
    if answered:
        tasks.append(
            Task(
                "measure.review", _("企业已答复的监管措施待验收"), measures_url + "?status=answered", answered
            )
        )
    overdue = mine.filter(
        status__in=[MeasureStatus.ISSUED, MeasureStatus.ACKNOWLEDGED, MeasureStatus.MORE_REQUESTED],
        deadline__lt=timezone.localdate(),
    ).aggregate(n=Count("pk"), due=Min("deadline"))
    if overdue["n"]:
        tasks.append(
            Task(
                "measure.overdue",
                _("已逾期未答复的监管措施"),
                measures_url + "?due=1",
                overdue["n"],
                overdue["due"],
            )
        )
    if user.region_id and user.region_id.endswith("0000"):  # the province reports to the national regulator
        from .annual_report import deadlines

        today = timezone.localdate()
        report_url = reverse("supervision:annual_report")
        for kind, label, due in deadlines(today):
            if (due - today).days <= 30:
                tasks.append(Task(kind, label, report_url, 1, due))
    to_confirm = (
        Rating.objects.for_user(user, "change")
        .filter(status=RatingStatus.DRAFT)
        .exclude(drafted_by=user)
        .count()
    )
    if to_confirm:
        tasks.append(
            Task("rating.confirm", _("分类评级待复核确认"), reverse("supervision:ratings"), to_confirm)
        )
    return tasks


def institution_rating_tab(request: HttpRequest, institution: Institution) -> dict:
    """Context of the institution page's rating tab: its latest rating the user may see and what that
    grade means (inspection and report frequency, benefits) — two queries."""
    from .models import GradeBand, Rating

    rating = Rating.objects.for_user(request.user).filter(institution=institution).order_by("-year").first()
    band = GradeBand.objects.filter(sheet_id=rating.sheet_id, grade=rating.grade).first() if rating else None
    return {"rating": rating, "band": band}


def amendment_comparison(filing: Filing) -> dict:
    """The shown version against the version it replaces (the latest earlier submitted one: the accepted
    version an amendment corrects, or the returned one a resubmission answers), cell by cell and indicator
    by indicator, for the panel on the filing and review pages. Nothing for a first version."""
    from reporting.models import FilingVersion
    from reporting.services import template_fields

    from .services.compute import params_on

    version = filing.current_version
    if version is None or version.number < 2:
        return {"base": None}
    base = (
        FilingVersion.objects.filter(filing=filing, number__lt=version.number, submitted_at__isnull=False)
        .order_by("-number")
        .first()
    )
    if base is None:
        return {"base": None}
    old, new = base.decimal_values(), version.decimal_values()
    cells = [
        {"field": f, "old": base.values.get(f.code), "new": version.values.get(f.code)}
        for f in template_fields(filing.template)
        if old.get(f.code) != new.get(f.code)
    ]
    params = params_on(filing.period.end)
    old_ind, new_ind = ind.compute_exact(old, params), ind.compute_exact(new, params)
    indicators = [
        {"code": c, "def": d, "old": old_ind.get(c), "new": new_ind.get(c)}
        for c, d in ind.INDICATORS.items()
        if old_ind.get(c) != new_ind.get(c)
    ]
    accepted = base.reviewed_at is not None and not base.review_comments
    return {
        "filing": filing,
        "version": version,
        "base": base,
        "accepted": accepted,
        "cells": cells,
        "indicators": indicators,
    }
