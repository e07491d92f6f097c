"""Warning cases: opened by breaches, escalated in consecutive quarters, closing proposed by a later
compliant filing; acknowledge / close transitions with authority checks and audit."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from supervision.models import WarningCase
from supervision.services.cases import warning_case_acknowledge, warning_case_assign, warning_case_close
from supervision.services.compute import institution_indicators_compute

from .factories import HIGH_CONCENTRATION, amend, make_filing

pytestmark = pytest.mark.django_db


def cases(inst):
    return {
        (c.threshold.code, c.year, c.quarter): (c.level, c.status, c.close_proposed)
        for c in WarningCase.objects.filter(institution=inst).select_related("threshold")
    }


def history(case):
    return [(q.year, q.quarter, q.level) for q in case.quarters.order_by("year", "quarter")]


def test_consecutive_breaches_escalate_and_compliance_proposes_closing(chengdu_institution):
    inst = chengdu_institution
    q1 = make_filing(inst, 2025, 1, **HIGH_CONCENTRATION)
    make_filing(inst, 2025, 2, **HIGH_CONCENTRATION)
    make_filing(inst, 2025, 3, **HIGH_CONCENTRATION)
    institution_indicators_compute(institution_id=inst.pk)
    # one case spanning the three quarters, at level 3 (严重)
    assert cases(inst) == {("CON-01", 2025, 3): (3, "open", False)}
    case = WarningCase.objects.get(institution=inst)
    assert history(case) == [(2025, 1, 1), (2025, 2, 2), (2025, 3, 3)]
    assert (case.first_year, case.first_quarter, case.max_level) == (2025, 1, 3)
    assert (case.value, case.severity) == (Decimal("0.110000"), "breach")
    assert case.quarters.get(quarter=1).filing_id == q1.pk
    assert case.cells == {"top1_client_liability": "4400", "net_assets": "40000"}
    q4 = make_filing(inst, 2025, 4, unearned_reserve="1000")  # compliant (Q4 also judges PRV-01: 1000/2000)
    institution_indicators_compute(institution_id=inst.pk, filing_ids=[q4.pk])
    assert cases(inst) == {("CON-01", 2025, 3): (3, "open", True)}
    assert set(WarningCase.objects.values_list("close_proposed_by", flat=True)) == {q4.pk}


def test_gap_restarts_the_level(chengdu_institution):
    inst = chengdu_institution
    make_filing(inst, 2025, 1, **HIGH_CONCENTRATION)
    make_filing(inst, 2025, 2)
    make_filing(inst, 2025, 3, **HIGH_CONCENTRATION)
    institution_indicators_compute(institution_id=inst.pk)
    assert {k: v[0] for k, v in cases(inst).items()} == {("CON-01", 2025, 3): 1}
    assert history(WarningCase.objects.get()) == [(2025, 1, 1), (2025, 3, 1)]


def test_amended_filing_without_breach_proposes_closing_its_case(chengdu_institution):
    f = make_filing(chengdu_institution, 2025, 1, **HIGH_CONCENTRATION)
    institution_indicators_compute(institution_id=chengdu_institution.pk)
    amend(f, top1_client_liability="3000")
    institution_indicators_compute(institution_id=chengdu_institution.pk)
    assert cases(chengdu_institution) == {("CON-01", 2025, 1): (1, "open", True)}


def test_targets_and_data_quality_open_no_case(chengdu_institution):
    make_filing(chengdu_institution, 2025, 2, fin_liability_reported="220001")  # gap 1 > 0.5 (DQ-01)
    institution_indicators_compute(institution_id=chengdu_institution.pk)
    assert cases(chengdu_institution) == {}


def test_acknowledge_and_close(users, chengdu_institution):
    make_filing(chengdu_institution, 2025, 1, **HIGH_CONCENTRATION)
    institution_indicators_compute(institution_id=chengdu_institution.pk)
    case = WarningCase.objects.get()
    for outsider in ("my_regulator", "zj_regulator", "cd_filer", "cd_finance"):
        with pytest.raises(PermissionDenied):
            warning_case_acknowledge(actor=users[outsider], case=case)
    warning_case_acknowledge(actor=users["cd_regulator"], case=case, note="已约谈")
    case.refresh_from_db()
    assert (case.status, case.assigned_to) == ("acknowledged", users["cd_regulator"])
    with pytest.raises(ValidationError):
        warning_case_acknowledge(actor=users["cd_regulator"], case=case)
    with pytest.raises(ValidationError):
        warning_case_close(actor=users["cd_regulator"], case=case, note="  ")
    warning_case_close(actor=users["sc_regulator"], case=case, note="已整改")
    case.refresh_from_db()
    assert (case.status, case.note, case.closed_by) == ("closed", "已整改", users["sc_regulator"])
    assert (case.close_reason, case.closed_year, case.closed_quarter) == ("other", 2025, 1)
    assert AuditEvent.objects.filter(object_id=str(case.pk), action="transition").count() == 2
    # a recompute keeps the closed case closed
    institution_indicators_compute(institution_id=chengdu_institution.pk)
    assert WarningCase.objects.get().status == "closed"


def test_a_new_case_goes_to_the_regulator_nearest_the_institution(
    users, chengdu_institution, mianyang_institution
):
    """Chengdu county institution → the Chengdu city regulator; with no regulator in Chengdu, the province."""
    make_filing(chengdu_institution, 2025, 1, **HIGH_CONCENTRATION)
    make_filing(mianyang_institution, 2025, 1, **HIGH_CONCENTRATION)
    institution_indicators_compute(institution_id=chengdu_institution.pk)
    institution_indicators_compute(institution_id=mianyang_institution.pk)
    assert dict(WarningCase.objects.values_list("institution_id", "assigned_to__username")) == {
        chengdu_institution.pk: "t_cd_reg",
        mianyang_institution.pk: "t_my_reg",
    }
    users["cd_regulator"].is_active = False
    users["cd_regulator"].save()
    make_filing(chengdu_institution, 2025, 2, **HIGH_CONCENTRATION)
    institution_indicators_compute(institution_id=chengdu_institution.pk)
    # the case goes on in Q2 and keeps its handler
    assert WarningCase.objects.get(institution=chengdu_institution).assigned_to == users["cd_regulator"]
    from tests.factories import InstitutionFactory

    other = InstitutionFactory(region_id="510104", level="county")
    make_filing(other, 2025, 1, **HIGH_CONCENTRATION)
    institution_indicators_compute(institution_id=other.pk)
    assert WarningCase.objects.get(institution=other).assigned_to == users["sc_regulator"]


def test_reassign_only_to_a_regulator_covering_the_institution(users, chengdu_institution, client_for):
    make_filing(chengdu_institution, 2025, 1, **HIGH_CONCENTRATION)
    institution_indicators_compute(institution_id=chengdu_institution.pk)
    case = WarningCase.objects.get()
    page = client_for(users["cd_regulator"]).get(f"/supervision/warnings/{case.pk}/").content.decode()
    assert "转办" in page and f'<option value="{users["sc_regulator"].pk}">' in page
    assert f'<option value="{users["my_regulator"].pk}">' not in page  # Mianyang does not cover Chengdu
    for outsider in ("my_regulator", "zj_regulator"):  # cannot see the case at all
        response = client_for(users[outsider]).post(
            f"/supervision/warnings/{case.pk}/", {"action": "assign", "assignee": users[outsider].pk}
        )
        assert response.status_code == 404
    response = client_for(users["cd_regulator"]).post(
        f"/supervision/warnings/{case.pk}/", {"action": "assign", "assignee": users["my_regulator"].pk}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assigned_to == users["cd_regulator"]  # refused: Mianyang's regulator does not cover Chengdu
    with pytest.raises(ValidationError):
        warning_case_assign(actor=users["cd_regulator"], case=case, assignee=users["cd_finance"])
    with pytest.raises(PermissionDenied):
        warning_case_assign(actor=users["cd_filer"], case=case, assignee=users["sc_regulator"])
    client_for(users["cd_regulator"]).post(
        f"/supervision/warnings/{case.pk}/", {"action": "assign", "assignee": users["sc_regulator"].pk}
    )
    case.refresh_from_db()
    assert (case.assigned_to, case.status) == (users["sc_regulator"], "open")
    event = AuditEvent.objects.get(object_id=str(case.pk), action="update")
    assert (event.actor, event.changes) == (
        users["cd_regulator"],
        {"assigned_to": [users["cd_regulator"].pk, users["sc_regulator"].pk]},
    )
    warning_case_close(actor=users["sc_regulator"], case=case, note="已整改")
    with pytest.raises(ValidationError):
        warning_case_assign(actor=users["sc_regulator"], case=case, assignee=users["cd_regulator"])


def test_a_closed_case_reopens_when_the_rule_is_breached_again_and_escalation_is_audited(
    users, chengdu_institution
):
    inst = chengdu_institution
    make_filing(inst, 2025, 1, **HIGH_CONCENTRATION)
    institution_indicators_compute(institution_id=inst.pk)
    case = WarningCase.objects.get()
    warning_case_close(actor=users["cd_regulator"], case=case, note="已约谈", reason="measure_taken")
    institution_indicators_compute(institution_id=inst.pk)  # nothing new: stays closed
    assert WarningCase.objects.get().status == "closed"
    make_filing(inst, 2025, 2, **HIGH_CONCENTRATION)
    institution_indicators_compute(institution_id=inst.pk)
    case.refresh_from_db()
    assert (case.status, case.reopened_count, case.level, case.max_level) == ("open", 1, 2, 2)
    assert (case.closed_at, case.close_reason, case.closed_year) == (None, "", None)
    assert history(case) == [(2025, 1, 1), (2025, 2, 2)]
    system = AuditEvent.objects.filter(object_id=str(case.pk), actor=None).values_list("changes", flat=True)
    assert list(system) == [{"status": ["closed", "open"], "year": [2025, 2025], "quarter": [1, 2]}]
    make_filing(inst, 2025, 3, **HIGH_CONCENTRATION)
    institution_indicators_compute(institution_id=inst.pk)
    case.refresh_from_db()
    assert (case.level, case.max_level, case.status) == (3, 3, "open")
    assert AuditEvent.objects.filter(object_id=str(case.pk), actor=None).count() == 2
    assert AuditEvent.objects.filter(object_id=str(case.pk), actor=None).first().changes == {"level": [2, 3]}


def test_new_cases_are_built_as_the_model_builds_them(chengdu_institution):
    """The positional constructor of new cases (a first recompute opens tens of thousands) gives every
    field the value the keyword form gives it, and refuses a field the model does not have."""
    from supervision.models import Threshold
    from supervision.services.cases import _fast_constructor

    threshold = Threshold.objects.order_by("pk").first()
    values = {
        "institution_id": chengdu_institution.pk,
        "threshold_id": threshold.pk,
        "filing_id": 7,
        "year": 2025,
        "quarter": 2,
        "severity": "breach",
        "level": 2,
        "value": Decimal("0.125"),
        "cells": {"net_assets": "40000"},
        "close_proposed_by_id": None,
    }
    fast = _fast_constructor(WarningCase)(**values)
    slow = WarningCase(**values)
    names = [f.attname for f in WarningCase._meta.concrete_fields]
    assert [getattr(fast, n) for n in names] == [getattr(slow, n) for n in names]
    assert (fast.status, fast.max_level, fast.reopened_count, fast.cells) == ("open", 1, 0, values["cells"])
    assert fast.cells is not _fast_constructor(WarningCase)(**{**values, "cells": {}}).cells
    with pytest.raises(TypeError, match="levle"):
        _fast_constructor(WarningCase)(levle=3)
