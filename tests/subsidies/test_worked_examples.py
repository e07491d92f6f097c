"""Every worked example of schemes.md §1–3, through the services the pages and the API call, on the
seeded schemes (the numbers are the seeded scheme data, except the rates and pools the documents leave
to the bureau, which a test sets the way a bureau does: scheme_update with a reason)."""

import datetime as dt
from decimal import Decimal as D

import pytest

from core.stored_text import show
from subsidies import services
from subsidies.choices import Status
from subsidies.models import Scheme

from . import helpers as h

pytestmark = pytest.mark.django_db


def scheme(code):
    return Scheme.objects.get(code=code)


def test_banan_general_and_rural_lines():
    inst = h.institution("500113")
    filer, _approver = h.company_users(inst)
    ok = h.guarantee(inst, amount=300, fee_rate="0.018")  # 365 days in 2025
    too_dear = h.guarantee(inst, amount=300, fee_rate="0.021")
    rural = h.guarantee(
        inst,
        amount=50,
        fee_rate="0.010",
        line="rural_startup",
        start=dt.date(2025, 3, 1),
        end=dt.date(2025, 8, 28),
    )
    app = services.application_create(
        actor=filer, scheme=scheme("banan-fee-subsidy"), institution=inst, year=2025
    )
    lines = {line.guarantee_id: line for line in app.lines.all()}
    assert lines[ok.pk].eligible and lines[ok.pk].days == 365
    assert round(lines[ok.pk].amount, 10) == D("1.5")
    assert not lines[too_dear.pk].eligible and lines[too_dear.pk].amount == 0
    assert "费率2.1%高于2%" in show(lines[too_dear.pk].reason)
    assert lines[rural.pk].eligible and lines[rural.pk].days == 180 and lines[rural.pk].line_key == "rural"
    assert round(lines[rural.pk].amount, 5) == D("0.24658")
    # 1.50 + 0.246575… rounded once at the end
    assert app.computed_amount == D("1.75")
    assert app.computation["eligible"] == 2 and app.computation["guarantees"] == 3


def test_banan_single_examples_alone():
    inst = h.institution("500113")
    filer, _ = h.company_users(inst)
    h.guarantee(
        inst,
        amount=50,
        fee_rate="0.01",
        line="farmer_land_income",
        start=dt.date(2025, 3, 1),
        end=dt.date(2025, 8, 28),
    )
    app = services.application_create(
        actor=filer, scheme=scheme("banan-fee-subsidy"), institution=inst, year=2025
    )
    assert app.computed_amount == D("0.25")


def test_liaocheng_fee_subsidy_needs_the_years_rate_then_applies_its_conditions():
    inst = h.institution("371502")
    h.put_on_govlist(inst, "371500")
    filer, _ = h.company_users(inst)
    big = h.client(inst)
    h.guarantee(inst, amount=600, fee_rate="0.008", gov_backed=True, owner=big)
    h.guarantee(inst, amount=500, fee_rate="0.008", gov_backed=True, owner=big)  # client total 1100 > 1000
    ok = h.guarantee(inst, amount=1000, fee_rate="0.01", gov_backed=True)  # 1000 inclusive, 1 % inclusive
    h.guarantee(inst, amount=100, fee_rate="0.009", gov_backed=False)
    s = scheme("liaocheng-fee-subsidy")
    app = services.application_create(actor=filer, scheme=s, institution=inst, year=2025)
    assert app.computed_amount is None and "未设定2025年度的补贴比例" in show(app.uncomputable_reason)
    bureau = h.finance("371500")
    services.scheme_update(
        actor=bureau,
        scheme=s,
        reason="2025年度补贴比例",
        params={**s.params, "yearly_points": {"2025": "0.005"}},
    )
    app = services.application_recompute(actor=filer, application=app)
    eligible = [line.guarantee_id for line in app.lines.all() if line.eligible]
    assert eligible == [ok.pk]
    assert app.computed_amount == D("5.00")  # 1000 × 0.5 % × 365/365


