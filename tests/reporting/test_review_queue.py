import datetime as dt
import re

import pytest

from core.policy import PolicyMissing
from reporting.models import Filing, ReportTemplate, ReviewParameter
from reporting.selectors import review_points, review_points_for, review_queue
from reporting.services import risk_score
from reporting.validation import WARNING, Finding
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db


def _submitted(name, risk_score, breach_count=0):
    institution = InstitutionFactory(name=name, region_id="510104")
    return Filing.objects.create(
        institution=institution,
        year=2025,
        quarter=2,
        status="submitted",
        template=ReportTemplate.objects.get(version=1),
        risk_score=risk_score,
        breach_count=breach_count,
    )


def test_threshold_breaches_count_in_the_review_order(users):
    warned = _submitted("提示较多融资担保有限公司", risk_score=30)  # e.g. one unexplained warning
    breached = _submitted("违规融资担保有限公司", risk_score=0, breach_count=1)  # written by supervision
    quiet = _submitted("平稳融资担保有限公司", risk_score=0)
    cd, my = users["cd_regulator"], users["my_regulator"]
    queue = list(review_queue(cd, review_points_for(cd)))
    assert [(f.pk, f.risk, f.breach_count) for f in queue] == [
        (breached.pk, 40, 1),
        (warned.pk, 30, 0),
        (quiet.pk, 0, 0),
    ]
    assert list(review_queue(my, review_points_for(my))) == []


def _warning(rule_id: str = "IDN-09", kind: str = "identity") -> Finding:
    return Finding(rule_id, WARNING, kind, [], "提示", "warning")


def test_risk_points_come_from_the_rows_in_force_for_the_institutions_region():
    findings = [_warning(), _warning("QOQ-01", "qoq_change"), _warning("BND-31", "bound")]
    explained = {"IDN-09": "已核实", "QOQ-01": "已核实", "BND-31": "已核实"}
    day = dt.date(2025, 7, 10)
    # seeded: 10 per warning, +15 per large change, +30 for BND-31, +20 per unexplained warning
    assert risk_score(findings, explained, review_points("510104", day)) == 10 * 3 + 15 + 30
    assert risk_score(findings, {}, review_points("510104", day)) == 10 * 3 + 15 + 30 + 20 * 3
    ReviewParameter.objects.filter(key="warning", region_code="").update(value=7)
    ReviewParameter.objects.create(
        key="qoq_change", region_code="510000", value=50, effective_from=dt.date(2025, 1, 1), source="川"
    )
    assert risk_score(findings, explained, review_points("510104", day)) == 7 * 3 + 50 + 30
    assert risk_score(findings, explained, review_points("330106", day)) == 7 * 3 + 15 + 30


def test_breach_points_come_from_the_row_for_the_reviewers_region(users):
    warned = _submitted("提示较多融资担保有限公司", risk_score=30)
    breached = _submitted("违规融资担保有限公司", risk_score=0, breach_count=1)
    ReviewParameter.objects.create(
        key="threshold_breach",
        region_code="510000",
        value=25,
        effective_from=dt.date(2020, 1, 1),
        source="川",
    )
    cd = users["cd_regulator"]
    assert [(f.pk, f.risk) for f in review_queue(cd, review_points_for(cd))] == [
        (warned.pk, 30),
        (breached.pk, 25),
    ]
    admin = users["admin"]  # no jurisdiction: the nationwide row
    assert [(f.pk, f.risk) for f in review_queue(admin, review_points_for(admin))] == [
        (breached.pk, 40),
        (warned.pk, 30),
    ]


def test_badge_cut_offs_come_from_the_rows(users, client_for):
    _submitted("三十分融资担保有限公司", risk_score=30)
    _submitted("五分融资担保有限公司", risk_score=5)
    page = client_for(users["cd_regulator"])

    def badges() -> list[str]:
        html = page.get("/reporting/review/").content.decode()
        return re.findall(r'<span class="badge (text-bg-\w+)[^"]*">(\d+)</span>', html)

    assert badges() == [("text-bg-warning", "30"), ("text-bg-light", "5")]  # seeded: red ≥ 40, amber ≥ 10
    ReviewParameter.objects.filter(key="badge_high").update(value=30)
    ReviewParameter.objects.filter(key="badge_medium").update(value=5)
    assert badges() == [("text-bg-danger", "30"), ("text-bg-warning", "5")]


