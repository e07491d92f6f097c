"""The annual supervision and development report (规程 art. 21, due 15 February), the quarterly province
submission pack (25 days after quarter end) and the annual table (end of January): figures from the
database for a region and a period, narrative parts saved with history, exported to docx and PDF.

The provincial report rolls up its cities (a table of each city's figures); data sections come from the
registry in report_sections.py, where higher apps add theirs."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from accounts.models import Region
from core.scoping import region_level, region_subtree_q
from institutions.choices import InstitutionStatus
from institutions.models import Institution, Licence
from reporting.models import Filing
from reporting.periods import Period

from .documents import Doc
from .models import (
    IndicatorBreach,
    IndicatorValue,
    Inspection,
    Measure,
    NonFilerList,
    Rating,
    ReportNarrative,
    WarningCase,
)
from .report_sections import PARTS, ReportSection, SectionContent, Table, register_section, sections

ANNUAL_DUE = (2, 15)  # 15 February of the next year
TABLE_DUE = (1, 31)  # end of January
PACK_DAYS = 25  # days after quarter end


def _wan(x) -> str:
    return f"{Decimal(x or 0):,.2f}"


def _in(lookup: str, region_code: str, exact: bool = False) -> Q:
    """Rows of the region's subtree, or of the region itself only (`exact`: the province's own level)."""
    return Q(**{lookup: region_code}) if exact else region_subtree_q(lookup, region_code)


def _institutions(user, region_code: str, exact: bool = False):
    return Institution.objects.for_user(user).filter(_in("region_id", region_code, exact))


def _year_end_filings(user, region_code: str, year: int):
    return Filing.objects.for_user(user).filter(
        region_subtree_q("institution__region_id", region_code),
        year=year,
        quarter=4,
        first_submitted_at__isnull=False,
    )


def in_force_balance(user, region_code: str, year: int, quarter: int = 4, exact: bool = False) -> Decimal:
    """Σ 融资担保在保余额 (fin_balance, 万元) of the quarter's submitted filings in the region."""
    total = Decimal(0)
    for values in (
        Filing.objects.for_user(user)
        .filter(
            _in("institution__region_id", region_code, exact),
            year=year,
            quarter=quarter,
            first_submitted_at__isnull=False,
        )
        .values_list("current_version__values", flat=True)
    ):
        raw = (values or {}).get("fin_balance")
        if raw not in (None, ""):
            total += Decimal(str(raw))
    return total


def city_figures(user, region_code: str, year: int, exact: bool = False) -> dict:
    """The headline figures of one region for the year (used for each city in the provincial roll-up;
    `exact` for the institutions registered at the province itself)."""
    inst = _institutions(user, region_code, exact).filter(status=InstitutionStatus.OPERATING)
    agg = inst.aggregate(n=Count("pk"), reg=Sum("registered_capital"), paid=Sum("paid_in_capital"))
    where = _in("institution__region_id", region_code, exact)
    return {
        "institutions": agg["n"],
        "registered_capital": agg["reg"] or Decimal(0),
        "paid_in_capital": agg["paid"] or Decimal(0),
        "in_force": in_force_balance(user, region_code, year, exact=exact),
        "warnings": WarningCase.objects.for_user(user).filter(where, first_year=year).count(),
        "measures": Measure.objects.for_user(user).filter(where, issued_at__year=year).count(),
    }


# --- the supervision app's own sections -------------------------------------------------------------


def overview(user, region_code: str, year: int) -> SectionContent:
    f = city_figures(user, region_code, year)
    licences = Licence.objects.for_user(user).filter(region_subtree_q("institution__region_id", region_code))
    issued = licences.filter(issued_on__year=year).count()
    cancelled = licences.filter(cancelled_on__year=year).count()
    revoked = licences.filter(revoked_on__year=year).count()
    content = SectionContent(
        lines=[
            _(
                "截至%(year)s年末，辖内正常经营的融资担保公司%(n)s家，注册资本合计%(reg)s万元，实缴资本合计%(paid)s万元；"
                "融资担保在保余额%(bal)s万元。"
            )
            % {
                "year": year,
                "n": f["institutions"],
                "reg": _wan(f["registered_capital"]),
                "paid": _wan(f["paid_in_capital"]),
                "bal": _wan(f["in_force"]),
            },
            _("全年新颁发经营许可证%(i)s张，注销%(c)s张，吊销%(r)s张。")
            % {"i": issued, "c": cancelled, "r": revoked},
        ],
        figures={
            **f,
            "licences_issued": issued,
            "licences_cancelled": cancelled,
            "licences_revoked": revoked,
        },
    )
    if region_level(region_code) == "province":  # the provincial report rolls up its cities
        rows = []
        units = [(_("省本级"), region_code, True)] + [
            (c.name, c.code, False) for c in Region.objects.filter(parent_id=region_code).order_by("code")
        ]
        for name, code, exact in units:
            cf = city_figures(user, code, year, exact=exact)
            if cf["institutions"] or cf["in_force"]:
                rows.append(
                    [
                        name,
                        cf["institutions"],
                        _wan(cf["registered_capital"]),
                        _wan(cf["in_force"]),
                        cf["warnings"],
                        cf["measures"],
                    ]
                )
        content.tables.append(
            Table(
                [
                    _("市（州）"),
                    _("机构数"),
                    _("注册资本（万元）"),
                    _("在保余额（万元）"),
                    _("新增预警"),
                    _("监管措施"),
                ],
                rows,
                _("各市（州）情况"),
            )
        )
        content.figures["cities"] = len(rows)
    return content


