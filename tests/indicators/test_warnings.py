"""Warning cases: opened by breaches, escalated in consecutive quarters, closing proposed by a later
compliant filing; acknowledge / close transitions with authority checks and audit."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from reporting.indicator_models import WarningCase
from reporting.indicator_services import (
    institution_indicators_compute,
    warning_case_acknowledge,
    warning_case_close,
)

from .factories import amend, make_filing

pytestmark = pytest.mark.django_db
HIGH_CONCENTRATION = {"top1_client_liability": "4400"}  # 11% of net assets 40000 > 10% (CON-01)


def cases(inst):
    return {(c.threshold.code, c.year, c.quarter): (c.level, c.status, c.close_proposed)
            for c in WarningCase.objects.filter(institution=inst).select_related("threshold")}


def test_consecutive_breaches_escalate_and_compliance_proposes_closing(chengdu_institution):
    inst = chengdu_institution
    q1 = make_filing(inst, 2025, 1, **HIGH_CONCENTRATION)
    make_filing(inst, 2025, 2, **HIGH_CONCENTRATION)
    make_filing(inst, 2025, 3, **HIGH_CONCENTRATION)
    institution_indicators_compute(institution_id=inst.pk)
    assert cases(inst) == {("CON-01", 2025, 1): (1, "open", False), ("CON-01", 2025, 2): (2, "open", False),
                           ("CON-01", 2025, 3): (3, "open", False)}
    case = WarningCase.objects.get(institution=inst, quarter=1)
    assert (case.filing_id, case.value, case.severity) == (q1.pk, Decimal("0.110000"), "breach")
    assert case.cells == {"top1_client_liability": "4400", "net_assets": "40000"}
    q4 = make_filing(inst, 2025, 4, unearned_reserve="1000")  # compliant (Q4 also judges PRV-01: 1000/2000)
    institution_indicators_compute(institution_id=inst.pk, filing_ids=[q4.pk])
    assert {k: v[2] for k, v in cases(inst).items()} == {("CON-01", 2025, q): True for q in (1, 2, 3)}
    assert set(WarningCase.objects.values_list("close_proposed_by", flat=True)) == {q4.pk}


def test_gap_restarts_the_level(chengdu_institution):
    inst = chengdu_institution
    make_filing(inst, 2025, 1, **HIGH_CONCENTRATION)
    make_filing(inst, 2025, 2)
    make_filing(inst, 2025, 3, **HIGH_CONCENTRATION)
    institution_indicators_compute(institution_id=inst.pk)
    assert {k: v[0] for k, v in cases(inst).items()} == {("CON-01", 2025, 1): 1, ("CON-01", 2025, 3): 1}


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
    assert AuditEvent.objects.filter(object_id=str(case.pk), action="transition").count() == 2
    # a recompute keeps the closed case closed
    institution_indicators_compute(institution_id=chengdu_institution.pk)
    assert WarningCase.objects.get().status == "closed"
