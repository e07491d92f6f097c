import csv
import datetime as dt

import pytest
from django.core.management import call_command

from reporting import excel, services
from reporting.fields_file import TEMPLATE_V1
from reporting.models import ReportTemplate
from reporting.periods import Period

from .helpers import GOOD_Q2
from .hostile import edit


def test_later_template_adds_and_retires_fields_without_code_changes(tmp_path, users, chengdu_institution):
    rows = list(csv.DictReader(TEMPLATE_V1.open(encoding="utf-8")))
    rows = [r for r in rows if r["code"] != "batch_zdz_balance"]  # retired
    rows.append(
        {
            "code": "green_balance",
            "section": "D",
            "label_zh": "绿色融资担保在保余额",
            "label_en": "Green guarantees",
            "unit": "wan_yuan",
            "basis": "period_end",
            "notes_zh": "",
            "notes_en": "",
        }
    )
    path = tmp_path / "v2.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    ReportTemplate.objects.filter(version=1).update(effective_to=dt.date(2025, 12, 31))
    call_command(
        "load_report_template", str(path), "--template-version", "2", "--effective-from", "2026-01-01"
    )
    assert services.template_for(Period(2025, 4)).version == 1
    v2 = services.template_for(Period(2026, 1))
    assert v2.version == 2 and v2.fields.count() == 75
    values = {k: v for k, v in GOOD_Q2.items() if k != "batch_zdz_balance"} | {"green_balance": "1000"}
    filing, version, findings = services.filing_save_draft(
        actor=users["cd_filer"], institution=chengdu_institution, period=Period(2026, 2), values=values
    )
    assert (
        filing.template == v2 and findings == []
    )  # no rule needs the retired field; REQ-01 uses v2's fields
    with pytest.raises(services.FilingError) as exc:
        services.filing_save_draft(
            actor=users["cd_filer"],
            institution=chengdu_institution,
            period=Period(2026, 2),
            values={"batch_zdz_balance": "1"},
        )
    assert exc.value.errors == {"batch_zdz_balance": ["未知字段代码 batch_zdz_balance（模板中没有此字段）"]}
    # a v1 workbook uploaded for a v2 period is refused as the wrong template version
    old = excel.workbook_for(institution=chengdu_institution, period=Period(2025, 4))
    old = edit(old, lambda wb: wb[excel.META_SHEET].cell(row=3, column=2, value="2026Q2"))
    result = excel.import_upload(
        actor=users["cd_filer"], institution=chengdu_institution, period=Period(2026, 2), data=old
    )
    assert [(e.sheet, e.cell) for e in result.errors] == [("_meta", "B1")]
    assert "本报告期应使用第 2 版模板" in result.errors[0].message_zh
