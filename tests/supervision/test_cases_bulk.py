"""Warning cases a person can work: bulk assign and bulk close (all or none, authority checked), filter
by rule name, export through the formula-safe writer, and the list's fixed query count."""

import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent
from supervision.models import WarningCase
from supervision.services.cases import warning_cases_bulk_assign, warning_cases_bulk_close
from supervision.services.compute import institution_indicators_compute
from tests.factories import InstitutionFactory

from .factories import HIGH_CONCENTRATION, make_filing

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(users, chengdu_institution, mianyang_institution):
    for inst in (chengdu_institution, mianyang_institution):
        make_filing(inst, 2025, 1, **HIGH_CONCENTRATION)
        make_filing(inst, 2025, 2, **HIGH_CONCENTRATION)
        institution_indicators_compute(institution_id=inst.pk)
    return {
        "cd": WarningCase.objects.get(institution=chengdu_institution),
        "my": WarningCase.objects.get(institution=mianyang_institution),
    }


def test_bulk_close_with_one_reason_is_all_or_none(users, cases):
    ids = [cases["cd"].pk, cases["my"].pk]
    with pytest.raises(PermissionDenied):  # Chengdu's regulator does not cover Mianyang
        warning_cases_bulk_close(actor=users["cd_regulator"], case_ids=ids, reason="rectified", note="已整改")
    assert set(WarningCase.objects.values_list("status", flat=True)) == {"open"}
    with pytest.raises(ValidationError):
        warning_cases_bulk_close(actor=users["sc_regulator"], case_ids=ids, reason="rectified", note=" ")
    with pytest.raises(ValidationError):
        warning_cases_bulk_close(actor=users["sc_regulator"], case_ids=ids, reason="bogus", note="x")
    assert (
        warning_cases_bulk_close(actor=users["sc_regulator"], case_ids=ids, reason="rectified", note="已整改")
        == 2
    )
    assert set(WarningCase.objects.values_list("status", "close_reason", "note", "closed_quarter")) == {
        ("closed", "rectified", "已整改", 2)
    }
    assert AuditEvent.objects.filter(action="transition", actor=users["sc_regulator"]).count() == 2


def test_bulk_assign_only_to_a_regulator_covering_every_case(users, cases):
    ids = [cases["cd"].pk, cases["my"].pk]
    with pytest.raises(ValidationError):  # Chengdu's regulator does not cover Mianyang's case
        warning_cases_bulk_assign(actor=users["sc_regulator"], case_ids=ids, assignee=users["cd_regulator"])
    with pytest.raises(PermissionDenied):
        warning_cases_bulk_assign(actor=users["cd_filer"], case_ids=ids, assignee=users["sc_regulator"])
    assert (
        warning_cases_bulk_assign(actor=users["sc_regulator"], case_ids=ids, assignee=users["sc_regulator"])
        == 2
    )
    assert set(WarningCase.objects.values_list("assigned_to", flat=True)) == {users["sc_regulator"].pk}


def test_bulk_close_through_the_page(client_for, users, cases):
    url = reverse("supervision:warnings")
    response = client_for(users["my_regulator"]).post(
        url, {"action": "bulk_close", "case": [cases["cd"].pk], "reason": "rectified", "note": "x"}
    )
    assert response.status_code == 302
    assert WarningCase.objects.get(pk=cases["cd"].pk).status == "open"  # refused: not Mianyang's
    assert client_for(users["cd_filer"]).post(url, {"action": "bulk_close"}).status_code == 403
    client_for(users["cd_regulator"]).post(
        url, {"action": "bulk_close", "case": [cases["cd"].pk], "reason": "explained", "note": "情况说明合理"}
    )
    assert WarningCase.objects.get(pk=cases["cd"].pk).close_reason == "explained"


def test_filter_by_rule_name_and_code(client_for, users, cases):
    c = client_for(users["sc_regulator"])
    base = reverse("supervision:warnings")
    assert len(c.get(base + "?rule=CON-01").context["page"]) == 2
    assert len(c.get(base + "?rule=集中度").context["page"]) == 2  # 单户在保余额集中度
    assert len(c.get(base + "?rule=平均担保费率").context["page"]) == 0


def test_export_is_formula_safe_and_scoped(client_for, users, cases, chengdu_institution):
    WarningCase.objects.filter(pk=cases["cd"].pk).update(note="=HYPERLINK(1)")
    cases["cd"].institution.name = "=cmd|' /C calc'!A0"
    cases["cd"].institution.save()
    response = client_for(users["cd_regulator"]).get(reverse("supervision:warnings") + "?export=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    data = [r for r in rows if r[2] == "CON-01"]
    assert len(data) == 1  # only Chengdu's
    assert (
        data[0][0] == "=cmd|' /C calc'!A0"
        and sheet.cell(row=rows.index(data[0]) + 1, column=1).data_type == "s"
    )
    assert (data[0][4], data[0][5], data[0][6]) == ("2025Q1", "2025Q2", 2)
    csv = client_for(users["cd_regulator"]).get(reverse("supervision:warnings") + "?export=csv&status=")
    assert "'=cmd" in csv.content.decode("utf-8-sig")


def test_list_query_count_does_not_grow(client_for, users, cases):
    c = client_for(users["sc_regulator"])
    url = reverse("supervision:warnings")
    c.get(url)
    with CaptureQueriesContext(connection) as few:
        c.get(url)
    for _n in range(5):
        inst = InstitutionFactory(region_id="510104", level="county")
        make_filing(inst, 2025, 1, **HIGH_CONCENTRATION)
        institution_indicators_compute(institution_id=inst.pk)
    with CaptureQueriesContext(connection) as more:
        assert len(c.get(url).context["page"]) == 7
    assert len(more) == len(few)
