import datetime as dt
import threading

import pytest
from django.db import connection

from core.models import AuditEvent
from core.stored_text import Message, show, store
from reporting import services, signals
from reporting.models import DueDateSetting, Filing, FilingVersion, Notification, ValidationRule
from reporting.periods import Period

from .helpers import GOOD_Q2, PRIOR_Q4, file_and_submit, history

Q2 = Period.parse("2025Q2")


@pytest.fixture
def inst(users, chengdu_institution):
    return chengdu_institution


def test_draft_gets_due_date_from_national_default_and_province_setting(users, inst):
    filing, version, _ = services.filing_save_draft(
        actor=users["cd_filer"], institution=inst, period=Q2, values={}
    )
    assert filing.due_date == dt.date(2025, 7, 15)
    assert filing.status == "draft" and version.number == 1 and not version.is_frozen
    DueDateSetting.objects.create(
        region_code="510000",
        days_after_quarter_end=20,
        remind_days_before=5,
        overdue_days_after=1,
        effective_from=dt.date(2020, 1, 1),
        source="test",
    )
    assert services.due_date("510104", Q2) == dt.date(2025, 7, 20)
    assert services.due_date("330100", Q2) == dt.date(2025, 7, 15)


def test_maker_checker_submit_freezes_version_with_ruleset_and_hash(users, inst):
    history(inst, users)
    received = []
    signals.filing_submitted.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t1")
    try:
        filing, version, findings = services.filing_save_draft(
            actor=users["cd_filer"], institution=inst, period=Q2, values=GOOD_Q2
        )
        assert findings == []
        with pytest.raises(services.FilingError) as exc:
            services.filing_submit(actor=users["cd_filer"], filing=filing)
        assert exc.value.code == "forbidden"
        submitted = services.filing_submit(actor=users["cd_approver"], filing=filing)
    finally:
        signals.filing_submitted.disconnect(dispatch_uid="t1")
    filing.refresh_from_db()
    assert filing.status == "submitted" and filing.first_submitted_at is not None
    assert submitted.submitted_by == users["cd_approver"] and submitted.created_by == users["cd_filer"]
    assert submitted.ruleset_version == services.validation.ruleset_version(services.rule_specs(Q2.end))
    assert submitted.values_hash == submitted.compute_hash() and len(submitted.values_hash) == 64
    assert submitted.values["net_assets"] == "35000.00"
    assert [(r["filing"].pk, r["version"].pk, r["actor"]) for r in received] == [
        (filing.pk, submitted.pk, users["cd_approver"])
    ]
    notes = list(AuditEvent.objects.for_object(filing).values_list("note", flat=True))
    assert any(show(n).startswith("报送第 1 版（规则集 RS-") for n in notes)
    with pytest.raises(services.FilingError) as exc:
        services.filing_save_draft(actor=users["cd_filer"], institution=inst, period=Q2, values=GOOD_Q2)
    assert exc.value.code == "conflict"


def test_blocking_error_refuses_submit_and_changes_nothing(users, inst):
    history(inst, users)
    filing, version, findings = services.filing_save_draft(
        actor=users["cd_filer"], institution=inst, period=Q2, values={**GOOD_Q2, "net_assets": "1"}
    )
    assert [f.rule_id for f in findings] == ["IDN-01", "BND-03", "QOQ-03"]
    with pytest.raises(services.FilingError) as exc:
        services.filing_submit(
            actor=users["cd_approver"], filing=filing, explanations={"BND-03": "x", "QOQ-03": "y"}
        )
    assert [f.rule_id for f in exc.value.findings][:1] == ["IDN-01"]
    filing.refresh_from_db()
    version.refresh_from_db()
    assert filing.status == "draft" and version.submitted_at is None and version.values_hash == ""


def test_each_warning_needs_an_explanation(users, inst):
    history(inst, users)
    values = {**GOOD_Q2, "controller_guarantee_balance": "100"}
    filing, _v, findings = services.filing_save_draft(
        actor=users["cd_filer"], institution=inst, period=Q2, values=values
    )
    assert [(f.rule_id, f.severity) for f in findings] == [("BND-31", "warning")]
    with pytest.raises(services.FilingError) as exc:
        services.filing_submit(actor=users["cd_approver"], filing=filing, explanations={"BND-31": "   "})
    assert (exc.value.code, exc.value.status) == ("invalid", 400) and "BND-31" in exc.value.message
    assert exc.value.errors == {"explanations.BND-31": ["请说明原因"]}
    version = services.filing_submit(
        actor=users["cd_approver"],
        filing=filing,
        explanations={"BND-31": "2019年存量业务，2025年9月到期解除", "IDN-01": "unused"},
    )
    assert version.explanations == {"BND-31": "2019年存量业务，2025年9月到期解除"}
    assert [f["rule_id"] for f in version.findings] == ["BND-31"]
    filing.refresh_from_db()
    assert (filing.risk_score, filing.warning_count) == (40, 1)  # 10 warning + 30 prohibited balance


