"""Reconciliation of a filing with the loan-level records: exact derived values beside the filed ones,
the tolerance edges (policy data), warnings the company must explain, REL-01, prefill and overrides,
the pages and the API, and who sees what."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from core.identifiers import id_number_hash
from institutions.models import Bank, Shareholder
from institutions.services import shareholder_save
from reporting import reconciliation, services
from reporting.models import ReconciliationTolerance
from reporting.periods import Period
from tests.guarantees.helpers import BANKS, load, org_code, person_id
from tests.guarantees.test_selectors import portfolio

pytestmark = pytest.mark.django_db
Q2 = Period(2025, 2)

# The figures the records give for 2025Q2 (tests/guarantees/test_selectors.py computes them by hand).
DERIVED = {
    "fin_balance_opening": "400.00",
    "fin_new": "1250.00",
    "fin_released": "300.00",
    "fin_balance": "1350.00",
    "loan_balance": "1350.00",
    "loan_small_micro_le5m": "650.00",
    "loan_farmer_le2m": "100.00",
    "fin_inforce_count": "4",
    "fin_inforce_clients": "4",
    "small_micro_balance": "650.00",
    "farmer_small_micro_balance": "750.00",
    "farmer_small_micro_clients": "3",
    "new_single_le5m": "650.00",
    "new_single_le10m": "1250.00",
    "annualized_new_amount": "1021.92",
    "annualized_new_amount_le5m": "421.92",
    "fee_new_le5m": "7.50",
    "annualized_new_amount_gt5m": "600.00",
    "fee_new_gt5m": "9.00",
    "compensation": "52.00",
    "compensation_count": "1",
    "compensation_balance_opening": "225.00",
    "recovery": "30.00",
    "loss_writeoff": "5.00",
    "compensation_cumulative": "307.00",
    "released_cumulative": "700.00",
    "top1_client_liability": "600.00",
    "top1_group_liability": "650.00",
    "top10_clients_liability": "1350.00",
    "batch_zdz_balance": "450.00",
    "controller_guarantee_balance": "0.00",
}


@pytest.fixture
def records(db, chengdu_institution, users):
    for name in BANKS:
        Bank.objects.create(name=name)
    guarantees, events = portfolio()
    _batch, result = load(users["cd_filer"], chengdu_institution, guarantees, events)
    assert result.findings == []


def draft(users, institution, **changes):
    values = {**DERIVED, **changes}
    return services.filing_save_draft(
        actor=users["cd_filer"], institution=institution, period=Q2, values=values
    )


def rec_findings(findings):
    return [(f.rule_id, f.values) for f in findings if f.kind == "reconciliation"]


def test_every_derived_field_is_set_beside_the_filed_one(records, users, chengdu_institution):
    filing, _version, findings = draft(
        users, chengdu_institution, fin_balance="1400.00", fin_inforce_count="5"
    )
    rec = reconciliation.for_filing(filing)
    assert rec.has_records
    assert {line.code: str(line.derived) for line in rec.lines} == DERIVED
    assert [line.as_dict() for line in rec.differences] == [
        {
            "code": "fin_balance",
            "label_zh": "融资担保在保余额",
            "label_en": "Financing-guarantee balance outstanding",
            "unit": "wan_yuan",
            "filed": "1400.00",
            "derived": "1350.00",
            "difference": "50.00",
            "tolerance": "6.75",  # 0.5 % of 1350 is above the absolute 0.50
            "within": False,
        },
        {
            "code": "fin_inforce_count",
            "label_zh": "融资担保在保笔数",
            "label_en": "Financing guarantees in force (count)",
            "unit": "count",
            "filed": "5",
            "derived": "4",
            "difference": "1",
            "tolerance": "0",
            "within": False,
        },
    ]
    assert rec_findings(findings) == [
        (
            "REC-fin_balance",
            {"filed": "1400.00", "derived": "1350.00", "difference": "50.00", "tolerance": "6.75"},
        ),
        ("REC-fin_inforce_count", {"filed": "5", "derived": "4", "difference": "1", "tolerance": "0"}),
    ]
    assert findings[-2].message_zh == (
        "融资担保在保余额：填报 1400.00，按担保业务明细推算为 1350.00，相差 50.00，超出核对容差 6.75"
    )


@pytest.mark.parametrize(
    "filed, within",
    [("1356.75", True), ("1356.76", False), ("1343.25", True), ("1343.24", False), ("1350.00", True)],
)
def test_tolerance_edge_is_within(records, users, chengdu_institution, filed, within):
    filing, _v, findings = draft(users, chengdu_institution, fin_balance=filed)
    line = next(x for x in reconciliation.for_filing(filing).lines if x.code == "fin_balance")
    assert (line.tolerance, line.within) == (Decimal("6.75"), within)
    assert ("REC-fin_balance" in [f.rule_id for f in findings]) is not within


def test_counts_must_agree_exactly_and_a_province_may_widen_its_tolerance(
    records, users, chengdu_institution
):
    _f, _v, findings = draft(users, chengdu_institution, fin_inforce_clients="3", fin_balance="1370.00")
    assert [r for r, _ in rec_findings(findings)] == ["REC-fin_balance", "REC-fin_inforce_clients"]
    services.tolerance_save(
        actor=users["sc_regulator"],
        region_code="510000",
        field_code="fin_balance",
        absolute=Decimal("20"),
        relative=Decimal("0"),
        effective_from=dt.date(2025, 1, 1),
        source="四川省监管口径（测试）",
    )
    _f, _v, findings = draft(users, chengdu_institution, fin_inforce_clients="3", fin_balance="1370.00")
    assert [r for r, _ in rec_findings(findings)] == ["REC-fin_inforce_clients"]  # 20.00 ≤ 20
    # the tolerance is dated: a quarter ending before it started keeps the national one
    row = ReconciliationTolerance.objects.get(region_code="510000")
    assert (row.field_code, row.absolute, row.relative) == ("fin_balance", Decimal("20.00"), Decimal("0"))


def test_only_the_provincial_regulator_sets_its_tolerances(users):
    kwargs = dict(
        region_code="510100",
        field_code="",
        absolute=Decimal(1),
        relative=Decimal("0.01"),
        effective_from=dt.date(2025, 1, 1),
        source="x",
    )
    for name in ("cd_regulator", "cd_filer", "zj_regulator"):
        with pytest.raises(services.FilingError) as exc:
            services.tolerance_save(actor=users[name], **kwargs)
        assert exc.value.code == "forbidden"
    row = services.tolerance_save(actor=users["sc_regulator"], **kwargs)
    assert row.region_code == "510000"  # a province's row, whatever code below it was named
    with pytest.raises(services.FilingError) as exc:
        services.tolerance_save(
            actor=users["sc_regulator"], **{**kwargs, "relative": Decimal(5), "field_code": "x"}
        )
    assert set(exc.value.errors) == {"field_code", "relative"}
    with pytest.raises(services.FilingError):
        services.tolerance_save(actor=users["sc_regulator"], **{**kwargs, "region_code": None})
    assert ReconciliationTolerance.objects.filter(region_code="510000").count() == 1


def test_a_difference_must_be_explained_before_submission_and_stays_on_the_version(
    records, users, chengdu_institution
):
    from reporting.models import ValidationRule

    from .sample import GOOD_Q2

    # GOOD_Q2's balance sheet is on another scale than these records: its relation rules are not the point
    ValidationRule.objects.filter(severity="error").exclude(kind="required").update(active=False)
    filing, _v, findings = services.filing_save_draft(
        actor=users["cd_filer"],
        institution=chengdu_institution,
        period=Q2,
        values={**GOOD_Q2, **DERIVED, "recovery": "40.00"},
    )
    assert [f.rule_id for f in findings if f.severity == "error"] == []
    with pytest.raises(services.FilingError) as exc:
        services.filing_submit(actor=users["cd_approver"], filing=filing, explanations={})
    assert "explanations.REC-recovery" in exc.value.errors
    explanations = {f.rule_id: "说明" for f in findings if f.severity == "warning"}
    explanations["REC-recovery"] = "一笔追偿款 10 万元尚未录入明细"
    version = services.filing_submit(actor=users["cd_approver"], filing=filing, explanations=explanations)
    assert version.explanations["REC-recovery"] == "一笔追偿款 10 万元尚未录入明细"
    stored = next(f for f in version.findings if f["rule_id"] == "REC-recovery")
    assert (stored["kind"], stored["values"]["difference"]) == ("reconciliation", "10.00")


def test_no_records_no_reconciliation(users, chengdu_institution):
    filing, _v, findings = draft(users, chengdu_institution, fin_balance="1.00")
    assert rec_findings(findings) == []
    assert reconciliation.for_filing(filing).has_records is False


# ---------------------------------------------------------------------------------------------- REL-01
def test_shareholder_id_numbers_are_stored_as_the_clients_keyed_hash(users, chengdu_institution):
    row = shareholder_save(
        actor=users["cd_filer"],
        institution=chengdu_institution,
        name="丙",
        kind="person",
        identifier=person_id(3),
        share_ratio=Decimal("0.3"),
        is_actual_controller=True,
    )
    row.refresh_from_db()
    assert (row.identifier, row.id_last4) == ("", person_id(3)[-4:])
    assert row.id_hash == id_number_hash(person_id(3), settings.PII_HASH_KEY.encode())
    assert row.masked_identifier == "*" * 14 + person_id(3)[-4:]
    assert not Shareholder.objects.filter(identifier=person_id(3)).exists()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="身份证号码无效"):
        shareholder_save(
            actor=users["cd_filer"],
            institution=chengdu_institution,
            name="乙",
            kind="person",
            identifier="510104198001010000",
            share_ratio=Decimal("0.1"),
        )


def test_the_hash_migration_replaces_clear_numbers():
    """The data migration's function on rows as they were stored before it (ID numbers in clear)."""
    from importlib import import_module
    from types import SimpleNamespace

    migration = import_module("institutions.migrations.0004_shareholder_id_hash")
    saved = []
    row = SimpleNamespace(identifier=f" {person_id(7).lower()}", id_hash="", id_last4="")
    row.save = lambda update_fields: saved.append(sorted(update_fields))

    class Rows:
        def filter(self, **kw):
            assert kw == {"kind": "person"}
            return self

        def exclude(self, **kw):
            assert kw == {"identifier": ""}
            return [row]

    apps = SimpleNamespace(get_model=lambda app, name: SimpleNamespace(objects=Rows()))
    migration.hash_person_identifiers(apps, None)
    assert (row.identifier, row.id_last4, saved) == (
        "",
        person_id(7)[-4:],
        [["id_hash", "id_last4", "identifier"]],
    )
    assert row.id_hash == id_number_hash(person_id(7), settings.PII_HASH_KEY.encode())


