"""batch_commit: all or nothing, idempotent, update by contract number. The same tests run on SQLite
(bulk insert into staging) and on PostgreSQL (COPY into staging) — see test_staging_uses_copy_on_postgresql."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.exceptions import AppError
from core.models import AuditEvent
from guarantees import services
from guarantees.identifiers import id_number_hash
from guarantees.models import Client, Guarantee, GuaranteeEvent, ImportBatch, MagnitudeRule
from institutions.models import Agreement, Bank

from .helpers import ICBC, event_row, guarantee_row, load, org_code, person_id, person_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def filer(users):
    return users["cd_filer"]


def rows():
    return [
        guarantee_row(2),
        person_row(3, n=1, contract_no="HT-0003", guaranteed_amount="50", loan_amount="50", fee_amount="0.5"),
    ]


def events():
    return [
        event_row(2, contract_no="HT-0002", kind="解保", occurred_on="2025-06-01", amount="30"),
        event_row(
            3, contract_no="HT-0003", kind="代偿", occurred_on="2025-07-01", amount="20", interest="1.2"
        ),
    ]


def snapshot() -> list[tuple]:
    return [
        *Client.objects.order_by("id").values_list(
            "id", "name", "id_kind", "id_key", "id_last4", "updated_at"
        ),
        *Guarantee.objects.order_by("id").values_list(
            "id", "contract_no", "guaranteed_amount", "import_batch_id", "updated_at"
        ),
        *GuaranteeEvent.objects.order_by("id").values_list("id", "kind", "occurred_on", "amount", "interest"),
    ]


def test_commit_writes_typed_rows(banks, chengdu_institution, filer):
    batch, result = load(filer, chengdu_institution, rows(), events())
    assert result.findings == []
    assert (batch.status, batch.progress, batch.guarantee_rows, batch.event_rows) == ("committed", 100, 2, 2)
    assert (
        batch.clients_created,
        batch.guarantees_created,
        batch.guarantees_updated,
        batch.events_created,
    ) == (
        2,
        2,
        0,
        2,
    )
    g = Guarantee.objects.get(contract_no="HT-0002")
    assert (g.institution, g.client.id_key, g.bank.name, g.other_lender) == (
        chengdu_institution,
        org_code(1),
        ICBC,
        "",
    )
    assert (g.loan_amount, g.guaranteed_amount, g.fee_rate, g.fee_amount) == (
        Decimal("120.00"),
        Decimal("100.00"),
        Decimal("0.015000"),
        Decimal("1.50"),
    )
    assert (g.start_date, g.end_date, g.product_line.code, g.counter_guarantee, g.import_batch) == (
        dt.date(2025, 3, 1),
        dt.date(2026, 3, 1),
        "general",
        "none",
        batch,
    )
    person = Client.objects.get(id_kind="resident_id")
    assert (person.name, person.client_type, person.id_last4) == ("张三", "farmer", person_id(1)[-4:])
    assert person.id_key == id_number_hash(person_id(1), services.settings.PII_HASH_KEY.encode())
    assert str(person) == f"张*（**************{person_id(1)[-4:]}）"
    comp = GuaranteeEvent.objects.get(kind="compensation")
    assert (comp.guarantee.contract_no, comp.occurred_on, comp.amount, comp.interest) == (
        "HT-0003",
        dt.date(2025, 7, 1),
        Decimal("20.00"),
        Decimal("1.20"),
    )
    audit = AuditEvent.objects.for_object(batch).order_by("id")
    assert [(e.action, e.changes.get("status")) for e in audit] == [
        ("create", [None, "staged"]),
        ("transition", ["validating", "committed"]),
    ]


def test_the_full_id_number_is_stored_nowhere(banks, chengdu_institution, filer):
    load(
        filer,
        chengdu_institution,
        [person_row(2, n=5), person_row(3, n=6, id_number=person_id(6)[:17] + "0")],
    )
    load(filer, chengdu_institution, [person_row(2, n=5)])
    dump = [
        *Client.objects.values_list(),
        *ImportBatch.objects.values_list(),
        *AuditEvent.objects.values_list("changes", "object_repr", "note"),
    ]
    for number in (person_id(5), person_id(6)[:17] + "0"):
        assert number[:14] not in str(dump)
    assert Client.objects.get().id_last4 == person_id(5)[-4:]


def test_sending_the_same_batch_again_changes_nothing(banks, chengdu_institution, filer):
    load(filer, chengdu_institution, rows(), events())
    before = snapshot()
    again, result = load(filer, chengdu_institution, rows(), events())
    assert result.findings == [] and again.status == "committed"
    assert (again.clients_created, again.clients_updated, again.guarantees_created) == (0, 0, 0)
    assert (again.guarantees_updated, again.events_created) == (0, 0)
    assert snapshot() == before
    assert (Client.objects.count(), Guarantee.objects.count(), GuaranteeEvent.objects.count()) == (2, 2, 2)


def test_a_stored_contract_number_updates_its_guarantee(banks, chengdu_institution, filer):
    first, _ = load(filer, chengdu_institution, rows(), events())
    changed = [
        guarantee_row(2, guaranteed_amount="90", fee_rate="0.012"),
        guarantee_row(4, contract_no="HT-NEW"),
    ]
    second, result = load(
        filer,
        chengdu_institution,
        changed,
        [event_row(2, contract_no="HT-0003", kind="追偿", occurred_on="2025-08-01", amount="5")],
    )
    assert result.findings == []
    assert (second.guarantees_created, second.guarantees_updated, second.events_created) == (1, 1, 1)
    g = Guarantee.objects.get(contract_no="HT-0002")
    assert (g.guaranteed_amount, g.fee_rate, g.import_batch) == (
        Decimal("90.00"),
        Decimal("0.012000"),
        second,
    )
    assert Guarantee.objects.get(contract_no="HT-0003").import_batch == first  # untouched
    assert Guarantee.objects.count() == 3
    assert Client.objects.count() == 2  # HT-NEW's client is the one of HT-0002


def test_an_event_for_a_stored_contract_is_accepted_and_deduplicated(banks, chengdu_institution, filer):
    load(filer, chengdu_institution, rows(), events())
    batch, result = load(filer, chengdu_institution, [], [events()[1], events()[1] | {"source_row": 9}])
    assert result.findings == []
    assert (batch.status, batch.events_created) == ("committed", 0)
    assert GuaranteeEvent.objects.count() == 2


def test_one_error_writes_nothing(banks, chengdu_institution, filer):
    bad = [*rows(), guarantee_row(4, contract_no="HT-4", start_date="2025-03-01", end_date="2024-03-01")]
    batch, result = load(filer, chengdu_institution, bad, events())
    assert (batch.status, batch.error_count, batch.warning_count) == ("failed", 1, 0)
    assert batch.findings == [
        {
            "severity": "error",
            "rule": "end_before_start",
            "sheet": "guarantees",
            "row": 4,
            "column": "end_date",
            "message": "工作表“担保明细”第4行“到期日期”列：到期日期 2024-03-01 早于起始日期 2025-03-01",
            "message_en": "sheet “Guarantees”, row 4, column “End date”: "
            "the end date 2024-03-01 is before the start date 2025-03-01",
        }
    ]
    assert (Client.objects.count(), Guarantee.objects.count(), GuaranteeEvent.objects.count()) == (0, 0, 0)
    with pytest.raises(AppError) as refused:  # a failed batch is final: the filer sends a corrected one
        services.batch_commit(actor=filer, batch=batch, guarantees=rows(), events=events())
    assert refused.value.code == "conflict"


def test_a_failure_while_writing_writes_nothing(banks, chengdu_institution, filer, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_merge_events", broken)
    batch = services.batch_stage(actor=filer, institution=chengdu_institution, channel="upload")
    with pytest.raises(RuntimeError, match="disk full"):
        services.batch_commit(actor=filer, batch=batch, guarantees=rows(), events=events())
    batch.refresh_from_db()
    assert batch.status == "failed"
    assert (Client.objects.count(), Guarantee.objects.count(), GuaranteeEvent.objects.count()) == (0, 0, 0)
    monkeypatch.undo()  # the staging tables went with the rollback: the next batch on this connection works
    retry, _ = load(filer, chengdu_institution, rows(), events())
    assert (retry.status, Guarantee.objects.count(), GuaranteeEvent.objects.count()) == ("committed", 2, 2)


def test_warnings_wait_for_the_filers_confirmation(banks, chengdu_institution, filer):
    big = [guarantee_row(2, guaranteed_amount="3000000", loan_amount="3000000")]
    batch, result = load(filer, chengdu_institution, big)
    assert [(f.severity, f.column) for f in result.findings] == [
        ("warning", "loan_amount"),
        ("warning", "guaranteed_amount"),
    ]
    assert (batch.status, batch.warning_count, Guarantee.objects.count()) == ("staged", 2, 0)
    services.batch_commit(actor=filer, batch=batch, guarantees=big, events=[], confirm_warnings=True)
    assert (batch.status, batch.warnings_confirmed_by, Guarantee.objects.get().guaranteed_amount) == (
        "committed",
        filer,
        Decimal("3000000.00"),
    )
    assert batch.warnings_confirmed_at is not None


def test_a_regional_magnitude_rule_governs_its_region(
    banks, chengdu_institution, mianyang_institution, users
):
    MagnitudeRule.objects.create(
        column="guaranteed_amount",
        region_code="510100",
        limit=Decimal("50000"),
        effective_from=dt.date(2020, 1, 1),
        source="测试：成都市的核对上限",
    )
    big = [guarantee_row(2, guaranteed_amount="20000")]
    chengdu, _ = load(users["cd_filer"], chengdu_institution, big)
    mianyang, result = load(users["my_filer"], mianyang_institution, big)
    assert (chengdu.status, chengdu.warning_count) == ("committed", 0)
    assert (mianyang.status, [(f.rule, f.column) for f in result.findings]) == (
        "staged",
        [("magnitude", "guaranteed_amount")],
    )


def test_a_committed_batch_is_not_committed_twice(banks, chengdu_institution, filer):
    batch, _ = load(filer, chengdu_institution, rows())
    with pytest.raises(AppError) as refused:
        services.batch_commit(actor=filer, batch=batch, guarantees=rows(), events=[])
    assert (refused.value.code, str(refused.value)) == (
        "conflict",
        f"批次 #{batch.pk} 为“已入库”，不是待提交状态，不能提交",
    )


def test_only_the_institutions_own_users_send_its_records(banks, chengdu_institution, users):
    for name in ("my_filer", "cd_regulator", "sc_finance"):
        with pytest.raises(AppError) as refused:
            services.batch_stage(actor=users[name], institution=chengdu_institution, channel="api")
        assert refused.value.code == "forbidden"
    batch = services.batch_stage(actor=users["cd_approver"], institution=chengdu_institution, channel="api")
    with pytest.raises(AppError) as refused:
        services.batch_commit(actor=users["my_filer"], batch=batch, guarantees=rows(), events=[])
    assert refused.value.code == "forbidden"
    assert ImportBatch.objects.get().status == "staged"


def test_the_agreement_in_force_with_the_bank_is_linked(banks, chengdu_institution, filer):
    terms = dict(
        institution=chengdu_institution,
        bank=Bank.objects.get(name=ICBC),
        credit_line=Decimal(10000),
        share_bank=Decimal("0.2"),
        share_guarantor=Decimal("0.8"),
        compensation_scope="principal_interest",
    )
    old = Agreement.objects.create(starts_on=dt.date(2022, 1, 1), ends_on=dt.date(2024, 12, 31), **terms)
    current = Agreement.objects.create(starts_on=dt.date(2025, 1, 1), ends_on=dt.date(2027, 12, 31), **terms)
    load(
        filer,
        chengdu_institution,
        [
            guarantee_row(2, start_date="2025-03-01"),
            guarantee_row(3, contract_no="HT-3", start_date="2024-06-01"),
            guarantee_row(4, contract_no="HT-4", bank="", other_lender="成都某小贷公司"),
        ],
    )
    linked = dict(Guarantee.objects.values_list("contract_no", "agreement_id"))
    assert linked == {"HT-0002": current.pk, "HT-3": old.pk, "HT-4": None}


def test_staging_uses_copy_on_postgresql_and_a_bulk_insert_on_sqlite(banks, chengdu_institution, filer):
    with CaptureQueriesContext(connection) as queries:
        load(filer, chengdu_institution, rows(), events())
    staged_by_insert = [q["sql"] for q in queries.captured_queries if "INSERT INTO stage_" in q["sql"]]
    if connection.vendor == "postgresql":
        assert staged_by_insert == []  # COPY goes past the cursor's execute
    else:
        assert len(staged_by_insert) == 3
