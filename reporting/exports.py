"""Exports for regulators: the aggregate of a period by region level in the layout of the fields file
(xlsx), and all filings of a period (CSV) — both through core.excel's formula-safe writer."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Region, User
from core.excel import Table, xlsx_bytes
from core.templatetags.portal import localized

from . import selectors, services
from .choices import FilingStatus, Unit
from .models import FilingVersion
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
    """(fields, columns [(label, level)], {column: {code: Decimal}}, counts) summed by region level:
    the whole jurisdiction (`region_code`, "" for the whole country), then each city, with
    province/city/county-level institutions apart. Only filings in `statuses` count."""
    template = services.template_for(period)
    fields = services.template_fields(template)
    filings = _with_statuses(
        selectors.filings_for(user, period).filter(first_submitted_at__isnull=False), statuses
    )
    codes = [f.code for f in fields]
    if connection.vendor == "postgresql":
        sums, counts, names = _sums_sql(filings, codes, region_code)
        columns = [*TOTALS, *sorted(c for c in sums if c not in TOTALS)]
        for c in TOTALS:
            sums.setdefault(c, dict.fromkeys(codes, Decimal(0)))
            counts.setdefault(c, 0)
        return fields, columns, _column_labels(columns, names), sums, counts
    rows = (
        FilingVersion.objects.filter(filing__in=filings.values("pk"), submitted_at__isnull=False)
        .order_by("filing_id", "-number")
        .values_list("filing_id", "values", "filing__institution__region_id", "filing__institution__level")
    )
    latest = {}
    for filing_id, values, region, level in rows:
        latest.setdefault(filing_id, (values, region, level))  # first row per filing = latest version
    cities = Region.objects.filter(level="city")  # the whole country for a jurisdiction of ""
    names = dict(cities.filter(code__startswith=region_code[:2]).values_list("code", "name"))
    columns = (
        ["合计"]
        + [f"{lvl}级机构" for lvl in ("省", "市", "县")]
        + sorted({r[:4] + "00" for _v, r, _l in latest.values()})
    )
    sums = {c: dict.fromkeys(codes, Decimal(0)) for c in columns}
    counts = dict.fromkeys(columns, 0)
    level_col = {"province": "省级机构", "city": "市级机构", "county": "县级机构"}
    for values, region, level in latest.values():
        own = {code: Decimal(values[code]) for code in codes if values.get(code) not in (None, "")}
        for c in ("合计", level_col.get(level, "县级机构"), region[:4] + "00"):
            counts[c] += 1
            target = sums[c]
            for code, v in own.items():
                target[code] += v
    return fields, columns, _column_labels(columns, names), sums, counts


def _column_labels(columns: list[str], names: dict[str, str]) -> dict[str, str]:
    """Column headings: cities by name; a column of province-level institutions (code xx0000) by the
    province's name too."""
    names = dict(names)
    others = [c for c in columns if c[:1].isdigit() and c not in names]
    names.update(
        {
            code: _("%(name)s（省本级）") % {"name": name}
            for code, name in Region.objects.filter(code__in=others).values_list("code", "name")
        }
    )
    return {c: names.get(c) or str(TOTAL_LABELS.get(c, c)) for c in columns}


TOTALS = ("合计", "省级机构", "市级机构", "县级机构")  # the keys of the total columns
TOTAL_LABELS = {
    "合计": gettext_lazy("合计"),
    "省级机构": gettext_lazy("省级机构"),
    "市级机构": gettext_lazy("市级机构"),
    "县级机构": gettext_lazy("县级机构"),
}


def _sums_sql(filings, codes: list[str], region_code: str) -> tuple[dict, dict, dict]:
    """`aggregate`'s sums, counts and city names in one PostgreSQL statement: the latest submitted
    version of each filing, its cells summed exactly (numeric) over grouping sets — all, institution
    level, city (named when it lies in the jurisdiction)."""
    inner, params = filings.order_by().values("pk").query.sql_with_params()
    # each version's JSON is read once (jsonb_each_text), not once per cell: a large jsonb value is
    # decompressed again by every ->> on it
    sql = f"""
        WITH latest AS (
            SELECT DISTINCT ON (v.filing_id) v.filing_id, v."values" AS v,
                   CASE i.level WHEN 'province' THEN '省级机构' WHEN 'city' THEN '市级机构'
                        ELSE '县级机构' END AS lvl,
                   left(i.region_id, 4) || '00' AS city
            FROM reporting_filingversion v
            JOIN reporting_filing f ON f.id = v.filing_id
            JOIN institutions_institution i ON i.id = f.institution_id
            WHERE v.submitted_at IS NOT NULL AND v.filing_id IN ({inner})
            ORDER BY v.filing_id, v.number DESC)
        SELECT GROUPING(x.lvl), GROUPING(x.city), x.lvl, x.city, NULL, count(*)::numeric
        FROM latest x GROUP BY GROUPING SETS ((), (x.lvl), (x.city))
        UNION ALL
        SELECT GROUPING(x.lvl), GROUPING(x.city), x.lvl, x.city, e.key,
               COALESCE(sum(NULLIF(e.value, '')::numeric), 0)
        FROM latest x CROSS JOIN LATERAL jsonb_each_text(x.v) e
        WHERE e.key = ANY(%s)
        GROUP BY GROUPING SETS ((e.key), (x.lvl, e.key), (x.city, e.key))"""  # noqa: S608 (ORM subquery)
    sums, counts, names = {}, {}, {}
    with connection.cursor() as cur:
        cur.execute(sql, [*params, codes])
        for g_lvl, g_city, lvl, city, code, value in cur.fetchall():
            column = "合计" if g_lvl and g_city else (city if g_lvl else lvl)
            if code is None:
                counts[column] = int(value)
                sums[column] = dict.fromkeys(codes, Decimal(0))
            else:
                sums.setdefault(column, dict.fromkeys(codes, Decimal(0)))[code] = value
        cities = [c for c in counts if c not in TOTALS]
        cur.execute(
            "SELECT code, name FROM accounts_region WHERE level = 'city' AND code = ANY(%s) AND code LIKE %s",
            [cities, region_code[:2] + "%"],
        )
        names = dict(cur.fetchall())
    return sums, counts, names


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