@pytest.mark.parametrize(
    "filed, rule, count",
    [("0", "REL-01", 2), ("700.00", None, 2), ("100.00", "REC-controller_guarantee_balance", 2)],
)
def test_rel01_controller_guarantees(records, users, chengdu_institution, filed, rule, count):
    # 丙 (a natural person: G4, 100 in force) is the actual controller; 丁公司 (G5, 600) the controlling shareholder
    shareholder_save(
        actor=users["cd_filer"],
        institution=chengdu_institution,
        name="丙",
        kind="person",
        identifier=person_id(3),
        share_ratio=Decimal("0.3"),
        is_actual_controller=True,
    )
    shareholder_save(
        actor=users["cd_filer"],
        institution=chengdu_institution,
        name="丁公司",
        kind="company",
        identifier=org_code(4),
        share_ratio=Decimal("0.6"),
        is_controlling=True,
    )
    filing, _v, findings = draft(users, chengdu_institution, controller_guarantee_balance=filed)
    rec = reconciliation.for_filing(filing)
    assert [(g.contract_no, g.balance) for g in rec.controller_guarantees] == [
        ("G5", Decimal("600.00")),
        ("G4", Decimal("100.00")),
    ]
    line = next(x for x in rec.lines if x.code == "controller_guarantee_balance")
    assert line.derived == Decimal("700.00")
    assert [r for r, _ in rec_findings(findings) if "controller" in r or r == "REL-01"] == (
        [rule] if rule else []
    )
    if rule == "REL-01":
        finding = next(f for f in findings if f.rule_id == "REL-01")
        assert finding.message_zh == (
            "为控股股东、实际控制人提供的融资担保余额填报为 0，但担保业务明细中有 2 笔此类担保在保，余额 700.00 万元"
        )


