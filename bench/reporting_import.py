"""Importing one filled quarterly workbook (pre-checks, parse, identity, value checks, validation,
draft save — rolled back each time) ÷ parsing the same file with python-calamine alone.

    .venv/bin/python bench/reporting_import.py [--small]
"""

import argparse
import io

from bench_result import report
from reporting_common import make_institutions, measure, setup_django


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    setup_django()
    import openpyxl
    from django.db import transaction
    from python_calamine import CalamineWorkbook

    from accounts.models import User
    from reporting import demo, excel
    from reporting.periods import Period
    from supervision import demo as supervision_demo

    inst = make_institutions(1)[0]
    user, _ = User.objects.get_or_create(
        username="bench_filer", defaults={"role": "filer", "institution": inst}
    )
    period = Period(2024, 4)
    liability_on = supervision_demo.liability_on()
    values = demo.series(inst.credit_code, inst.paid_in_capital, liability_on=liability_on)[period]
    template = excel.workbook_for(institution=inst, period=period, values={})
    wb = openpyxl.load_workbook(io.BytesIO(template))
    ws = wb[excel.DATA_SHEET]
    for row in ws.iter_rows(min_row=excel.FIRST_ROW, min_col=2, max_col=2):
        code = row[0].value
        if code in values:
            ws.cell(row=row[0].row, column=7, value=float(values[code]))
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()

    class Rollback(Exception):
        pass

    def import_once():
        try:
            with transaction.atomic():
                result = excel.import_upload(actor=user, institution=inst, period=period, data=data)
                assert not result.errors, result.errors
                raise Rollback
        except Rollback:
            pass

    def calamine_once():
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python()

    repeat = 5 if args.small else 30
    import_once()
    calamine_once()
    t_import, m_import = measure(import_once, repeat)
    t_cal, m_cal = measure(calamine_once, repeat)
    print(f"file: {len(data) / 1024:.1f} KiB, {len(values)} values; best of {repeat}")
    print(f"import_upload        {t_import * 1000:8.2f} ms   peak {m_import:6.2f} MiB")
    print(f"python-calamine only {t_cal * 1000:8.2f} ms   peak {m_cal:6.2f} MiB")
    print(
        f"ratio import / calamine: time {t_import / t_cal:.1f}x, peak memory {m_import / max(m_cal, 1e-6):.1f}x"
    )
    report("reporting: workbook import ÷ python-calamine parse", t_import / t_cal)


if __name__ == "__main__":
    main()