def test_a_missing_review_row_fails_the_queue_and_the_risk_score_loudly(users, client_for):
    ReviewParameter.objects.filter(key="threshold_breach").delete()
    with pytest.raises(PolicyMissing, match="threshold_breach（地区 510100，"):
        client_for(users["cd_regulator"]).get("/reporting/review/")
    ReviewParameter.objects.filter(key="warning").delete()
    with pytest.raises(PolicyMissing, match="缺少政策数据：审核队列风险参数 warning（地区 510104，日期 "):
        risk_score([], {}, review_points("510104", dt.date(2025, 7, 10)))


def test_queue_and_review_page_show_the_same_risk(users, client_for):
    breached = _submitted("违规融资担保有限公司", risk_score=25, breach_count=2)  # 25 + 2 breaches × 40
    c = client_for(users["cd_regulator"])
    queue = c.get("/reporting/review/").content.decode()
    assert re.search(rf'<span class="badge [^"]*">105</span>.*?/reporting/review/{breached.pk}/', queue, re.S)
    page = c.get(f"/reporting/review/{breached.pk}/").content.decode()
    assert '<span id="review-risk">105</span>' in page


def test_bulk_accept_skips_unexplained_findings_and_bulk_return_uses_one_reason(users, client_for):
    from django.utils import timezone

    from reporting.models import FilingVersion, Notification

    def with_version(filing, findings, explanations):
        filing.current_version = FilingVersion.objects.create(
            filing=filing,
            number=1,
            values={},
            submitted_at=timezone.now(),
            findings=findings,
            explanations=explanations,
        )
        filing.save()
        return filing

    warning = {
        "rule_id": "BND-31",
        "severity": "warning",
        "kind": "bound",
        "fields": [],
        "message_zh": "提示",
        "message_en": "w",
    }
    clean = with_version(_submitted("平稳融资担保有限公司", 0), [], {})
    explained = with_version(_submitted("已说明融资担保有限公司", 10), [warning], {"BND-31": "存量业务"})
    unexplained = with_version(_submitted("未说明融资担保有限公司", 10), [warning], {})
    ids = [clean.pk, explained.pk, unexplained.pk]
    # another jurisdiction's regulator changes nothing
    client_for(users["my_regulator"]).post("/reporting/review/", {"action": "accept", "filing": ids})
    assert set(Filing.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"submitted"}
    c = client_for(users["cd_regulator"])
    response = c.post("/reporting/review/", {"action": "accept", "filing": ids}, follow=True)
    assert dict(Filing.objects.filter(pk__in=ids).values_list("pk", "status")) == {
        clean.pk: "accepted",
        explained.pk: "accepted",
        unexplained.pk: "submitted",
    }
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [
        "已受理 2 份报表。",
        "1 份报表有未说明的提示或已被他人处理，未受理：未说明融资担保有限公司",
    ]
    other = _submitted("另一家融资担保有限公司", 0)
    c.post("/reporting/review/", {"action": "return", "filing": [unexplained.pk, other.pk], "reason": ""})
    assert Filing.objects.get(pk=other.pk).status == "submitted"  # a reason is needed
    c.post(
        "/reporting/review/",
        {"action": "return", "filing": [unexplained.pk, other.pk], "reason": "请补充说明"},
    )
    assert set(Filing.objects.filter(pk__in=[unexplained.pk, other.pk]).values_list("status", flat=True)) == {
        "returned"
    }
    assert FilingVersion.objects.get(filing=unexplained).review_comments == {"_": "请补充说明"}
    assert Notification.objects.filter(body="请补充说明").count() == 0  # no company users in this test
    page = c.get("/reporting/review/").content.decode()
    assert "受理所选（提示均已说明的）" not in page  # nothing left to review