# ---------------------------------------------------------------------------------------------- prefill
def test_prefill_takes_the_derived_values_and_records_overrides(records, users, chengdu_institution):
    filing, version, findings = services.filing_prefill(
        actor=users["cd_filer"], institution=chengdu_institution, period=Q2
    )
    assert {k: version.values[k] for k in DERIVED} == DERIVED
    assert set(version.prefill) == set(DERIVED)
    assert version.prefill["fin_balance"]["value"] == "1350.00"
    assert version.prefill["fin_balance"]["source_zh"].startswith("担保业务明细推算（截至 2025-06-30")
    assert version.overrides == {}
    assert rec_findings(findings) == []
    # the filer changes one value: an override, recorded with the derived value and who changed it
    _f, version, _ = services.filing_save_draft(
        actor=users["cd_filer"],
        institution=chengdu_institution,
        period=Q2,
        values={"recovery": "40"},
        merge=True,
    )
    assert {k: (v["derived"], v["value"], v["by"]) for k, v in version.overrides.items()} == {
        "recovery": ("30.00", "40.00", "t_cd_filer")
    }
    # changed back: no longer an override
    _f, version, _ = services.filing_save_draft(
        actor=users["cd_filer"],
        institution=chengdu_institution,
        period=Q2,
        values={"recovery": "30.00"},
        merge=True,
    )
    assert version.overrides == {}


