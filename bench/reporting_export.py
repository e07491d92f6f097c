"""The province aggregate export (sums by region level, layout of the fields file) for N institutions
× 8 quarters ÷ writing the same cell matrices with raw xlsxwriter.

    .venv/bin/python bench/reporting_export.py [--small]     (300 institutions; --small: 30)
"""

import argparse
import io

from bench_result import report
from reporting_common import make_institutions, measure, setup_django


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args()
    setup_django()
    import xlsxwriter

    from accounts.models import User
    from reporting import demo, exports, services
    from reporting.choices import FilingStatus
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
        matrices.append((fields, columns, labels, sums))

    def raw_all():
        out = []
        for fields, columns, labels, sums in matrices:
            buffer = io.BytesIO()
            wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
            ws = wb.add_worksheet("汇总")
            for j, c in enumerate(columns):
                ws.write_string(2, 4 + j, labels[c])
            for i, f in enumerate(fields, start=4):
                ws.write_string(i, 1, f.code)
                ws.write_string(i, 2, f.label_zh)
                for j, c in enumerate(columns):
                    ws.write_number(i, 4 + j, float(sums[c][f.code]))
            wb.close()
            out.append(buffer.getvalue())
        return out

    repeat = 2 if args.small else 3
    export_all()
    t_exp, m_exp = measure(export_all, repeat)
    t_raw, m_raw = measure(raw_all, repeat)
    print(
        f"{n} institutions × {len(periods)} quarters = {n * len(periods)} filings; 8 aggregate workbooks; best of {repeat}"
    )
    print(f"aggregate export (query + sum + write) {t_exp * 1000:9.1f} ms   peak {m_exp:7.2f} MiB")
    print(f"raw xlsxwriter, same cell matrices     {t_raw * 1000:9.1f} ms   peak {m_raw:7.2f} MiB")
    print(f"ratio export / raw: time {t_exp / t_raw:.1f}x, peak memory {m_exp / max(m_raw, 1e-6):.1f}x")
    report("reporting: province aggregate export ÷ raw xlsxwriter", t_exp / t_raw, 1.5)
    report("reporting: province aggregate export, peak memory", m_exp, 150.0, unit="MiB")


if __name__ == "__main__":
    main()
