"""Every xlsx/CSV export, found from the URL patterns, with names that begin with = + - @: no cell of any
workbook is a formula, every such CSV cell is quoted, and numbers (negative ones included) stay numbers.
A view that writes a spreadsheet and is not walked here fails the test, and so does a module that
writes one without core.excel."""

import csv
import datetime as dt
import inspect
import io
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

from institutions import services as registry
from institutions.models import Notice, NoticeItem
from subsidies.models import Application, ApplicationLine, Scheme
from tests.reporting.helpers import GOOD_Q1, GOOD_Q2, file_and_submit

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = {
    "chengdu": '=HYPERLINK("http://evil.example","成都")融资担保有限公司',
    "mianyang": "+1+1绵阳融资担保有限公司",
    "batch": "@SUM(1+1)第一批",
    "notice": "-2+3 关于注销融资担保业务经营许可证的公告",
    "issuer": "=四川省地方金融监督管理局",
    "item": "@cmd|' /C calc'!A0",
    "remark": "\t=1+1",
}
WRITERS = ("export_response(", "attachment(", "_download(")


def patterns(resolver=None, namespace=""):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from patterns(p, ns)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{namespace}{p.name}", p.callback


def export_views() -> set[str]:
    found = set()
    for name, callback in patterns():
        try:
            source = inspect.getsource(inspect.unwrap(callback))
        except (OSError, TypeError):
            continue
        if any(w in source for w in WRITERS):
            found.add(name)
    return found


@pytest.fixture
def hostile(users, chengdu_institution, mianyang_institution):
    chengdu_institution.name = HOSTILE["chengdu"]
    chengdu_institution.save()
    mianyang_institution.name = HOSTILE["mianyang"]
    mianyang_institution.save()
    registry.licence_issue(
        actor=None, institution=chengdu_institution, number="川A400001", issued_on=dt.date(2020, 1, 1)
    )
    batch = registry.govlist_batch_create(
        actor=users["sc_finance"],
        region_code="510000",
        title=HOSTILE["batch"],
        published_on=dt.date(2024, 3, 1),
    )
    registry.govlist_entry_set(
        actor=users["sc_finance"], batch=batch, institution=chengdu_institution, action="include"
    )
    registry.govlist_batch_propose(actor=users["sc_finance"], batch=batch)
    registry.govlist_batch_confirm(actor=users["sc_regulator"], batch=batch)
    notice = Notice.objects.create(
        region_id="510000",
        kind="cancel",
        title=HOSTILE["notice"],
        issuing_body=HOSTILE["issuer"],
        document_no="-1号",
        published_on=dt.date(2024, 4, 1),
        status="published",
    )
    NoticeItem.objects.create(
        notice=notice,
        seq=1,
        institution_name=HOSTILE["item"],
        licence_number="川A400001",
        remark=HOSTILE["remark"],
    )
    filing = file_and_submit(
        chengdu_institution,
        "2025Q2",
        {**GOOD_Q2, "net_profit": "-300.45"},
        maker=users["cd_filer"],
        checker=users["cd_approver"],
    )
    file_and_submit(mianyang_institution, "2025Q2", GOOD_Q1, maker=users["my_filer"], checker=users["admin"])
    award = Scheme.objects.get(code="sc-fee-reduction-award")
    subsidy = Application.objects.create(
        scheme=award,
        institution=chengdu_institution,
        year=2025,
        status="publicity",
        final_amount=Decimal("12.50"),
        publicity_from=dt.date(2026, 1, 1),
        publicity_to=dt.date(2026, 1, 8),
    )
    ApplicationLine.objects.create(
        application=subsidy, scheme=award, year=2025, label=HOSTILE["item"], eligible=True, base=Decimal(100)
    )
    return {"notice": notice, "filing": filing, "subsidy": subsidy}


