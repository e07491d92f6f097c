"""Signals and policy changes recompute exactly the affected filings; the what-if preview agrees with
the stored result after the change."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from core.models import AuditEvent, Job
from institutions.signals import government_backed_changed, institution_attributes_changed
from reporting.signals import filing_accepted, filing_submitted
from supervision.models import (
    IndicatorBreach,
    IndicatorRun,
    IndicatorValue,
    PolicyParameter,
    Threshold,
)
from supervision.services.compute import institution_indicators_compute
from supervision.services.policy import (
    THRESHOLD_FIELDS,
    parameter_preview,
    parameter_save,
    threshold_preview,
    threshold_save,
)
from tests.factories import InstitutionFactory

from .factories import amend, make_filing

pytestmark = pytest.mark.django_db


def counts():
    return dict(IndicatorRun.objects.values_list("filing_id", "compute_count"))


def test_submit_and_accept_signals_compute_through_a_job(
    users, chengdu_institution, django_capture_on_commit_callbacks
):
    f = make_filing(chengdu_institution, 2025, 2)
    with django_capture_on_commit_callbacks(execute=True):
        filing_submitted.send(sender=None, filing=f, version=f.current_version, actor=users["cd_filer"])
    assert IndicatorValue.objects.filter(filing=f).count() == 28
    job = Job.objects.get(parent=None)
    assert (job.kind, job.status, job.total, job.done_count, job.created_by) == (
        "indicators.recompute",
        "done",
        1,
        1,
        users["cd_filer"],
    )
    assert job.params["institutions"] == {str(chengdu_institution.pk): [f.pk]}
    amend(f, net_assets="19333.333333", farmer_small_micro_clients="700")
    with django_capture_on_commit_callbacks(execute=True):
        filing_accepted.send(sender=None, filing=f, version=f.current_version, actor=users["cd_regulator"])
    assert IndicatorValue.objects.get(filing=f, code="leverage").value == Decimal("12.000000")
    # net assets 19333.33: leverage 12 > 10 (no focus); 3000 and 5000 exceed 10% / 15% of net assets;
    # (19333.33 + 500 + 2500) / 50000 = 44.7% < 60%
    assert set(IndicatorBreach.objects.filter(filing=f).values_list("threshold__code", flat=True)) == {
        "LEV-01",
        "CON-01",
        "CON-02",
        "AST-04",
    }
    assert counts() == {f.pk: 2}


def test_recompute_is_idempotent(chengdu_institution):
    f = make_filing(
        chengdu_institution,
        2025,
        2,
        fee_new_le5m="600",
        net_assets="19333.333333",
        farmer_small_micro_clients="700",
    )
    institution_indicators_compute(institution_id=chengdu_institution.pk)
    snapshot = (
        list(IndicatorValue.objects.filter(filing=f).values_list("code", "value").order_by("code")),
        list(IndicatorBreach.objects.values_list("threshold_id", "value")),
    )
    institution_indicators_compute(institution_id=chengdu_institution.pk)
    assert snapshot == (
        list(IndicatorValue.objects.filter(filing=f).values_list("code", "value").order_by("code")),
        list(IndicatorBreach.objects.values_list("threshold_id", "value")),
    )


def test_values_are_keyed_by_filing_and_code(chengdu_institution):
    """No surrogate id: the key is (filing, code), a second row for the same pair is refused, and the
    values of an institution are found through its filings."""
    from django.db import IntegrityError, transaction

    f = make_filing(chengdu_institution, 2025, 2)
    institution_indicators_compute(institution_id=chengdu_institution.pk)
    value = IndicatorValue.objects.get(filing=f, code="leverage")
    assert value.pk == (f.pk, "leverage")
    assert IndicatorValue.objects.get(pk=(f.pk, "leverage")).value == value.value
    assert not any(field.name == "id" for field in IndicatorValue._meta.concrete_fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorValue.objects.bulk_create(
            [IndicatorValue(filing=f, institution=chengdu_institution, year=2025, quarter=2, code="leverage")]
        )
    assert IndicatorValue.objects.filter(filing__institution=chengdu_institution).count() == 28


@pytest.fixture
def spread():
    """Filings of four institutions in two provinces over two quarters, all computed."""
    cd = InstitutionFactory(region_id="510104", level="county")
    cd2 = InstitutionFactory(region_id="510107", level="county")
    my = InstitutionFactory(region_id="510703", level="county")
    wz = InstitutionFactory(region_id="330302", level="county")
    filings = {}
    for inst, lev_net in ((cd, "30000"), (cd2, "19333.333333"), (my, "25000"), (wz, "41000")):
        for q in (1, 2):
            filings[(inst.region_id, q)] = make_filing(
                inst, 2025, q, net_assets=lev_net, farmer_small_micro_clients="700"
            )
        institution_indicators_compute(institution_id=inst.pk)
    return filings


def test_regional_threshold_recomputes_exactly_its_region(users, spread, django_capture_on_commit_callbacks):
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        t, job = threshold_save(
            actor=users["cd_regulator"],
            code="CD-LEV",
            indicator="leverage",
            comparator="<=",
            value=Decimal("8"),
            severity="warning",
            scope="all",
            region_code="510100",
            region_name="成都市",
            effective_from=dt.date(2025, 4, 1),
            effective_to=None,
            source="测试文件",
            confidence="test",
            q4_only=False,
        )
    after = counts()
    changed = {fid for fid in after if after[fid] != before[fid]}
    assert changed == {spread[("510104", 2)].pk, spread[("510107", 2)].pk}  # Chengdu, Q2 only
    job.refresh_from_db()
    assert (job.status, job.total, job.done_count, job.params["filings"]) == (
        "done",
        2,
        2,
        2,
    )  # progress counts institutions
    # leverage 220000/29000 = 7.59 complies; 220000/18333.33 = 12 breaches
    assert set(IndicatorBreach.objects.filter(threshold=t).values_list("filing_id", flat=True)) == {
        spread[("510107", 2)].pk
    }
    assert AuditEvent.objects.filter(object_id=str(t.pk), action="create").exists()


def test_preview_equals_the_result_of_the_change(users, spread, django_capture_on_commit_callbacks):
    lev01 = Threshold.objects.get(code="LEV-01")
    old = set(IndicatorBreach.objects.filter(threshold=lev01).values_list("filing_id", flat=True))
    proposed = {"value": Decimal("6"), "effective_from": dt.date(2025, 4, 1)}
    preview = threshold_preview(threshold=lev01, proposed=proposed, user=users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        threshold_save(
            actor=users["admin"],
            threshold=lev01,
            **{
                **{
                    f: getattr(lev01, f)
                    for f in (
                        "indicator",
                        "comparator",
                        "severity",
                        "scope",
                        "region_code",
                        "region_name",
                        "effective_to",
                        "source",
                        "confidence",
                        "q4_only",
                    )
                },
                **proposed,
            },
        )
    new = set(IndicatorBreach.objects.filter(threshold=lev01).values_list("filing_id", flat=True))
    newly = {e["filing_id"] for p in preview for e in p["newly"]}
    cleared = {e["filing_id"] for p in preview for e in p["cleared"]}
    assert newly == new - old and cleared == old - new
    assert newly and cleared  # the change moves filings both ways
    # leverage 7.59 (510104) and 9.17 (510703) newly breach 6× in Q2; 12× (510107) stays; 5.5× (330302)
    # complies; Q1 leaves the rule's period, so 510107's Q1 breach clears
    assert newly == {spread[("510104", 2)].pk, spread[("510703", 2)].pk}
    assert cleared == {spread[("510107", 1)].pk}
    assert [str(p["period"]) for p in preview] == ["2025Q2", "2025Q1"]


def test_regulator_cannot_edit_national_or_foreign_thresholds(users):
    lev01 = Threshold.objects.get(code="LEV-01")
    fields = {f: getattr(lev01, f) for f in THRESHOLD_FIELDS}
    with pytest.raises(PermissionDenied):
        threshold_save(actor=users["sc_regulator"], threshold=lev01, **fields)
    with pytest.raises(PermissionDenied):
        threshold_save(
            actor=users["cd_regulator"],
            threshold=Threshold.objects.get(code="FEE-04"),
            **{**fields, "region_code": "330300"},
        )
    with pytest.raises(PermissionDenied):
        threshold_save(actor=users["cd_filer"], code="X", **{**fields, "region_code": "510104"})
    assert Threshold.objects.get(code="LEV-01").value == Decimal("10")


def test_weight_change_recomputes_the_periods_it_covers(users, spread, django_capture_on_commit_callbacks):
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        parameter_save(
            actor=users["admin"],
            key="weight_small_micro_farmer",
            value=Decimal("0.5"),
            effective_from=dt.date(2025, 6, 30),
            source="测试",
        )
    after = counts()
    assert {fid for fid in after if after[fid] != before[fid]} == {
        f.pk for (_r, q), f in spread.items() if q == 2
    }
    q2 = spread[("510104", 2)]
    assert IndicatorValue.objects.get(filing=q2, code="fin_liability_balance").value == Decimal("195000")
    assert IndicatorValue.objects.get(
        filing=spread[("510104", 1)], code="fin_liability_balance"
    ).value == Decimal("220000")
    with pytest.raises(PermissionDenied):
        parameter_save(
            actor=users["sc_regulator"],
            key="weight_housing",
            value=Decimal("1"),
            effective_from=dt.date(2025, 1, 1),
            source="x",
        )


def test_gov_backed_change_recomputes_filings_from_that_date(
    spread, gov_list, django_capture_on_commit_callbacks
):
    inst = spread[("510104", 1)].institution
    gov_list(inst, dt.date(2025, 5, 1))
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        government_backed_changed.send(sender=None, institution_ids=[inst.pk], on=dt.date(2025, 5, 1))
    after = counts()
    assert {fid for fid in after if after[fid] != before[fid]} == {spread[("510104", 2)].pk}
    assert IndicatorRun.objects.get(filing=spread[("510104", 2)]).gov_backed is True
    assert IndicatorRun.objects.get(filing=spread[("510104", 1)]).gov_backed is False


def test_attribute_change_recomputes_all_filings_of_the_institution(
    spread, django_capture_on_commit_callbacks
):
    inst = spread[("330302", 1)].institution
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        institution_attributes_changed.send(sender=None, institution_ids=[inst.pk])
    after = counts()
    assert {fid for fid in after if after[fid] != before[fid]} == {
        spread[("330302", 1)].pk,
        spread[("330302", 2)].pk,
    }


def test_filing_no_longer_counted_loses_its_results(chengdu_institution):
    f = make_filing(chengdu_institution, 2025, 2, top1_client_liability="4400")
    institution_indicators_compute(institution_id=chengdu_institution.pk)
    assert IndicatorValue.objects.filter(filing=f).count() == 28
    f.current_version.submitted_at = None  # e.g. a new draft version became current after a return
    f.current_version.save()
    assert institution_indicators_compute(institution_id=chengdu_institution.pk, filing_ids=[f.pk]) == []
    assert not IndicatorValue.objects.filter(filing=f).exists()
    assert not IndicatorBreach.objects.filter(filing=f).exists()
    assert not IndicatorRun.objects.filter(filing=f).exists()


def test_demo_seed_computes_every_counted_filing(chengdu_institution, mianyang_institution):
    from supervision import demo as supervision_demo

    make_filing(chengdu_institution, 2025, 1)
    make_filing(chengdu_institution, 2025, 2)
    make_filing(mianyang_institution, 2025, 2, submitted=False)
    result = supervision_demo.seed()
    assert result == {"thresholds_created": 0, "parameters_created": 0, "institutions": 1, "filings": 2}
    assert IndicatorRun.objects.count() == 2


@pytest.mark.parametrize(
    "change",
    [
        {"value": Decimal("9")},
        {"value": Decimal("12"), "comparator": "<"},
        {"scope": "all"},
        {"region_code": "510100", "region_name": "成都市"},
        {"effective_to": dt.date(2025, 3, 31)},
        {"effective_from": dt.date(2025, 4, 1), "value": Decimal("7")},
        {"indicator": "single_client_concentration", "value": Decimal("0.1"), "comparator": ">="},
    ],
)
def test_preview_agrees_with_the_stored_result_for_any_change(
    users, spread, django_capture_on_commit_callbacks, change
):
    lev01 = Threshold.objects.get(code="LEV-01")
    fields = {f: getattr(lev01, f) for f in THRESHOLD_FIELDS}
    proposed = {**fields, **change}
    old = set(IndicatorBreach.objects.filter(threshold=lev01).values_list("filing_id", flat=True))
    preview = threshold_preview(threshold=lev01, proposed=proposed, user=users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        threshold_save(actor=users["admin"], threshold=lev01, **proposed)
    new = set(IndicatorBreach.objects.filter(threshold=lev01).values_list("filing_id", flat=True))
    assert {e["filing_id"] for p in preview for e in p["newly"]} == new - old
    assert {e["filing_id"] for p in preview for e in p["cleared"]} == old - new


def breach_pairs():
    return set(IndicatorBreach.objects.values_list("filing_id", "threshold__code"))


@pytest.mark.parametrize(
    ("change", "moved"),
    [
        (
            {
                "key": "weight_small_micro_farmer",
                "value": Decimal("0.5"),
                "effective_from": dt.date(2025, 6, 30),
            },
            True,
        ),
        ({"key": "weight_other", "value": Decimal("1.6"), "effective_from": dt.date(2025, 1, 1)}, True),
        (
            {"key": "deduct_guarantee_equity", "value": Decimal("0"), "effective_from": dt.date(2025, 4, 1)},
            False,
        ),  # no equity
        ({"key": "sbf_client_share", "value": Decimal("0.5"), "effective_from": dt.date(2025, 1, 1)}, True),
        (
            {"key": "weight_housing", "value": Decimal("0.3"), "effective_from": dt.date(2019, 1, 1)},
            False,
        ),  # as stored
    ],
)
def test_parameter_preview_agrees_with_the_recompute(
    users, spread, django_capture_on_commit_callbacks, change, moved
):
    old = breach_pairs()
    preview = parameter_preview(**change, user=users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        parameter_save(actor=users["admin"], source="测试", **change)
    new = breach_pairs()
    assert {(e["filing_id"], e["rule"]) for p in preview for e in p["newly"]} == new - old
    assert {(e["filing_id"], e["rule"]) for p in preview for e in p["cleared"]} == old - new
    assert bool(new ^ old) is moved


def test_parameter_preview_by_hand(users, spread):
    """Weight 0.5 on small/micro and farm loans from 2025-06-30 moves Q2 only: the computed liability
    balance falls from 220,000 to 195,000, so every Q2 filing's reported 220,000.30 is 25,000.30 off
    (DQ-01); 510107's leverage 12× → 10.64× still breaches LEV-01, so nothing clears. A client-share
    test of 50 % makes 510107 small-business-focused in both quarters: its 12× clears LEV-01 (15× cap)."""
    weight = {
        "key": "weight_small_micro_farmer",
        "value": Decimal("0.5"),
        "effective_from": dt.date(2025, 6, 30),
    }

    def shown(preview):
        return [
            (
                str(p["period"]),
                sorted((e["filing_id"], e["rule"], e["value"]) for e in p["newly"]),
                sorted((e["filing_id"], e["rule"]) for e in p["cleared"]),
            )
            for p in preview
        ]

    q2 = [spread[(r, 2)].pk for r in ("510104", "510107", "510703", "330302")]
    assert shown(parameter_preview(**weight, user=users["admin"])) == [
        ("2025Q2", sorted((pk, "DQ-01", Decimal("25000.300000")) for pk in q2), [])
    ]
    # scoped like every page: a Mianyang regulator's preview shows Mianyang filings only
    assert shown(parameter_preview(**weight, user=users["my_regulator"])) == [
        ("2025Q2", [(spread[("510703", 2)].pk, "DQ-01", Decimal("25000.300000"))], [])
    ]
    focus = {"key": "sbf_client_share", "value": Decimal("0.5"), "effective_from": dt.date(2025, 1, 1)}
    preview = parameter_preview(**focus, user=users["admin"])
    assert shown(preview) == [
        ("2025Q2", [], [(spread[("510107", 2)].pk, "LEV-01")]),
        ("2025Q1", [], [(spread[("510107", 1)].pk, "LEV-01")]),
    ]
    assert preview[0]["by_rule"] == [{"rule": "LEV-01", "newly": 0, "cleared": 1}]


def test_parameter_page_previews_without_saving(
    users, client_for, spread, django_capture_on_commit_callbacks
):
    """The what-if runs as a background job in parts, with progress; its page shows the result, the
    same as the direct preview."""
    data = {
        "key": "weight_other",
        "value": "1.6",
        "effective_from": "2025-01-01",
        "source": "测试",
        "action": "preview",
    }
    before = PolicyParameter.objects.count()
    admin = client_for(users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/supervision/thresholds/parameters/", data)
    assert response.status_code == 302
    job = Job.objects.get(kind="indicators.parameter_preview")
    assert response.headers["Location"] == f"/supervision/thresholds/parameters/preview/{job.pk}/"
    job.refresh_from_db()
    assert (job.status, job.total, job.done_count, job.created_by) == ("done", 8, 8, users["admin"])
    page = admin.get(response.headers["Location"])
    assert page.status_code == 200 and "模拟测算（尚未保存）" in page.content.decode()
    direct = parameter_preview(
        key="weight_other", value=Decimal("1.6"), effective_from=dt.date(2025, 1, 1), user=users["admin"]
    )
    assert page.context["preview"] == direct and direct
    assert PolicyParameter.objects.count() == before
    assert client_for(users["cd_regulator"]).get(response.headers["Location"]).status_code == 404
    assert (
        client_for(users["sc_regulator"]).post("/supervision/thresholds/parameters/", data).status_code == 403
    )


def test_parameter_save_is_all_or_nothing(users, spread, monkeypatch):
    """If the recompute cannot be enqueued, the parameter row and its audit event are not kept either."""
    from core.models import AuditEvent
    from supervision.services import policy as indicator_services

    def refuse(**_kwargs):
        raise RuntimeError("broker down")

    monkeypatch.setattr(indicator_services, "indicators_recompute_enqueue", refuse)
    rows, events = PolicyParameter.objects.count(), AuditEvent.objects.count()
    with pytest.raises(RuntimeError):
        parameter_save(
            actor=users["admin"],
            key="weight_other",
            value=Decimal("1.6"),
            effective_from=dt.date(2025, 1, 1),
            source="测试",
        )
    assert (PolicyParameter.objects.count(), AuditEvent.objects.count()) == (rows, events)