def test_award_pool_worked_example():
    s = scheme("sc-fee-reduction-award")
    province = h.finance("510000")
    services.scheme_update(actor=province, scheme=s, reason="2025年资金池", budget=D(1000))
    city = h.finance("510100")
    apps = {}
    for name, amount, fees in (("A", 20000, 240), ("B", 10000, 180), ("C", 5000, 110)):
        inst = h.institution("510104")
        filer, approver = h.company_users(inst)
        h.filed(inst, 2025, 4, {"annualized_new_amount_le5m": amount, "fee_new_le5m": fees})
        app = services.application_create(actor=filer, scheme=s, institution=inst, year=2025)
        services.application_submit(actor=approver, application=app)
        services.application_review(actor=city, application=app)
        apps[name] = app
    services.award_allocate(actor=province, scheme=s, year=2025)
    got = {k: (a.__class__.objects.get(pk=a.pk).proposed_amount) for k, a in apps.items()}
    assert got == {"A": D("750.00"), "B": D("250.00"), "C": D("0.00")}
    c = apps["C"].__class__.objects.get(pk=apps["C"].pk)
    assert "高于奖补上限" in show(c.lines.get().reason)
    a = services.application_decide(actor=province, application=apps["A"], approve=True)
    assert (a.status, a.approved_amount, a.final_amount) == (Status.APPROVED, D("750.00"), D("750.00"))


def _liaocheng_agency(released, compensation):
    inst = h.institution("371500")
    h.put_on_govlist(inst, "371500")
    filer, approver = h.company_users(inst)
    g1 = h.guarantee(
        inst, amount=released - compensation, fee_rate="0.01", gov_backed=True, start=dt.date(2024, 6, 1)
    )
    h.event(g1, "release", dt.date(2025, 5, 1), released - compensation)
    if compensation:
        g2 = h.guarantee(
            inst, amount=compensation, fee_rate="0.01", gov_backed=True, start=dt.date(2024, 6, 1)
        )
        h.event(g2, "compensation", dt.date(2025, 7, 1), compensation)
    other = h.guarantee(inst, amount=500, fee_rate="0.01", gov_backed=False, start=dt.date(2024, 6, 1))
    h.event(other, "compensation", dt.date(2025, 7, 1), 500)  # not government-backed: not counted
    return inst, filer, approver


@pytest.mark.parametrize(
    ("released", "compensation", "marginal", "whole"),
    [(10000, 600, D("430.00"), D("300.00")), (10000, 1000, D("530.00"), D("400.00"))],
)
def test_liaocheng_risk_compensation_both_results_method_from_scheme(released, compensation, marginal, whole):
    inst, filer, _ = _liaocheng_agency(released, compensation)
    s = scheme("liaocheng-risk-compensation")
    app = services.application_create(actor=filer, scheme=s, institution=inst, year=2025)
    assert (app.marginal_amount, app.whole_amount) == (marginal, whole)
    assert app.computed_amount == marginal and app.computation["method"] == "marginal"
    services.scheme_update(
        actor=h.finance("371500"), scheme=s, reason="按全额计算", params={**s.params, "method": "whole"}
    )
    app = services.application_recompute(actor=filer, application=app)
    assert app.computed_amount == whole and (app.marginal_amount, app.whole_amount) == (marginal, whole)


def test_risk_compensation_nothing_released_is_refused_with_reason():
    inst = h.institution("371500")
    h.put_on_govlist(inst, "371500")
    filer, approver = h.company_users(inst)
    app = services.application_create(
        actor=filer, scheme=scheme("liaocheng-risk-compensation"), institution=inst, year=2025
    )
    assert app.computed_amount is None and "代偿率无法计算" in show(app.uncomputable_reason)
    with pytest.raises(services.AppError) as exc:
        services.application_submit(actor=approver, application=app)
    assert "无法测算" in str(exc.value.message)