@pytest.fixture
def hostile_records(users, chengdu_institution, mianyang_institution, django_capture_on_commit_callbacks):
    """Loan-level records: a client named like a formula, a person guaranteed by both institutions, and
    a failed batch (unknown bank) whose error report carries the formula-like name."""
    from guarantees import services as records
    from institutions.models import Bank
    from tests.guarantees.helpers import BANKS, guarantee_row, load, person_row

    for name in BANKS:
        Bank.objects.create(name=name)
    load(
        users["cd_filer"], chengdu_institution, [guarantee_row(2, client_name=HOSTILE["item"]), person_row(3)]
    )
    load(users["my_filer"], mianyang_institution, [person_row(2, contract_no="MY-1")])
    with django_capture_on_commit_callbacks(execute=True):
        batch = records.batch_submit(
            actor=users["cd_filer"],
            institution=chengdu_institution,
            channel="api",
            payload={"guarantees": [guarantee_row(2, client_name=HOSTILE["item"], bank="无此银行")]},
        )
    return batch


@pytest.fixture
def export_walk(users, client_for, hostile, hostile_records):
    """{export view: (client, url)}: every export, fetched as who may (the audit test walks it too)."""
    regulator, filer, public = (
        client_for(users["sc_regulator"]),
        client_for(users["cd_filer"]),
        client_for(None),
    )
    return {
        "institutions:export": (regulator, "/institutions/export.xlsx"),
        "institutions:import": (regulator, "/institutions/import/?template=1"),
        "institutions:public_register": (public, "/public/register/?format=csv"),
        "institutions:public_govlist": (public, "/public/govlist/?format=csv"),
        "institutions:public_notices": (public, "/public/notices/?format=csv"),
        "institutions:public_notice": (public, f"/public/notices/{hostile['notice'].pk}/?format=csv"),
        "reporting:excel_download": (filer, "/reporting/file/2025Q2/template.xlsx"),
        "reporting:findings_workbook": (
            regulator,
            f"/reporting/filings/{hostile['filing'].pk}/findings.xlsx",
        ),
        "reporting:export_aggregate": (regulator, "/reporting/exports/aggregate.xlsx?period=2025Q2"),
        "reporting:export_csv": (regulator, "/reporting/exports/filings.csv?period=2025Q2"),
        "guarantees:records_export_xlsx": (filer, "/guarantees/records/export.xlsx"),
        "guarantees:records_export_csv": (filer, "/guarantees/records/export.csv"),
        "guarantees:template_xlsx": (filer, "/guarantees/templates/template.xlsx"),
        "guarantees:template_guarantees": (filer, "/guarantees/templates/guarantees.csv"),
        "guarantees:template_events": (filer, "/guarantees/templates/events.csv"),
        "guarantees:batch_report": (filer, f"/guarantees/batches/{hostile_records.pk}/report.xlsx"),
        "guarantees:borrowers": (regulator, "/guarantees/borrowers/?export=xlsx&on=2025-06-01"),
        "bank_batches:template": (regulator, "/guarantees/bank-batches/template.xlsx"),
        "supervision:warnings": (regulator, "/supervision/warnings/?export=csv"),
        "supervision:annual_table_xlsx": (regulator, "/supervision/reports/annual-table.xlsx?year=2025"),
        "subsidies:export": (regulator, "/subsidies/applications/export.xlsx"),
        "subsidies:lines_export": (regulator, f"/subsidies/applications/{hostile['subsidy'].pk}/lines.xlsx"),
        "subsidies:publicity_csv": (public, "/subsidies/publicity.csv"),
    }


