"""The province aggregate export (sums by region level, layout of the fields file) for N institutions
× 8 quarters ÷ writing the same cell matrices with raw xlsxwriter (checked: the same sheet and styles).

    .venv/bin/python bench/reporting_export.py [--small]     (300 institutions; --small: 30)
"""

import argparse
import io
import zipfile

from bench_result import report
from reporting_common import compare, make_institutions, peak_memory, setup_django


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args()
    setup_django()
    import xlsxwriter

    from accounts.models import User
    from reporting import demo, exports, services
    from reporting.choices import FilingStatus, Unit
    from reporting.models import Filing, FilingVersion
    from supervision import demo as supervision_demo

    n = 30 if args.small else 300
    liability_on = supervision_demo.liability_on()
    insts = make_institutions(n)
    periods = demo.demo_periods()
    if not Filing.objects.filter(institution__in=insts).exists():
        template = services.template_for(periods[-1])
        filings, versions = [], []
        from django.utils import timezone

        now = timezone.now()
        for inst in insts:
            data = demo.series(inst.credit_code, inst.paid_in_capital, liability_on=liability_on)
            for p in periods:
                f = Filing(
                    institution=inst,
                    year=p.year,
                    quarter=p.quarter,
                    template=template,
                    status=FilingStatus.ACCEPTED,
                    first_submitted_at=now,
                )
                filings.append(f)
                versions.append(FilingVersion(filing=f, number=1, values=data[p], submitted_at=now))
        Filing.objects.bulk_create(filings, batch_size=1000)
        FilingVersion.objects.bulk_create(versions, batch_size=1000)
    regulator, _ = User.objects.get_or_create(
        username="bench_regulator", defaults={"role": "regulator", "region_id": "510000"}
    )

    def export_all():
        return [exports.aggregate_xlsx(user=regulator, period=p, region_code="510000") for p in periods]

    matrices = []
    for p in periods:
        fields, columns, labels, sums, counts = exports.aggregate(regulator, p, "510000")
        matrices.append((p, fields, columns, labels, sums, counts))

    def raw_one(p, fields, columns, labels, sums, counts):
        """The export's very workbook written with raw xlsxwriter calls: the same cells (title, header,
        count row, section/code/label/unit and the numbers) with the same formats and sheet settings."""
        buffer = io.BytesIO()
        wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
        title = wb.add_format({"bold": True, "font_size": 13})
        head = wb.add_format({"bold": True, "bg_color": "#E8EFFB", "border": 1})
        number = wb.add_format({"num_format": "#,##0.00"})
        wb.add_format({"num_format": "yyyy-mm-dd"})
        wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        ws = wb.add_worksheet("汇总")
        for i, width in enumerate([8, 28, 40, 8, *[16] * len(columns)]):
            ws.set_column(i, i, width)
        included = "、".join(str(FilingStatus(s).label) for s in exports.AGGREGATE_DEFAULT)
        ws.write_string(0, 0, f"{p.label} 融资担保公司季度报表汇总（510000；含状态：{included}）", title)
        for j, text in enumerate(["部分", "字段代码", "项目", "单位", *[labels[c] for c in columns]]):
            ws.write_string(2, j, text, head)
        ws.write_string(3, 2, "报送机构数")
        for j, c in enumerate(columns):
            ws.write_number(3, 4 + j, counts[c])
        for i, f in enumerate(fields, start=4):
            ws.write_string(i, 0, f.section)
            ws.write_string(i, 1, f.code)
            ws.write_string(i, 2, f.label_zh)
            ws.write_string(i, 3, units[f.unit])
            for j, c in enumerate(columns):
                ws.write_number(i, 4 + j, float(sums[c][f.code]), number)
        ws.freeze_panes(3, 4)
        ws.autofilter(2, 0, 3 + len(fields), 3 + len(columns))
        wb.close()
        return buffer.getvalue()

    units = {value: str(label) for value, label in Unit.choices}

    def raw_all():
        return [raw_one(*m) for m in matrices]

    def sheet_xml(workbook: bytes) -> bytes:
        with zipfile.ZipFile(io.BytesIO(workbook)) as z:
            return z.read("xl/worksheets/sheet1.xml") + z.read("xl/styles.xml")

    # the reference writes the same workbook, or its ratio would measure something else
    assert sheet_xml(raw_all()[0]) == sheet_xml(export_all()[0])

    repeat = 5 if args.small else 11
    export_all(), raw_all()  # warm both
    t_exp, t_raw = compare(export_all, raw_all, repeat)
    m_exp, m_raw = peak_memory(export_all), peak_memory(raw_all)
    print(
        f"{n} institutions × {len(periods)} quarters = {n * len(periods)} filings; 8 aggregate workbooks; "
        f"median of {repeat}, export and reference in turns"
    )
    print(f"aggregate export (query + sum + write) {t_exp * 1000:9.1f} ms   peak {m_exp:7.2f} MiB")
    print(f"raw xlsxwriter, same cell matrices     {t_raw * 1000:9.1f} ms   peak {m_raw:7.2f} MiB")
    print(f"ratio export / raw: time {t_exp / t_raw:.1f}x, peak memory {m_exp / max(m_raw, 1e-6):.1f}x")
    report("reporting: province aggregate export ÷ raw xlsxwriter", t_exp / t_raw, 1.5)
    report("reporting: province aggregate export, peak memory", m_exp, 150.0, unit="MiB")


if __name__ == "__main__":
    main()
