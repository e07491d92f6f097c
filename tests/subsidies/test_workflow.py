"""The application workflow through the services: maker/checker, return ↔ resubmit, two officers,
amount changes need a reason, budget (pro rata or refuse), claims never twice, one decision only."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from core.exceptions import AppError
from subsidies import services
from subsidies.choices import Status
from subsidies.models import Application, ApplicationLine, Scheme

from . import helpers as h

pytestmark = pytest.mark.django_db


@pytest.fixture
def banan():
    inst = h.institution("500113")
    filer, approver = h.company_users(inst)
    h.guarantee(inst, amount=300, fee_rate="0.018")
    return {
        "inst": inst,
        "filer": filer,
        "approver": approver,
        "scheme": Scheme.objects.get(code="banan-fee-subsidy"),
        "reviewer": h.finance("500113"),
        "decider": h.finance("500113"),
    }


def submitted(ctx, inst=None, filer=None, approver=None):
    app = services.application_create(
        actor=filer or ctx["filer"], scheme=ctx["scheme"], institution=inst or ctx["inst"], year=2025
    )
    return services.application_submit(actor=approver or ctx["approver"], application=app)


def test_whole_workflow_with_return_and_history(banan):
    app = services.application_create(
        actor=banan["filer"], scheme=banan["scheme"], institution=banan["inst"], year=2025
    )
    with pytest.raises(AppError) as exc:
        services.application_submit(actor=banan["filer"], application=app)  # the filer prepares only
    assert exc.value.code == "forbidden"
    app = services.application_submit(actor=banan["approver"], application=app)
    assert app.status == Status.SUBMITTED
    with pytest.raises(AppError) as exc:
        services.application_return(actor=banan["reviewer"], application=app, note=" ")
    assert "note" in exc.value.errors
    app = services.application_return(actor=banan["reviewer"], application=app, note="请补充贷款合同")
    app = services.application_recompute(actor=banan["filer"], application=app, note="已补充")
    app = services.application_submit(actor=banan["approver"], application=app)
    assert app.status == Status.RESUBMITTED
    app = services.application_review(actor=banan["reviewer"], application=app, note="材料齐全")
    with pytest.raises(AppError) as exc:
        services.application_decide(actor=banan["reviewer"], application=app, approve=True)
    assert exc.value.code == "forbidden"  # the reviewer never decides
    with pytest.raises(AppError) as exc:
        services.application_decide(actor=banan["decider"], application=app, approve=True, amount=D("1.20"))
    assert "reason" in exc.value.errors  # a changed amount needs a reason
    app = services.application_decide(
        actor=banan["decider"], application=app, approve=True, amount=D("1.20"), reason="扣除逾期部分"
    )
    assert (app.status, app.approved_amount, app.final_amount, app.amount_reason) == (
        Status.APPROVED,
        D("1.20"),
        D("1.20"),
        "扣除逾期部分",
    )
    app = services.application_publish(actor=banan["decider"], application=app, on=dt.date(2026, 3, 1))
    assert (app.publicity_from, app.publicity_to) == (dt.date(2026, 3, 1), dt.date(2026, 3, 8))
    with pytest.raises(AppError) as exc:
        services.application_pay(
            actor=banan["decider"], application=app, paid_on=dt.date(2026, 3, 5), reference="X1"
        )
    assert "paid_on" in exc.value.errors
    app = services.application_pay(
        actor=banan["decider"], application=app, paid_on=dt.date(2026, 3, 9), reference="巴财拨〔2026〕12号"
    )
    assert app.status == Status.PAID and app.payment_reference == "巴财拨〔2026〕12号"
    steps = [(s.from_status, s.to_status) for s in app.steps.all()]
    assert steps == [
        ("", "draft"),
        ("draft", "submitted"),
        ("submitted", "returned"),
        ("returned", "resubmitted"),
        ("resubmitted", "reviewed"),
        ("reviewed", "approved"),
        ("approved", "publicity"),
        ("publicity", "paid"),
    ]


def test_rejection_needs_reason_and_frees_the_guarantees(banan):
    app = services.application_review(actor=banan["reviewer"], application=submitted(banan))
    with pytest.raises(AppError):
        services.application_decide(actor=banan["decider"], application=app, approve=False)
    app = services.application_decide(
        actor=banan["decider"], application=app, approve=False, reason="材料不实"
    )
    assert app.status == Status.REJECTED and not app.lines.filter(claimed=True).exists()
    again = services.application_create(
        actor=banan["filer"], scheme=banan["scheme"], institution=banan["inst"], year=2025
    )
    assert again.computed_amount == D("1.50") and again.lines.filter(claimed=True).count() == 1


def test_same_guarantee_never_claimed_twice_database_constraint(banan):
    app = services.application_create(
        actor=banan["filer"], scheme=banan["scheme"], institution=banan["inst"], year=2025
    )
    line = app.lines.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        ApplicationLine.objects.create(
            application=app,
            scheme=banan["scheme"],
            year=2025,
            guarantee_id=line.guarantee_id,
            label="dup",
            eligible=True,
            claimed=True,
        )
    # a second live application for the same scheme and year is refused too
    with pytest.raises(AppError) as exc:
        services.application_create(
            actor=banan["filer"], scheme=banan["scheme"], institution=banan["inst"], year=2025
        )
    assert exc.value.code == "conflict"


def test_stale_second_decision_gets_conflict(banan):
    app = services.application_review(actor=banan["reviewer"], application=submitted(banan))
    other_officer = h.finance("500113")
    stale = Application.objects.get(pk=app.pk)
    services.application_decide(actor=banan["decider"], application=app, approve=True)
    with pytest.raises(AppError) as exc:
        services.application_decide(actor=other_officer, application=stale, approve=False, reason="x")
    assert exc.value.code == "conflict"
    assert Application.objects.get(pk=app.pk).status == Status.APPROVED
    assert (
        Application.objects.get(pk=app.pk).steps.filter(to_status__in=["approved", "rejected"]).count() == 1
    )


def test_transition_is_conditional_on_revision(banan):
    app = services.application_review(actor=banan["reviewer"], application=submitted(banan))
    stale = Application.objects.get(pk=app.pk)
    Application.objects.filter(pk=app.pk).update(revision=app.revision + 1)  # someone else moved it
    with pytest.raises(AppError) as exc:
        services._transition(stale, banan["decider"], (Status.REVIEWED,), Status.APPROVED)
    assert exc.value.code == "conflict"


def _three_reviewed(ctx):
    apps = []
    for _ in range(3):
        inst = h.institution("500113")
        filer, approver = h.company_users(inst)
        h.guarantee(inst, amount=2000, fee_rate="0.018")  # 10.00 each
        app = submitted(ctx, inst, filer, approver)
        apps.append(services.application_review(actor=ctx["reviewer"], application=app))
    return apps


def test_budget_pro_rata_scales_every_unpaid_decision(banan):
    s = banan["scheme"]
    services.scheme_update(actor=banan["decider"], scheme=s, reason="2025年预算", budget=D("25"))
    a, b, c = _three_reviewed(banan)
    services.application_decide(actor=banan["decider"], application=a, approve=True)
    services.application_decide(actor=banan["decider"], application=b, approve=True)
    c = services.application_decide(actor=banan["decider"], application=c, approve=True)
    finals = [Application.objects.get(pk=x.pk) for x in (a, b, c)]
    assert [x.approved_amount for x in finals] == [D("10.00")] * 3
    assert [x.final_amount for x in finals] == [D("8.33")] * 3
    assert [x.pro_rata_factor for x in finals] == [D("0.83333333")] * 3  # 25 ÷ 30, as stored
    assert finals[0].steps.filter(note__contains="按比例核减").exists()


def test_budget_refuse_mode(banan):
    s = banan["scheme"]
    services.scheme_update(
        actor=banan["decider"], scheme=s, reason="2025年预算", budget=D("25"), budget_mode="refuse"
    )
    a, b, c = _three_reviewed(banan)
    done, refused = services.application_decide_many(actor=banan["decider"], applications=[a, b, c])
    assert len(done) == 2 and list(refused) == [c.pk] and "超出年度预算" in refused[c.pk]
    assert Application.objects.get(pk=c.pk).status == Status.REVIEWED


def test_scheme_edit_by_its_level_with_reason_and_history(banan):
    s = banan["scheme"]
    with pytest.raises(AppError) as exc:
        services.scheme_update(actor=h.finance("500000"), scheme=s, reason="x", publicity_days=5)
    assert exc.value.code == "forbidden"  # the city's bureau does not edit the district's scheme
    with pytest.raises(AppError) as exc:
        services.scheme_update(actor=banan["decider"], scheme=s, reason="", publicity_days=5)
    assert "reason" in exc.value.errors
    with pytest.raises(AppError) as exc:
        services.scheme_update(
            actor=banan["decider"], scheme=s, reason="改费率", params={"lines": [{"fee_rate_max": "abc"}]}
        )
    assert "params" in exc.value.errors and "fee_rate_max" in str(exc.value.message)
    s.refresh_from_db()
    assert s.params["lines"][0]["fee_rate_max"] == "0.02"  # nothing stored changed
    services.scheme_update(actor=banan["decider"], scheme=s, reason="公示期调整", publicity_days=5)
    rev = s.revisions.first()
    assert (rev.reason, rev.changed_by, rev.changes) == (
        "公示期调整",
        banan["decider"],
        {"publicity_days": [7, 5]},
    )


def test_scheme_create_by_finance_officer():
    officer = h.finance("500113")
    s = services.scheme_create(
        actor=officer,
        reason="新政策",
        code="banan-2026",
        name="巴南区2026年担保费补贴",
        kind="fee_subsidy",
        region_code="500113",
        effective_from=dt.date(2026, 1, 1),
        source="巴南府发〔2017〕30号 第七条",
        params={"lines": [{"key": "g", "label": "一般", "points": "0.005", "fee_rate_max": "0.02"}]},
        budget=D(100),
    )
    assert s.revisions.count() == 1
    with pytest.raises(AppError):
        services.scheme_create(
            actor=h.finance("371500"),
            code="x",
            name="x",
            kind="fee_subsidy",
            region_code="500113",
            effective_from=dt.date(2026, 1, 1),
            source="x",
            params={},
        )


def test_decided_amount_frozen_and_newer_data_shown(banan):
    app = services.application_review(actor=banan["reviewer"], application=submitted(banan))
    app = services.application_decide(actor=banan["decider"], application=app, approve=True)
    stamp = app.data_stamp
    h.guarantee(banan["inst"], amount=100, fee_rate="0.01")  # filed later
    app.refresh_from_db()
    assert app.approved_amount == D("1.50") and app.data_stamp == stamp
    assert services.data_stamp(app) != stamp