def test_prefill_without_records_is_refused(users, chengdu_institution):
    with pytest.raises(services.FilingError) as exc:
        services.filing_prefill(actor=users["cd_filer"], institution=chengdu_institution, period=Q2)
    assert exc.value.code == "conflict"


def test_prefill_and_override_through_the_form(records, users, chengdu_institution, client_for):
    c = client_for(users["cd_filer"])
    page = c.get("/reporting/file/2025Q2/")
    assert "从担保业务明细预填" in page.content.decode()
    r = c.post("/reporting/file/2025Q2/prefill/")
    assert r.status_code == 302
    page = c.get("/reporting/file/2025Q2/").content.decode()
    assert 'value="1350.00"' in page and "明细预填" in page
    c.post("/reporting/file/2025Q2/", {**DERIVED, "fin_new": "1260.00"})
    page = c.get("/reporting/file/2025Q2/").content.decode()
    assert "已修改预填值" in page
    # the Excel template carries the draft's (prefilled) values
    from core.excel import read_upload

    book = c.get("/reporting/file/2025Q2/template.xlsx").content
    rows = [[str(x) for x in row.values] for row in read_upload(book, channel="quarterly")["季度报表"]]
    assert any("fin_balance_opening" in row and "400" in " ".join(row) for row in rows)
    # each prefilled cell says where its value came from, an overridden one what the records said
    import io

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(book))["季度报表"]
    comments = {
        sheet.cell(row=cell.row, column=2).value: cell.comment.text
        for row in sheet.iter_rows()
        for cell in row
        if cell.comment
    }
    assert comments["fin_balance"].startswith("[明细预填] 担保业务明细推算（截至 2025-06-30")
    assert comments["fin_new"] == "[明细预填] 已修改：明细推算值 1250.00，填报 1260.00"