def supervision_work(user, region_code: str, year: int) -> SectionContent:
    in_region = region_subtree_q("institution__region_id", region_code)
    cases = WarningCase.objects.for_user(user).filter(in_region, first_year=year)
    by_rule = Counter(cases.values_list("threshold__code", flat=True))
    measures = Measure.objects.for_user(user).filter(in_region, issued_at__year=year)
    by_type = Counter(measures.values_list("measure_type__name", flat=True))
    inspections = Inspection.objects.for_user(user).filter(in_region, start_date__year=year).count()
    grades = Counter(
        Rating.objects.for_user(user).filter(in_region, year=year).values_list("grade", flat=True)
    )
    content = SectionContent(
        lines=[
            _(
                "全年新发生风险预警%(n)s件（年末仍在处理%(open)s件），采取监管措施%(m)s项，开展现场检查%(i)s次。"
            )
            % {
                "n": sum(by_rule.values()),
                "open": cases.exclude(status="closed").count(),
                "m": sum(by_type.values()),
                "i": inspections,
            },
            _("分类评级：A级%(a)s家、B级%(b)s家、C级%(c)s家、D级%(d)s家。")
            % {g.lower(): grades.get(g, 0) for g in "ABCD"},
        ],
        tables=[
            Table(
                [_("规则"), _("预警数")],
                sorted(by_rule.items(), key=lambda r: (-r[1], r[0]))[:15],
                _("预警按规则"),
            ),
            Table(
                [_("措施类型"), _("数量")],
                sorted(by_type.items(), key=lambda r: (-r[1], r[0])),
                _("监管措施按类型"),
            ),
        ],
        chart={
            "title": str(_("分类评级分布")),
            "labels": list("ABCD"),
            "values": [grades.get(g, 0) for g in "ABCD"],
        },
        figures={
            "warnings": sum(by_rule.values()),
            "measures": sum(by_type.values()),
            "inspections": inspections,
            "grades": {g: grades.get(g, 0) for g in "ABCD"},
        },
    )
    return content


def development(user, region_code: str, year: int) -> SectionContent:
    shares = list(
        IndicatorValue.objects.for_user(user)
        .of_periods([(year, 4)], ["support_share_amount"])
        .filter(region_subtree_q("institution__region_id", region_code))
        .exclude(value=None)
        .values_list("value", flat=True)
    )
    average = sum(shares, Decimal(0)) / len(shares) if shares else None
    high = sum(1 for s in shares if s >= Decimal("0.8"))
    return SectionContent(
        lines=[
            _("年末支小支农担保金额占比平均为%(avg)s，达到80%%的机构%(n)s家。")
            % {"avg": f"{average * 100:.2f}%" if average is not None else "—", "n": high}
        ],
        figures={"support_share_average": average, "support_share_80": high},
    )


LEVERAGE_BANDS = [
    ("<3", None, Decimal(3)),
    ("3–5", Decimal(3), Decimal(5)),
    ("5–10", Decimal(5), Decimal(10)),
    ("≥10", Decimal(10), None),
]


