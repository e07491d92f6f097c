"""Exports for regulators: the aggregate of a period by region level in the layout of the fields file
(xlsx, every text written as a string so nothing is interpreted as a formula), and all filings of a
period as CSV (cells beginning with = + - @ are prefixed with ' so spreadsheets do not evaluate them)."""

from __future__ import annotations

import io
from decimal import Decimal

import xlsxwriter

from accounts.models import Region

from . import selectors, services
from .models import FilingVersion
from .periods import Period

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


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


def aggregate(user, period: Period, region_code: str):
    """(fields, columns [(label, level)], {column: {code: Decimal}}, counts) summed by region level:
    the whole jurisdiction (`region_code`, "" for the whole country), then each city, with
    province/city/county-level institutions apart."""
    template = services.template_for(period)
    fields = services.template_fields(template)
    filings = selectors.filings_for(user, period).filter(first_submitted_at__isnull=False)
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
    codes = [f.code for f in fields]
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
    labels = {c: names.get(c, c) for c in columns}
    return fields, columns, labels, sums, counts


def aggregate_xlsx(*, user, period: Period, region_code: str) -> bytes:
    fields, columns, labels, sums, counts = aggregate(user, period, region_code)
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    ws = wb.add_worksheet("汇总")
    bold = wb.add_format({"bold": True})
    money = wb.add_format({"num_format": "#,##0.00"})
    ws.write_string(
        0, 0, safe_text(f"{period.label} 融资担保公司季度报表汇总（{region_code or '全国'}）"), bold
    )
    header = ["部分", "字段代码", "项目", "单位", *[labels[c] for c in columns]]
    for i, h in enumerate(header):
        ws.write_string(2, i, safe_text(h), bold)
    ws.write_string(3, 2, "报送机构数")
    for j, c in enumerate(columns):
        ws.write_number(3, 4 + j, counts[c])
    for i, f in enumerate(fields, start=4):
        ws.write_string(i, 0, f.section)
        ws.write_string(i, 1, f.code)
        ws.write_string(i, 2, safe_text(f.label_zh))
        ws.write_string(i, 3, str(f.get_unit_display()))
        for j, c in enumerate(columns):
            ws.write_number(i, 4 + j, float(sums[c][f.code]), money)
    ws.set_column(1, 1, 28)
    ws.set_column(2, 2, 40)
    ws.set_column(4, 4 + len(columns), 16)
    ws.freeze_panes(4, 4)
    wb.close()
    return buffer.getvalue()


def filings_csv(writer, *, user, period: Period) -> int:
    template = services.template_for(period)
    codes = [f.code for f in services.template_fields(template)]
    writer.writerow(
        [
            "credit_code",
            "institution",
            "region",
            "period",
            "status",
            "version",
            "nil_return",
            "submitted_at",
            "ruleset_version",
            "values_hash",
            *codes,
        ]
    )
    n = 0
    status = dict(selectors.filings_for(user, period).values_list("pk", "status"))
    for inst, v in latest_values(user, period):
        writer.writerow(
            [
                inst.credit_code,
                safe_text(inst.name),
                inst.region_id,
                str(period),
                status.get(v.filing_id, ""),
                v.number,
                int(v.nil_return),
                v.submitted_at.isoformat(),
                v.ruleset_version,
                v.values_hash,
                *[v.values.get(c, "") for c in codes],
            ]
        )
        n += 1
    return n
