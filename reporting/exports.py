"""Exports for regulators: the aggregate of a period by region level in the layout of the fields file
(xlsx), and all filings of a period (CSV) — both through core.excel's formula-safe writer."""

from __future__ import annotations

import json
from decimal import Decimal

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Region, User
from core.excel import Table, xlsx_bytes
from core.scoping import subtree_prefix, visible_subtree
from core.templatetags.portal import localized

from . import selectors, services
from .choices import FilingStatus, Unit
from .models import FilingQuerySet, FilingVersion
from .periods import Period

# The statuses an aggregate may include (the user chooses; by default what is accepted or under review,
# never a returned report unless asked). An accepted report being amended counts with the accepted.
AGGREGATE_STATUSES = (FilingStatus.ACCEPTED, FilingStatus.SUBMITTED, FilingStatus.RETURNED)
AGGREGATE_DEFAULT = (FilingStatus.ACCEPTED, FilingStatus.SUBMITTED)


def aggregate_statuses(chosen) -> tuple[str, ...]:
    """The statuses asked for, in a fixed order; nothing valid asked → the default."""
    picked = tuple(s for s in AGGREGATE_STATUSES if s in set(chosen or ()))
    return picked or AGGREGATE_DEFAULT


def _with_statuses(filings, statuses):
    q = Q(status__in=statuses)
    if FilingStatus.ACCEPTED in statuses:
        q |= Q(status=FilingStatus.DRAFT, accepted_at__isnull=False)  # accepted, an amendment open
    return filings.filter(q)


def latest_values(user, period: Period):
    """[(institution, values)] of the latest submitted version per filing in the user's scope."""
    filings = selectors.filings_for(user, period).filter(first_submitted_at__isnull=False)
    versions = (
        FilingVersion.objects.filter(filing__in=filings.values("pk"), submitted_at__isnull=False)
        .order_by("filing_id", "-number")
        .select_related("filing__institution__region")
    )
    seen, out = set(), []
    for v in versions:
        if v.filing_id in seen:
            continue
        seen.add(v.filing_id)
        out.append((v.filing.institution, v))
    return out


def aggregate(user, period: Period, region_code: str, statuses=AGGREGATE_DEFAULT):
    """(fields [FieldHeading], columns, labels, {column: {code: Decimal}}, counts) summed by region level:
    the whole jurisdiction (`region_code`, "" for the whole country), then each city, with
    province/city/county-level institutions apart. Only filings in `statuses` count.

    On PostgreSQL a jurisdiction of a whole province, city or country is read from the summary the
    triggers keep (`AggregateBucket`: a few dozen rows instead of every version's values); a county's,
    and everything on SQLite, is summed from the versions themselves (`_sums_direct`)."""
    fields = services.field_headings(period)
    codes = [f.code for f in fields]
    subtree = visible_subtree(user, FilingQuerySet.scope)
    prefix = None if subtree is None else subtree_prefix(subtree) if subtree else ""
    if connection.vendor == "postgresql" and prefix is not None and len(prefix) < 6:
        sums, counts, regions = _sums_summary(period, prefix, statuses, codes)
    else:
        sums, counts = _sums_direct(user, period, statuses, codes)
        regions = Region.objects.filter(code__in=list(counts)).values_list("code", "name", "level")
    for c in TOTALS:
        sums.setdefault(c, dict.fromkeys(codes, Decimal(0)))
        counts.setdefault(c, 0)
    columns = [*TOTALS, *sorted(c for c in counts if c not in TOTALS)]
    return fields, columns, _column_labels(columns, region_code, regions), sums, counts


TOTALS = ("合计", "省级机构", "市级机构", "县级机构")  # the keys of the total columns
TOTAL_LABELS = {
    "合计": gettext_lazy("合计"),
    "省级机构": gettext_lazy("省级机构"),
    "市级机构": gettext_lazy("市级机构"),
    "县级机构": gettext_lazy("县级机构"),
}
LEVEL_COLUMNS = {"province": "省级机构", "city": "市级机构", "county": "县级机构"}


def _sums_direct(user, period: Period, statuses, codes: list[str]) -> tuple[dict, dict]:
    """The sums and counts by column from the latest submitted version of each filing in the user's
    scope: the definition the summary is checked against."""
    filings = _with_statuses(
        selectors.filings_for(user, period).filter(first_submitted_at__isnull=False), statuses
    )
    rows = (
        FilingVersion.objects.filter(filing__in=filings.values("pk"), submitted_at__isnull=False)
        .order_by("filing_id", "-number")
        .values_list("filing_id", "values", "filing__institution__region_id", "filing__institution__level")
    )
    latest = {}
    for filing_id, values, region, level in rows:
        latest.setdefault(filing_id, (values, region, level))  # first row per filing = latest version
    sums, counts = {}, {}
    for values, region, level in latest.values():
        own = {code: Decimal(values[code]) for code in codes if values.get(code) not in (None, "")}
        for c in ("合计", LEVEL_COLUMNS.get(level, "县级机构"), region[:4] + "00"):
            counts[c] = counts.get(c, 0) + 1
            target = sums.setdefault(c, dict.fromkeys(codes, Decimal(0)))
            for code, v in own.items():
                target[code] += v
    return sums, counts