def risks(user, region_code: str, year: int) -> SectionContent:
    in_region = region_subtree_q("institution__region_id", region_code)
    leverage = list(
        IndicatorValue.objects.for_user(user)
        .of_periods([(year, 4)], ["leverage"])
        .filter(in_region)
        .exclude(value=None)
        .values_list("value", flat=True)
    )
    counts = [
        sum(1 for v in leverage if (lo is None or v >= lo) and (hi is None or v < hi))
        for _l, lo, hi in LEVERAGE_BANDS
    ]
    breaches = Counter(
        IndicatorBreach.objects.for_user(user)
        .filter(in_region, year=year, quarter=4, severity__in=["breach", "warning"])
        .values_list("threshold__code", flat=True)
    )
    return SectionContent(
        lines=[
            _("第四季度末共有%(n)s项指标违规或预警，涉及规则%(r)s条。")
            % {"n": sum(breaches.values()), "r": len(breaches)}
        ],
        tables=[
            Table(
                [_("放大倍数"), _("机构数")],
                [[label, n] for (label, _lo, _hi), n in zip(LEVERAGE_BANDS, counts, strict=True)],
                _("放大倍数分布（第四季度）"),
            ),
            Table(
                [_("规则"), _("违规/预警数")],
                sorted(breaches.items(), key=lambda r: (-r[1], r[0])),
                _("第四季度指标违规"),
            ),
        ],
        chart={
            "title": str(_("放大倍数分布（第四季度）")),
            "labels": [b[0] for b in LEVERAGE_BANDS],
            "values": counts,
        },
        figures={
            "q4_breaches": sum(breaches.values()),
            "leverage": dict(zip([b[0] for b in LEVERAGE_BANDS], counts, strict=True)),
        },
    )


def violations(user, region_code: str, year: int) -> SectionContent:
    in_region = region_subtree_q("institution__region_id", region_code)
    revoked = list(
        Licence.objects.for_user(user)
        .filter(in_region, revoked_on__year=year)
        .values_list("institution__name", flat=True)
    )
    severe = (
        Measure.objects.for_user(user)
        .filter(in_region, issued_at__year=year, measure_type__approval_level="province")
        .count()
    )
    lists = NonFilerList.objects.for_user(user).filter(
        region_subtree_q("region_id", region_code), year=year, status="published"
    )
    listed = sum(lst.entries.filter(included=True).count() for lst in lists)
    return SectionContent(
        lines=[
            _(
                "全年吊销经营许可证%(n)s家%(names)s；采取需省级审批的监管措施%(s)s项；通报未按时报送监管报表机构%(l)s家次。"
            )
            % {
                "n": len(revoked),
                "names": f"（{'、'.join(revoked)}）" if revoked else "",
                "s": severe,
                "l": listed,
            }
        ],
        figures={"revoked": len(revoked), "severe_measures": severe, "nonfilers_listed": listed},
    )


def _register_own() -> None:
    register_section(ReportSection("overview", "overview", _("机构、资本和业务"), overview, order=10))
    register_section(
        ReportSection(
            "supervision", "supervision", _("预警、监管措施、现场检查和分类评级"), supervision_work, order=10
        )
    )
    register_section(
        ReportSection("development", "development", _("服务小微和“三农”"), development, order=10)
    )
    register_section(ReportSection("risks", "risks", _("指标分布和违规"), risks, order=10))
    register_section(ReportSection("violations", "violations", _("违法违规处理"), violations, order=10))


_register_own()


# --- the report ---------------------------------------------------------------------------------------


def narratives(region_code: str, year: int) -> dict[str, ReportNarrative]:
    """The latest saved text of each part."""
    latest = {}
    for n in ReportNarrative.objects.filter(region_id=region_code, year=year).select_related("author"):
        latest.setdefault(n.part, n)
    return latest


def build_report(user, region_code: str, year: int) -> list[dict]:
    """[{key, title, sections: [(section, content)], narrative}] for the eight parts."""
    texts = narratives(region_code, year)
    parts = []
    for key, title in PARTS:
        built = []
        for section in sections(key):
            content = section.build(user, region_code, year)
            if content is not None:
                built.append((section, content))
        parts.append({"key": key, "title": str(title), "sections": built, "narrative": texts.get(key)})
    return parts


def report_document(region: Region, year: int, parts: list[dict]) -> Doc:
    doc = Doc(
        title=_("%(region)s融资担保行业%(year)s年度监管与发展报告") % {"region": region.name, "year": year}
    )
    doc.subtitle = _("（依据《融资担保公司非现场监管规程》第二十一条）")
    for part in parts:
        doc.heading(part["title"])
        for section, content in part["sections"]:
            doc.subheading(str(section.title))
            for line in content.lines:
                doc.paragraph(line)
            for table in content.tables:
                if table.title:
                    doc.paragraph(str(table.title))
                doc.table(table.header, table.rows or [["—"] * len(table.header)])
        if part["narrative"] and part["narrative"].text:
            doc.paragraph(part["narrative"].text)
    return doc