def test_every_export_is_formula_safe(export_walk):
    walk = export_walk
    assert export_views() == set(walk)
    texts, numbers = {}, {}
    for name, (client, url) in walk.items():
        r = client.get(url)
        assert r.status_code == 200, (name, url)
        if r["Content-Type"].startswith("text/csv"):
            body = r.content.decode("utf-8")
            assert body.startswith("\ufeff"), name
            cells = [c for row in csv.reader(io.StringIO(body[1:])) for c in row]
            live = [
                c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r")) and not NUMBER.fullmatch(c)
            ]
            assert live == [], name
            texts[name] = {c for c in cells if c.startswith("'")}
            numbers[name] = {c for c in cells if NUMBER.fullmatch(c) and c.startswith("-")}
        else:
            assert r["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            book = openpyxl.load_workbook(io.BytesIO(r.content))
            cells = [
                c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None
            ]
            assert [c.coordinate for c in cells if c.data_type == "f"] == [], name
            texts[name] = {
                c.value for c in cells if c.data_type == "s" and c.value.startswith(("=", "+", "-", "@"))
            }
            numbers[name] = {c.value for c in cells if c.data_type == "n" and c.value < 0}
    quoted = {k: "'" + v for k, v in HOSTILE.items()}
    assert texts == {
        "institutions:export": {HOSTILE["chengdu"], HOSTILE["mianyang"]},
        "institutions:import": set(),
        "institutions:public_register": {quoted["chengdu"]},
        "institutions:public_govlist": {quoted["chengdu"], quoted["batch"]},
        # confirming the list published a notice titled after the batch
        "institutions:public_notices": {quoted["notice"], quoted["issuer"], "'-1号", quoted["batch"]},
        "institutions:public_notice": {quoted["item"], quoted["remark"]},
        "reporting:excel_download": {HOSTILE["chengdu"]},
        "reporting:findings_workbook": {HOSTILE["chengdu"]},
        "reporting:export_aggregate": set(),
        "reporting:export_csv": {quoted["chengdu"], quoted["mianyang"]},
        "guarantees:records_export_xlsx": {HOSTILE["item"]},
        "guarantees:records_export_csv": {quoted["item"]},
        "guarantees:template_xlsx": set(),
        "guarantees:template_guarantees": set(),
        "guarantees:template_events": set(),
        "guarantees:batch_report": {HOSTILE["item"]},
        "guarantees:borrowers": {HOSTILE["chengdu"], HOSTILE["mianyang"]},
        "bank_batches:template": set(),
        "supervision:warnings": set(),  # no breach in these filings (warning exports: tests/supervision)
        "supervision:annual_table_xlsx": {HOSTILE["chengdu"], HOSTILE["mianyang"]},
        "subsidies:export": {HOSTILE["chengdu"]},
        "subsidies:lines_export": {HOSTILE["item"]},
        "subsidies:publicity_csv": {quoted["chengdu"]},
    }
    # the loss is a number wherever a filing's values are exported
    assert numbers == {
        "institutions:export": set(),
        "institutions:import": set(),
        "institutions:public_register": set(),
        "institutions:public_govlist": set(),
        "institutions:public_notices": set(),
        "institutions:public_notice": set(),
        "reporting:excel_download": {-300.45},
        "reporting:findings_workbook": {-300.45},
        "reporting:export_aggregate": {-300.45, -0.45},  # Chengdu's loss; with Mianyang's 300 profit
        "reporting:export_csv": {"-300.45"},
        **{name: set() for name in walk if name.startswith("guarantees")},
        "bank_batches:template": set(),
        "supervision:warnings": set(),
        "supervision:annual_table_xlsx": set(),
        "subsidies:export": set(),
        "subsidies:lines_export": set(),
        "subsidies:publicity_csv": set(),
    }


NUMBER = re.compile(r"-?\d+(\.\d+)?")


def test_no_module_writes_a_spreadsheet_without_the_one_writer():
    """xlsxwriter, openpyxl and csv writers appear only in core/excel.py and the styled quarterly
    template (reporting/excel.py) and the loan-level error report (guarantees/excel.py), which take
    core.excel's WORKBOOK_OPTIONS and write text with write_string)."""
    allowed = {"core/excel.py", "reporting/excel.py", "guarantees/excel.py"}  # the two error reports
    writers = re.compile(r"xlsxwriter\.Workbook\(|openpyxl|csv\.writer\(|csv\.DictWriter\(|text/csv")
    ours = [Path(a.path) for a in apps.get_app_configs() if Path(a.path).is_relative_to(ROOT)]
    assert {p.name for p in ours} >= {"core", "institutions", "reporting", "guarantee_portal"}
    offenders = sorted(
        str(path.relative_to(ROOT))
        for app in ours
        for path in app.rglob("*.py")
        if "migrations" not in path.parts and writers.search(path.read_text(encoding="utf-8"))
    )
    assert [p for p in offenders if p not in allowed] == []