def test_return_with_field_comments_then_resubmit_as_version_2(users, inst):
    history(inst, users)
    filing = file_and_submit(inst, Q2, GOOD_Q2, maker=users["cd_filer"], checker=users["cd_approver"])
    with pytest.raises(services.FilingError):
        services.filing_return(actor=users["my_regulator"], filing=filing, comments={"staff_count": "核实"})
    with pytest.raises(services.FilingError):
        services.filing_return(actor=users["cd_regulator"], filing=filing, comments={"no_such_field": "x"})
    services.filing_return(
        actor=users["cd_regulator"],
        filing=filing,
        comments={"staff_count": "请核实从业人员数"},
        note="请更正后重报",
    )
    filing.refresh_from_db()
    assert filing.status == "returned"
    v1 = filing.current_version
    assert v1.review_comments == {"staff_count": "请核实从业人员数", "_": "请更正后重报"}
    assert (
        Notification.objects.filter(
            user=users["cd_filer"], title=store(Message("%(p)s 季度报表被退回", p="2025年第2季度"))
        ).count()
        == 1
    )
    filing, v2, _ = services.filing_save_draft(
        actor=users["cd_filer"], institution=inst, period=Q2, values={"staff_count": "42"}, merge=True
    )
    assert v2.number == 2 and v2.values["staff_count"] == "42" and v2.values["net_assets"] == "35000.00"
    assert filing.status == "returned"
    services.filing_submit(actor=users["cd_approver"], filing=filing)
    filing.refresh_from_db()
    assert filing.status == "submitted" and filing.current_version.number == 2
    assert FilingVersion.objects.get(filing=filing, number=1).values["staff_count"] == "40"


def test_accept_then_amend_with_reason_keeps_previous_version(users, inst):
    history(inst, users)
    filing = file_and_submit(inst, Q2, GOOD_Q2, maker=users["cd_filer"], checker=users["cd_approver"])
    accepted = []
    signals.filing_accepted.connect(
        lambda **kw: accepted.append(kw["version"].number), weak=False, dispatch_uid="t2"
    )
    try:
        with pytest.raises(services.FilingError):
            services.filing_accept(actor=users["cd_approver"], filing=filing)
        services.filing_accept(actor=users["sc_regulator"], filing=filing)
    finally:
        signals.filing_accepted.disconnect(dispatch_uid="t2")
    assert accepted == [1]
    filing.refresh_from_db()
    assert filing.status == "accepted" and filing.accepted_at is not None
    with pytest.raises(services.FilingError):
        services.filing_amend(actor=users["cd_filer"], filing=filing, reason="  ")
    v2 = services.filing_amend(actor=users["cd_filer"], filing=filing, reason="审计调整净利润")
    assert (v2.number, v2.reason, v2.values) == (
        2,
        "审计调整净利润",
        FilingVersion.objects.get(filing=filing, number=1).values,
    )
    services.filing_save_draft(
        actor=users["cd_filer"], institution=inst, period=Q2, values={"net_profit": "280"}, merge=True
    )
    services.filing_submit(actor=users["cd_approver"], filing=filing)
    filing.refresh_from_db()
    assert filing.status == "submitted" and filing.current_version.reason == "审计调整净利润"
    assert FilingVersion.objects.get(filing=filing, number=1).values["net_profit"] == "300.00"


def test_nil_return_is_distinct_from_missing(users, inst):
    filing = file_and_submit(inst, Q2, {}, maker=users["cd_filer"], checker=users["cd_approver"], nil=True)
    assert filing.status == "submitted" and filing.current_version.nil_return is True
    assert filing.current_version.values == {}


def test_opening_values_prefilled_from_prior_year_q4(users, inst):
    file_and_submit(inst, "2024Q4", PRIOR_Q4, maker=users["cd_filer"], checker=users["cd_approver"])
    assert services.opening_values(inst.pk, Q2) == {
        "fin_balance_opening": "200000.00",
        "compensation_balance_opening": "600.00",
    }
    filing, version, _ = services.filing_save_draft(
        actor=users["cd_filer"], institution=inst, period=Q2, values={"staff_count": "40"}, merge=True
    )
    assert version.values == {
        "fin_balance_opening": "200000.00",
        "compensation_balance_opening": "600.00",
        "staff_count": "40",
    }