def deadlines(today: dt.date) -> list[tuple[str, str, dt.date]]:
    """The province's submissions to the national regulator with their next due dates:
    (kind, label, due) — the quarterly pack, the annual table and the annual report."""
    last = Period.containing(today).previous()
    pack_due = last.end + dt.timedelta(days=PACK_DAYS)
    year = today.year if today <= dt.date(today.year, *ANNUAL_DUE) else today.year + 1
    table_year = today.year if today <= dt.date(today.year, *TABLE_DUE) else today.year + 1
    return [
        ("report.quarter_pack", _("%(p)s季度监管报送材料") % {"p": last.label}, pack_due),
        ("report.annual_table", _("%(y)s年度报表") % {"y": table_year - 1}, dt.date(table_year, *TABLE_DUE)),
        ("report.annual", _("%(y)s年度监管与发展报告") % {"y": year - 1}, dt.date(year, *ANNUAL_DUE)),
    ]


def quarter_pack_document(user, region: Region, period: Period) -> Doc:
    """The quarterly submission pack: filing completeness, in-force business, breaches, warnings, measures."""
    from reporting.selectors import completeness

    board = completeness(user, period)
    c = board["counts"]
    in_region = region_subtree_q("institution__region_id", region.code)
    breaches = Counter(
        IndicatorBreach.objects.for_user(user)
        .filter(in_region, year=period.year, quarter=period.quarter, severity__in=["breach", "warning"])
        .values_list("threshold__code", flat=True)
    )
    measures = Measure.objects.for_user(user).filter(
        in_region, issued_at__date__gte=period.start, issued_at__date__lte=period.end
    )
    doc = Doc(title=_("%(region)s%(p)s融资担保公司监管报送材料") % {"region": region.name, "p": period.label})
    doc.heading(_("一、报表报送情况"))
    doc.paragraph(
        _("应报%(o)s家，已报%(f)s家（逾期%(l)s家），未报%(m)s家。")
        % {"o": c["obliged"], "f": c["filed"], "l": c["late"], "m": c["missing"]}
    )
    doc.heading(_("二、业务情况"))
    doc.paragraph(
        _("在保余额%(b)s万元。")
        % {"b": _wan(in_force_balance(user, region.code, period.year, period.quarter))}
    )
    doc.heading(_("三、监管指标违规和预警"))
    doc.table([_("规则"), _("数量")], sorted(breaches.items(), key=lambda r: (-r[1], r[0])) or [["—", 0]])
    doc.heading(_("四、监管措施"))
    doc.paragraph(_("本季度下达监管措施%(n)s项。") % {"n": measures.count()})
    return doc


def annual_table_rows(user, region_code: str, year: int) -> list[list]:
    """One row per institution: capital, year-end net assets and in-force balance, leverage, grade."""
    insts = list(
        _institutions(user, region_code)
        .filter(status=InstitutionStatus.OPERATING)
        .order_by("region_id", "name")
    )
    values = {
        i: v or {}
        for i, v in _year_end_filings(user, region_code, year).values_list(
            "institution_id", "current_version__values"
        )
    }
    leverage = dict(
        IndicatorValue.objects.for_user(user)
        .of_periods([(year, 4)], ["leverage"])
        .filter(institution_id__in=[i.pk for i in insts])
        .values_list("institution_id", "value")
    )
    grades = dict(
        Rating.objects.for_user(user)
        .filter(year=year, institution__in=insts)
        .values_list("institution_id", "grade")
    )
    return [
        [
            i.name,
            i.credit_code,
            i.registered_capital,
            i.paid_in_capital,
            values.get(i.pk, {}).get("net_assets"),
            values.get(i.pk, {}).get("fin_balance"),
            leverage.get(i.pk),
            grades.get(i.pk, ""),
        ]
        for i in insts
    ]


ANNUAL_TABLE_HEADER = [
    _("机构名称"),
    _("统一社会信用代码"),
    _("注册资本（万元）"),
    _("实缴资本（万元）"),
    _("年末净资产（万元）"),
    _("年末在保余额（万元）"),
    _("放大倍数"),
    _("分类评级"),
]


def annual_table_document(user, region: Region, year: int) -> Doc:
    doc = Doc(title=_("%(region)s融资担保公司%(year)s年度报表") % {"region": region.name, "year": year})
    doc.table([str(h) for h in ANNUAL_TABLE_HEADER], annual_table_rows(user, region.code, year))
    return doc


def has_data(user, region_code: str, year: int) -> bool:
    return (
        Filing.objects.for_user(user)
        .filter(Q(region_subtree_q("institution__region_id", region_code)), year=year)
        .exists()
    )
