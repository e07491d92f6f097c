"""Classification ratings: every score item against a hand computation, the year's draft from the data,
adjustment with a reason, confirmation by a second regulator, the company's objection, publication."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.inbox import tasks_for
from supervision import rating as calc
from supervision.models import (
    IndicatorValue,
    Inspection,
    InspectionFinding,
    MeasureType,
    Rating,
    RatingScore,
    RatingSheet,
)
from supervision.services import measures as measure_svc
from supervision.services import ratings as svc
from supervision.services.compute import institution_indicators_compute
from tests.factories import UserFactory

from .factories import HIGH_CONCENTRATION, make_filing

pytestmark = pytest.mark.django_db


def item(code):
    i = RatingSheet.objects.get(region_code="").items.get(code=code)
    return i.source, i.points, i.params


def test_each_item_against_a_hand_computation(db):
    facts = calc.Facts(
        net_assets=D("60000"),
        year_end={"support_share_amount": D("0.55")},
        quarters=["2025Q1", "2025Q2", "2025Q3", "2025Q4"],
        breaches={"2025Q2": {"leverage"}, "2025Q3": {"class3_asset_ratio"}},
        year_end_breaches={"leverage": "breach"},
        late=1,
        returned=1,
        amended=2,
        measures=["talk", "suspend_business"],
        overdue_measures=1,
        findings=1,
    )
    s = lambda code: calc.score_item(*item(code), facts)  # noqa: E731
    assert s("SCALE").score == D("12.00")  # 60000 ≥ 50000: 0.8 × 15
    assert s("CLIENTS").score == D("10.00")  # 0.55 ≥ 0.5: 0.5 × 20
    assert s("LEVERAGE").score == D("15.00")  # 3 of 4 quarters clean: 20 × 3/4
    assert s("ASSETS").score == D("11.25")  # 15 × 3/4
    assert s("FILING").score == D("3.00")  # 10 − 3 − 2 − 2×1
    assert s("MEASURES").score == D("2.00")  # 10 − 2×2 − 3 − 1
    assert s("GOVERNANCE").score == D("8.00")
    assert (s("VETO-LEV").vetoed, s("VETO-SUSPEND").vetoed) == (True, True)
    assert s("SCALE").basis == "年末净资产60000.00万元，达到50000万元档，得12.00分"
    # no data: nothing earned, never a pass
    empty = calc.Facts()
    assert calc.score_item(*item("SCALE"), empty).score == D("0.00")
    assert calc.score_item(*item("LEVERAGE"), empty).score == D("0.00")
    assert calc.score_item(*item("FILING"), calc.Facts(late=9)).score == D("0.00")  # never below zero
    bands = [("A", D("90")), ("B", D("75")), ("C", D("60")), ("D", D("0"))]
    assert [calc.grade_for(D(x), bands) for x in ("90", "89.99", "75", "60", "59.99")] == [
        "A",
        "B",
        "B",
        "C",
        "D",
    ]
    assert calc.capped("A", ["C"]) == "C" and calc.capped("D", ["C"]) == "D" and calc.capped("B", []) == "B"


def test_the_default_sheet_is_data_and_unconfirmed(db):
    sheet = RatingSheet.objects.get(region_code="")
    assert not sheet.confirmed
    assert sum(i.points for i in sheet.items.all()) == 100
    assert [(b.grade, b.min_score) for b in sheet.bands.order_by("grade")] == [
        ("A", D("90.00")),
        ("B", D("75.00")),
        ("C", D("60.00")),
        ("D", D("0.00")),
    ]
    assert "巴南府发〔2017〕30号" in sheet.bands.get(grade="A").benefits


@pytest.fixture
def year_2025(users, chengdu_institution):
    inst = chengdu_institution
    q1 = make_filing(inst, 2025, 1)
    make_filing(inst, 2025, 2, **HIGH_CONCENTRATION)  # single-client concentration 11% > 10%
    q3 = make_filing(inst, 2025, 3)
    make_filing(inst, 2025, 4, unearned_reserve="1000")
    q1.due_date, q1.first_submitted_at = (
        dt.date(2025, 4, 30),
        timezone.make_aware(dt.datetime(2025, 5, 5, 10)),
    )
    q1.save()
    q1.current_version.review_comments = {"_": "请核对"}  # a returned version
    q1.current_version.save()
    q3.current_version.number, q3.current_version.reason = 2, "更正笔误"  # an amendment
    q3.current_version.save()
    institution_indicators_compute(institution_id=inst.pk)
    reg2 = UserFactory(username="t_cd_reg2", role="regulator", region_id="510100")
    talk = measure_svc.measure_propose(
        actor=users["cd_regulator"],
        institution=inst,
        measure_type=MeasureType.objects.get(code="talk"),
        facts="x",
    )
    measure_svc.measure_approve(actor=reg2, measure=talk)
    measure_svc.measure_issue(actor=users["cd_regulator"], measure=talk)
    talk.__class__.objects.filter(pk=talk.pk).update(
        issued_at=timezone.make_aware(dt.datetime(2025, 6, 1, 9)), deadline=dt.date(2025, 6, 16)
    )  # issued in 2025, never answered: overdue
    inspection = Inspection.objects.create(
        institution=inst, scope="s", team="t", start_date=dt.date(2025, 9, 1), end_date=dt.date(2025, 9, 5)
    )
    InspectionFinding.objects.create(inspection=inspection, text="未足额提取准备金")
    return {"inst": inst, "reg2": reg2}


def test_draft_adjust_confirm_object_publish(users, year_2025, client_for):
    inst = year_2025["inst"]
    assert IndicatorValue.objects.get(institution=inst, quarter=4, code="support_share_amount").value == D(
        "0.850000"
    )
    assert svc.ratings_draft(actor=users["sc_regulator"], year=2025) == 1
    rating = Rating.objects.get(institution=inst, year=2025)
    scores = {s.item.code: (s.score, s.vetoed) for s in rating.scores.select_related("item")}
    assert scores == {
        "SCALE": (D("9.00"), False),  # net assets 40000 ≥ 20000: 0.6 × 15
        "CLIENTS": (D("20.00"), False),  # 85000 / 100000 = 0.85 ≥ 0.8
        "LEVERAGE": (D("15.00"), False),  # Q2 breaches CON-01: 20 × 3/4
        "ASSETS": (D("15.00"), False),
        "FILING": (D("4.00"), False),  # 10 − 3 (late Q1) − 2 (returned) − 1 (amended Q3)
        "MEASURES": (D("4.00"), False),  # 10 − 2 (talk) − 3 (overdue) − 1 (finding)
        "GOVERNANCE": (D("8.00"), False),
        "VETO-LEV": (None, False),
        "VETO-SUSPEND": (None, False),
    }
    assert (rating.score, rating.grade, rating.status) == (D("75.00"), "B", "draft")
    governance = rating.scores.get(item__code="GOVERNANCE")
    with pytest.raises(ValidationError):
        svc.rating_adjust(actor=users["cd_regulator"], score=governance, value=D("10"), reason=" ")
    with pytest.raises(ValidationError):
        svc.rating_adjust(actor=users["cd_regulator"], score=governance, value=D("11"), reason="超出分值")
    with pytest.raises(PermissionDenied):
        svc.rating_adjust(actor=users["my_regulator"], score=governance, value=D("10"), reason="x")
    rating = svc.rating_adjust(
        actor=users["cd_regulator"], score=governance, value=D("10"), reason="内控制度健全"
    )
    assert (rating.score, rating.grade) == (D("77.00"), "B")
    governance.refresh_from_db()
    assert (governance.computed, governance.score, governance.reason) == (
        D("8.00"),
        D("10.00"),
        "内控制度健全",
    )
    # a redraft keeps the adjustment
    svc.ratings_draft(actor=users["sc_regulator"], year=2025)
    assert Rating.objects.get(pk=rating.pk).score == D("77.00")
    assert (
        client_for(users["cd_filer"]).get(reverse("supervision:rating_detail", args=[rating.pk])).status_code
        == 404
    )
    for who in ("sc_regulator", "cd_regulator"):  # the drafter and the adjuster
        with pytest.raises(PermissionDenied):
            svc.rating_confirm(actor=users[who], rating=rating)
    assert "rating.confirm" in [t.kind for t in tasks_for(year_2025["reg2"])]
    assert "rating.confirm" not in [t.kind for t in tasks_for(users["sc_regulator"])]  # its own draft
    rating = svc.rating_confirm(actor=year_2025["reg2"], rating=rating)
    assert "rating.objection" in [t.kind for t in tasks_for(users["cd_filer"])]
    assert (rating.status, rating.objection_until) == (
        "confirmed",
        timezone.localdate() + dt.timedelta(days=10),
    )
    page = client_for(users["cd_filer"]).get(reverse("supervision:rating_detail", args=[rating.pk]))
    assert page.status_code == 200 and page.context["may_object"]
    with pytest.raises(PermissionDenied):
        svc.rating_object(actor=users["my_filer"], rating=rating, text="x")
    objection = svc.rating_object(actor=users["cd_filer"], rating=rating, text="内部管理得分偏低")
    with pytest.raises(ValidationError):  # period not over
        svc.ratings_publish(actor=users["sc_regulator"], year=2025)
    Rating.objects.filter(pk=rating.pk).update(objection_until=timezone.localdate() - dt.timedelta(days=1))
    with pytest.raises(ValidationError):  # an objection unanswered
        svc.ratings_publish(actor=users["sc_regulator"], year=2025)
    svc.rating_resolve(actor=users["cd_regulator"], objection=objection, response="已复核，维持")
    notice = svc.ratings_publish(actor=users["sc_regulator"], year=2025)
    assert (notice.kind, notice.status, [(i.institution_name, i.remark) for i in notice.items.all()]) == (
        "ratings",
        "published",
        [(inst.name, "B")],
    )
    assert Rating.objects.get(pk=rating.pk).status == "published"
    api = APIClient()
    api.force_authenticate(users["cd_filer"])
    body = api.get("/api/v1/ratings/?year=2025").json()["results"]
    assert [(r["grade"], r["score"], len(r["scores"])) for r in body] == [("B", "77.00", 9)]
    api.force_authenticate(users["my_filer"])
    assert api.get("/api/v1/ratings/").json()["results"] == []
    tab = client_for(users["cd_filer"]).get(reverse("institutions:own") + "?tab=rating")
    assert tab.status_code in (200, 302)


def test_rating_pages_isolation_and_query_count(users, year_2025, client_for):
    svc.ratings_draft(actor=users["sc_regulator"], year=2025)
    rating = Rating.objects.get()
    url = reverse("supervision:rating_detail", args=[rating.pk])
    codes = {n: client_for(users[n]).get(url).status_code for n in users}
    assert codes == {
        "admin": 200,
        "sc_regulator": 200,
        "cd_regulator": 200,
        "my_regulator": 404,
        "sc_finance": 403,
        "cd_finance": 403,
        "cd_filer": 404,  # a draft is not shown to the company
        "cd_approver": 404,
        "my_filer": 404,
        "zj_regulator": 404,
    }
    with pytest.raises(PermissionDenied):
        svc.ratings_draft(actor=users["cd_filer"], year=2025)
    c = client_for(users["sc_regulator"])
    list_url = reverse("supervision:ratings") + "?year=2025"
    c.get(list_url)
    with CaptureQueriesContext(connection) as few:
        assert len(c.get(list_url).context["page"]) == 1
    for _n in range(3):
        other = make_filing(
            __import__("tests.factories", fromlist=["InstitutionFactory"]).InstitutionFactory(
                region_id="510104"
            ),
            2025,
            4,
        )
        institution_indicators_compute(institution_id=other.institution_id)
    svc.ratings_draft(actor=users["sc_regulator"], year=2025)
    with CaptureQueriesContext(connection) as more:
        assert len(c.get(list_url).context["page"]) == 4
    assert len(more) == len(few)
    assert RatingScore.objects.count() == 4 * 9