def _sums_summary(period: Period, prefix: str, statuses, codes: list[str]) -> tuple[dict, dict, list]:
    """The sums and counts by column of the filings of a region subtree (`prefix` of its codes), from
    the summary: one row per bucket (`AggregateBucket`, a few dozen) with its sums as JSON text, read
    here with exact decimals, and its city's name and level, added up into the whole, each institution
    level and each city; and the cities' (code, name, level). (Turning the JSON into numbers in the
    database, or grouping the buckets there, takes it longer than reading the text here.)"""
    sql = """
        SELECT b.level, b.region, b.filings, r.name, r.level, b.sums::text
        FROM reporting_aggregatebucket b
        LEFT JOIN accounts_region r ON r.code = b.region COLLATE "default"  -- the regions' key order
        WHERE b.year = %s AND b.quarter = %s AND b.status = ANY(%s) AND b.region LIKE %s AND b.filings > 0"""
    with connection.cursor() as cur:
        cur.execute(sql, [period.year, period.quarter, list(statuses), prefix + "%"])
        rows = cur.fetchall()
    zero = Decimal(0)
    totals, counts, regions = {"合计": [zero] * len(codes)}, {"合计": 0}, {}
    for level, region, filings, region_name, region_level, text in rows:
        stored = json.loads(text, parse_float=Decimal, parse_int=Decimal)  # exact, as stored
        values = [stored.get(code, zero) for code in codes]
        if region_name is not None:
            regions[region] = (region, region_name, region_level)
        for column in ("合计", LEVEL_COLUMNS[level], region):
            counts[column] = counts.get(column, 0) + filings
            target = totals.get(column)
            totals[column] = (
                values if target is None else [a + b for a, b in zip(target, values, strict=True)]
            )
    sums = {column: dict(zip(codes, values, strict=True)) for column, values in totals.items()}
    return sums, counts, list(regions.values())


def aggregate_summary_rebuild() -> None:
    """Recompute the aggregate's summary from the filings (PostgreSQL): after a restore, or to repair."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT reporting_aggregate_rebuild()")


def _column_labels(columns: list[str], region_code: str, regions) -> dict[str, str]:
    """Column headings from the columns' regions [(code, name, level)]: cities by name; a column of
    province-level institutions (code xx0000) by the province's name too."""
    labels = {c: str(TOTAL_LABELS.get(c, c)) for c in columns}
    for code, name, level in regions:
        in_jurisdiction = level == "city" and code.startswith(region_code[:2])
        labels[code] = name if in_jurisdiction else _("%(name)s（省本级）") % {"name": name}
    return labels


def aggregate_xlsx(*, user: User, period: Period, region_code: str, statuses=AGGREGATE_DEFAULT) -> bytes:
    fields, columns, labels, sums, counts = aggregate(user, period, region_code, statuses)
    included = _("、").join(str(FilingStatus(s).label) for s in statuses)
    rows = [["", "", _("报送机构数"), "", *[counts[c] for c in columns]]]
    units = {value: str(label) for value, label in Unit.choices}  # translated once, not per field
    rows += [
        [
            f.section,
            f.code,
            localized(f, "label"),
            units.get(f.unit, f.unit),
            *[sums[c][f.code] for c in columns],
        ]
        for f in fields
    ]
    return xlsx_bytes(
        Table(
            _("汇总"),
            [_("部分"), _("字段代码"), _("项目"), _("单位"), *[labels[c] for c in columns]],
            rows,
            title=_("%(period)s 融资担保公司季度报表汇总（%(region)s；含状态：%(statuses)s）")
            % {"period": period.label, "region": region_code or _("全国"), "statuses": included},
            widths=[8, 28, 40, 8, *[16] * len(columns)],
            freeze_columns=4,
        )
    )


def filings_table(*, user: User, period: Period) -> Table:
    """The latest submitted version of every filing of the period in the user's scope, one row each:
    headers in the reader's language (field label with its code, the contract), the status as people
    read it, times in local time; values as numbers."""
    template = services.template_for(period)
    fields = services.template_fields(template)
    codes = [f.code for f in fields]
    status = dict(selectors.filings_for(user, period).values_list("pk", "status"))
    header = [
        _("统一社会信用代码"),
        _("机构名称"),
        _("地区代码"),
        _("地区"),
        _("报告期"),
        _("状态"),
        _("版本"),
        _("零报告"),
        _("报送时间"),
        _("校验规则集"),
        _("数据摘要（SHA-256）"),
        *[_("%(label)s（%(code)s）") % {"label": localized(f, "label"), "code": f.code} for f in fields],
    ]
    yes, no = _("是"), _("否")
    rows = [
        [
            inst.credit_code,
            inst.name,
            inst.region_id,
            inst.region.name,
            period.label,
            str(FilingStatus(status[v.filing_id]).label) if v.filing_id in status else "",
            v.number,
            yes if v.nil_return else no,
            timezone.localtime(v.submitted_at).strftime("%Y-%m-%d %H:%M:%S") if v.submitted_at else "",
            v.ruleset_version,
            v.values_hash,
            *[Decimal(v.values[c]) if v.values.get(c) not in (None, "") else None for c in codes],
        ]
        for inst, v in latest_values(user, period)
    ]
    return Table(_("报表"), header, rows)