def test_bad_values_store_nothing(users, inst):
    with pytest.raises(services.FilingError) as exc:
        services.filing_save_draft(
            actor=users["cd_filer"],
            institution=inst,
            period=Q2,
            values={"staff_count": "-1", "net_assets": "abc", "bogus": "1", "fin_new": "1.234"},
        )
    assert exc.value.errors == {
        "staff_count": ["从业人员数（staff_count）应为非负整数，收到 -1"],
        "net_assets": ["净资产（net_assets）应为数字，收到“abc”"],
        "bogus": ["未知字段代码 bogus（模板中没有此字段）"],
        "fin_new": ["本年累计新增融资担保额（fin_new）最多保留两位小数（万元），收到“1.234”"],
    }
    assert not Filing.objects.exists()


def test_other_institution_and_regulators_cannot_file(users, inst):
    for who in ("my_filer", "cd_regulator", "sc_finance"):
        with pytest.raises(services.FilingError):
            services.filing_save_draft(actor=users[who], institution=inst, period=Q2, values={})
    assert not Filing.objects.exists()


def test_rule_severity_change_is_audited_and_changes_ruleset_version(users):
    rule = ValidationRule.objects.get(rule_id="QOQ-01")
    before = services.validation.ruleset_version(services.rule_specs(Q2.end))
    with pytest.raises(services.FilingError):
        services.rule_update(actor=users["cd_filer"], rule=rule, active=False)
    services.rule_update(actor=users["sc_regulator"], rule=rule, severity="error", note="从严")
    assert services.validation.ruleset_version(services.rule_specs(Q2.end)) != before
    services.rule_update(actor=users["sc_regulator"], rule=rule, active=False)
    assert "QOQ-01" not in {r.rule_id for r in services.rule_specs(Q2.end)}
    changes = [e.changes for e in AuditEvent.objects.for_object(rule).order_by("at")]
    assert changes == [{"severity": ["warning", "error"]}, {"active": [True, False]}]


def test_second_submit_of_the_same_version_is_refused(users, inst):
    filing, version, _ = services.filing_save_draft(
        actor=users["cd_filer"], institution=inst, period=Q2, values={}, nil_return=True
    )
    services.filing_submit(actor=users["cd_approver"], filing=filing)
    with pytest.raises(services.FilingError) as exc:
        services.filing_submit(actor=users["cd_approver"], filing=filing)
    assert exc.value.code == "conflict"
    assert FilingVersion.objects.filter(filing=filing, submitted_at__isnull=False).count() == 1


@pytest.fixture
def reference_data(transactional_db):
    """Transactional tests run last and flush every table: make sure regions and reporting's reference
    data (template v1, ruleset v1, the default deadline, the review points) are there (idempotent)."""
    import importlib

    from django.apps import apps

    from accounts.services import regions_load

    regions_load()
    importlib.import_module("reporting.migrations.0002_reference_data").load(apps, None)


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="in-memory shared-cache SQLite has no busy wait; "
    "the conditional update is covered by test_second_submit_of_the_same_version_is_refused",
)
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submits_give_one_submitted_version(reference_data, users, inst):
    history(inst, users)
    filing, version, _ = services.filing_save_draft(
        actor=users["cd_filer"], institution=inst, period=Q2, values=GOOD_Q2
    )
    barrier = threading.Barrier(2)
    outcomes = []

    def submit():
        try:
            barrier.wait(timeout=5)
            services.filing_submit(actor=users["cd_approver"], filing=filing)
            outcomes.append("ok")
        except services.FilingError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert FilingVersion.objects.filter(filing=filing, submitted_at__isnull=False).count() == 1
    filing.refresh_from_db()
    assert filing.status == "submitted"
    transitions = AuditEvent.objects.for_object(filing).filter(action="transition").count()
    assert transitions == 1


def test_future_period_is_refused(users, inst):
    from django.utils import timezone

    future = Period.containing(timezone.localdate()).next()
    with pytest.raises(services.FilingError) as exc:
        services.filing_save_draft(actor=users["cd_filer"], institution=inst, period=future, values={})
    assert "尚未开始" in exc.value.message
    assert not Filing.objects.exists()