def test_prefill_api(records, users, chengdu_institution):
    c = APIClient()
    c.force_authenticate(users["cd_filer"])
    r = c.post(
        "/api/v1/filings/prefill/",
        {"institution": chengdu_institution.credit_code, "period": "2025Q2"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["values"]["fin_balance"] == "1350.00"
    assert body["prefill"]["fin_balance"]["value"] == "1350.00"
    for name in ("my_filer", "cd_regulator"):
        c.force_authenticate(users[name])
        r = c.post(
            "/api/v1/filings/prefill/",
            {"institution": chengdu_institution.credit_code, "period": "2025Q2"},
            format="json",
        )
        assert r.status_code in (403, 404)


# ---------------------------------------------------------------------------------------------- pages, API
@pytest.fixture
def q2_filing(records, users, chengdu_institution):
    filing, _v, _f = draft(users, chengdu_institution, fin_balance="1400.00")
    return filing


@pytest.mark.parametrize(
    "name, status",
    [
        ("cd_filer", 200),
        ("cd_approver", 200),
        ("cd_regulator", 200),
        ("sc_regulator", 200),
        ("admin", 200),
        ("my_filer", 404),
        ("my_regulator", 404),
        ("zj_regulator", 404),
    ],
)
def test_reconciliation_page_and_api_by_user(q2_filing, users, client_for, name, status):
    r = client_for(users[name]).get(f"/reporting/filings/{q2_filing.pk}/reconciliation/")
    assert r.status_code == status
    c = APIClient()
    c.force_authenticate(users[name])
    api = c.get(f"/api/v1/filings/{q2_filing.pk}/reconciliation/")
    assert api.status_code == status
    if status == 200:
        body = api.json()
        assert [f["rule_id"] for f in body["findings"]] == ["REC-fin_balance"]
        line = next(x for x in body["lines"] if x["code"] == "fin_balance")
        assert (line["filed"], line["derived"], line["difference"], line["within"]) == (
            "1400.00",
            "1350.00",
            "50.00",
            False,
        )
        assert "超出容差" in r.content.decode()
        detail = client_for(users[name]).get(f"/reporting/filings/{q2_filing.pk}/").content.decode()
        assert "与担保业务明细核对" in detail and "核对 31 项，1 项超出容差。" in detail


def test_reconciliation_page_costs_a_constant_number_of_queries(
    q2_filing, users, client_for, django_assert_max_num_queries
):
    c = client_for(users["cd_regulator"])
    with django_assert_max_num_queries(30):
        assert c.get(f"/reporting/filings/{q2_filing.pk}/reconciliation/").status_code == 200


def test_tolerance_page(users, client_for, django_assert_num_queries):
    c = client_for(users["sc_regulator"])
    page = c.get("/reporting/tolerances/")
    assert page.status_code == 200 and "所有字段（默认）" in page.content.decode()
    r = c.post(
        "/reporting/tolerances/",
        {
            "field_code": "fin_new",
            "absolute": "2",
            "relative": "0.01",
            "effective_from": "2025-01-01",
            "source": "测试",
        },
    )
    assert r.status_code == 302
    assert ReconciliationTolerance.objects.filter(region_code="510000", field_code="fin_new").exists()
    assert client_for(users["cd_regulator"]).post("/reporting/tolerances/", {}).status_code == 403
    assert client_for(users["cd_filer"]).get("/reporting/tolerances/").status_code == 200
    assert client_for(users["sc_finance"]).get("/reporting/tolerances/").status_code == 403
    for code in ("fin_balance", "recovery", "compensation"):  # more rows, the same queries
        c.post(
            "/reporting/tolerances/",
            {
                "field_code": code,
                "absolute": "1",
                "relative": "0",
                "effective_from": "2025-01-01",
                "source": "测试",
            },
        )
    with django_assert_num_queries(6):
        c.get("/reporting/tolerances/")


def test_inbox_asks_the_company_to_explain(q2_filing, users):
    from core.inbox import tasks_for

    tasks = [t for t in tasks_for(users["cd_filer"]) if t.kind == "reporting.reconciliation"]
    assert [(t.url, t.count, t.title) for t in tasks] == [
        (
            f"/reporting/filings/{q2_filing.pk}/reconciliation/",
            1,
            "2025年第2季度：1 项填报数与担保业务明细不一致，报送时须说明",
        )
    ]
    for name in ("my_filer", "cd_regulator"):
        assert [t for t in tasks_for(users[name]) if t.kind == "reporting.reconciliation"] == []