def test_review_claims_on_open_lapse_and_hand_over(users, client_for, settings):
    import datetime as dt

    from django.utils import timezone

    from reporting import services

    filing = _submitted("认领测试融资担保有限公司", 0)
    cd, sc = users["cd_regulator"], users["sc_regulator"]
    a, b = client_for(cd), client_for(sc)
    a.get(f"/reporting/review/{filing.pk}/")  # opening claims it
    filing.refresh_from_db()
    assert filing.review_claimed_by == cd
    page = b.get(f"/reporting/review/{filing.pk}/").content.decode()
    assert f"正在由 {cd} 审核" in page and 'value="accept"' not in page
    with pytest.raises(services.FilingError) as exc:
        services.filing_accept(actor=sc, filing=filing)
    assert exc.value.code == "conflict"
    # the queue says who reviews what, and splits by it
    assert f"{cd}" in b.get("/reporting/review/").content.decode()
    assert "认领测试" in b.get("/reporting/review/?claim=others").content.decode()
    assert "认领测试" not in b.get("/reporting/review/?claim=free").content.decode()
    assert "认领测试" in a.get("/reporting/review/?claim=mine").content.decode()
    # idle past the setting: the claim lapses and the other regulator takes it
    settings.REVIEW_CLAIM_IDLE_MINUTES = 30
    Filing.objects.filter(pk=filing.pk).update(review_claimed_at=timezone.now() - dt.timedelta(minutes=31))
    assert "认领测试" in b.get("/reporting/review/?claim=free").content.decode()
    b.get(f"/reporting/review/{filing.pk}/")
    filing.refresh_from_db()
    assert filing.review_claimed_by == sc
    # hand-over to a colleague of the jurisdiction, who then accepts
    b.post(f"/reporting/review/{filing.pk}/", {"action": "hand_over", "to": cd.pk})
    filing.refresh_from_db()
    assert filing.review_claimed_by == cd
    with pytest.raises(services.FilingError):
        services.filing_accept(actor=sc, filing=filing)
    services.filing_accept(actor=cd, filing=filing)
    # another province's regulator may not be handed the review
    with pytest.raises(services.FilingError):
        services.review_hand_over(actor=cd, filing=filing, to=users["zj_regulator"])


def test_a_decision_releases_the_claim_so_the_next_submission_is_free_for_every_reviewer(users, client_for):
    from reporting import services

    returned = _submitted("退回后重报融资担保有限公司", 0)
    accepted = _submitted("受理后更正融资担保有限公司", 0)
    cd, sc = users["cd_regulator"], users["sc_regulator"]
    a, b = client_for(cd), client_for(sc)
    for filing in (returned, accepted):
        a.get(f"/reporting/review/{filing.pk}/")  # cd claims both
    services.filing_return(actor=cd, filing=returned, comments={}, note="请核对净利润")
    services.filing_accept(actor=cd, filing=accepted)
    for filing in (returned, accepted):
        filing.refresh_from_db()
        assert (filing.review_claimed_by, filing.review_claimed_at) == (None, None)
    # submitted again (after the return, or an amendment): nobody reviews it yet, sc may take it
    Filing.objects.filter(pk__in=[returned.pk, accepted.pk]).update(status="submitted")
    free = b.get("/reporting/review/?claim=free").content.decode()
    assert "退回后重报" in free and "受理后更正" in free
    b.get(f"/reporting/review/{accepted.pk}/")
    services.filing_accept(actor=sc, filing=accepted)
    assert Filing.objects.get(pk=accepted.pk).status == "accepted"


def test_the_review_page_costs_the_same_queries_however_many_colleagues_it_offers(users, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import UserFactory

    filing = _submitted("平稳融资担保有限公司", risk_score=0)
    c = client_for(users["cd_regulator"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert c.get(f"/reporting/review/{filing.pk}/").status_code == 200
        return len(captured.captured_queries)

    queries()  # the first opening claims the filing
    before = queries()
    for i in range(5):  # more colleagues over the institution's county, offered for a hand-over
        UserFactory(username=f"t_colleague{i}", role="regulator", region_id=("510000", "510100")[i % 2])
    page = c.get(f"/reporting/review/{filing.pk}/").content.decode()
    offered = re.search(r'<select[^>]*id="hand-over-to".*?</select>', page, re.S).group(0)
    assert offered.count("<option") == 1 + 5  # and the fixtures' provincial regulator
    assert queries() == before
