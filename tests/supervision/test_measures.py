"""Supervisory measures end to end (web and API): a warning case, a proposed talk, approval by a
regulator with the authority, issue as a numbered document, the company's plan, closing; tenant
isolation and authority (a city regulator cannot approve what needs the province); reminders; the
on-site inspection; the non-filers list."""

import datetime as dt
import io

import docx
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.inbox import tasks_for
from institutions.models import Licence, Notice
from reporting.models import Notification
from supervision.models import Measure, MeasureMessage, MeasureType, NonFilerList, WarningCase
from supervision.services import measures as svc
from supervision.services.compute import institution_indicators_compute
from tests.factories import UserFactory

from .factories import HIGH_CONCENTRATION, make_filing

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year


@pytest.fixture
def case(users, chengdu_institution):
    make_filing(chengdu_institution, 2025, 1, **HIGH_CONCENTRATION)
    make_filing(chengdu_institution, 2025, 2, **HIGH_CONCENTRATION)
    institution_indicators_compute(institution_id=chengdu_institution.pk)
    return WarningCase.objects.get(institution=chengdu_institution)


@pytest.fixture
def cd_regulator2(users):
    return UserFactory(username="t_cd_reg2", role="regulator", region_id="510100")


def talk(users, case, by="cd_regulator"):
    return svc.measure_propose(
        actor=users[by],
        institution=case.institution,
        measure_type=MeasureType.objects.get(code="talk"),
        facts="单户集中度连续两个季度超限",
        case=case,
    )


def test_the_catalogue_is_data():
    rows = {t.code: (t.default_days, t.approval_level) for t in MeasureType.objects.all()}
    assert len(rows) == 10
    assert rows["talk"] == (15, "city")
    assert rows["suspend_business"] == (90, "province")
    assert rows["no_new_branches"] == (90, "province")


def test_end_to_end_through_the_web(client_for, users, case, cd_regulator2):
    reg, filer = client_for(users["cd_regulator"]), client_for(users["cd_filer"])
    assert reg.get(reverse("supervision:warning_detail", args=[case.pk])).status_code == 200
    new_url = reverse("supervision:measure_new") + f"?case={case.pk}"
    page = reg.get(new_url)
    assert page.status_code == 200 and "2025年第1季度起CON-01" in page.content.decode()
    response = reg.post(
        new_url, {"measure_type": "talk", "facts": "单户集中度连续超限", "requirements": "限期压降"}
    )
    measure = Measure.objects.get()
    assert response.url == reverse("supervision:measure_detail", args=[measure.pk])
    assert (measure.status, measure.case, measure.proposed_by) == ("proposed", case, users["cd_regulator"])
    url = reverse("supervision:measure_detail", args=[measure.pk])
    assert filer.get(url).status_code == 404  # not delivered yet
    reg.post(url, {"action": "approve"})  # the proposer cannot approve its own
    assert Measure.objects.get().status == "proposed"
    client_for(cd_regulator2).post(url, {"action": "approve", "note": "同意"})
    assert Measure.objects.get().status == "approved"
    reg.post(url, {"action": "issue"})
    measure.refresh_from_db()
    assert (measure.status, measure.number) == ("issued", f"川担监措〔{YEAR}〕1号")
    assert measure.deadline == timezone.localdate() + dt.timedelta(days=15)
    assert "成都测试融资担保有限公司" in measure.document_text and "监管谈话（约谈）" in measure.document_text
    assert Notification.objects.filter(user=users["cd_filer"], url=url).count() == 1
    assert [t.kind for t in tasks_for(users["cd_filer"])] == ["measure.answer"]
    # the company reads the document
    d = docx.Document(
        io.BytesIO(filer.get(reverse("supervision:measure_document_docx", args=[measure.pk])).content)
    )
    text = "\n".join(p.text for p in d.paragraphs)
    assert measure.number in text and "限期压降" in text
    assert filer.get(reverse("supervision:measure_document_pdf", args=[measure.pk])).content[:5] == b"%PDF-"
    assert filer.get(f"/supervision/measures/{measure.pk}/document.exe").status_code == 404
    filer.post(url, {"action": "acknowledge"})
    fake = SimpleUploadedFile("plan.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    filer.post(url, {"action": "answer", "text": "x", "evidence": fake})
    assert Measure.objects.get().status == "acknowledged"  # refused: the content is not a PDF
    evidence = SimpleUploadedFile("plan.pdf", b"%PDF-1.4 plan", content_type="application/pdf")
    filer.post(url, {"action": "answer", "text": "一、压降单户余额至10%以内", "evidence": evidence})
    measure.refresh_from_db()
    assert (measure.status, measure.acknowledged_by) == ("answered", users["cd_filer"])
    message = MeasureMessage.objects.get(measure=measure)
    assert (message.kind, message.text) == ("plan", "一、压降单户余额至10%以内")
    assert reg.get(reverse("supervision:measure_evidence", args=[message.pk])).content == b"%PDF-1.4 plan"
    assert "measure.review" in [t.kind for t in tasks_for(users["cd_regulator"])]
    reg.post(url, {"action": "close", "conclusion": "已约谈，整改方案可行"})
    measure.refresh_from_db()
    assert (measure.status, measure.conclusion, measure.closed_by) == (
        "closed",
        "已约谈，整改方案可行",
        users["cd_regulator"],
    )
    # the institution page's tab lists it
    tab = reg.get(reverse("institutions:detail", args=[case.institution.pk]) + "?tab=measures")
    assert tab.status_code == 200


def test_end_to_end_through_the_api(users, case, cd_regulator2):
    def api(user):
        c = APIClient()
        c.force_authenticate(user)
        return c

    reg = api(users["cd_regulator"])
    assert [c["id"] for c in reg.get("/api/v1/warnings/").json()["results"]] == [case.pk]
    assert api(users["my_regulator"]).get(f"/api/v1/warnings/{case.pk}/").status_code == 404
    created = reg.post(
        "/api/v1/measures/",
        {"institution": case.institution_id, "measure_type": "talk", "facts": "集中度超限", "case": case.pk},
        format="json",
    )
    assert created.status_code == 201, created.json()
    mid = created.json()["id"]
    assert api(users["my_regulator"]).post(f"/api/v1/measures/{mid}/approve/").status_code == 404
    refused = reg.post(f"/api/v1/measures/{mid}/approve/")
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert api(cd_regulator2).post(f"/api/v1/measures/{mid}/approve/").json()["status"] == "approved"
    issued = reg.post(f"/api/v1/measures/{mid}/issue/").json()
    assert (issued["status"], issued["number"]) == ("issued", f"川担监措〔{YEAR}〕1号")
    company = api(users["cd_filer"])
    assert api(users["my_filer"]).get(f"/api/v1/measures/{mid}/").status_code == 404
    answered = company.post(
        f"/api/v1/measures/{mid}/answer/", {"text": "整改方案"}, format="multipart"
    ).json()
    assert answered["status"] == "answered" and answered["messages"][0]["kind"] == "plan"
    assert company.post(f"/api/v1/measures/{mid}/close/", {"note": "x"}, format="json").status_code == 403
    more = reg.post(
        f"/api/v1/measures/{mid}/request-more/", {"text": "请补充压降时间表"}, format="json"
    ).json()
    assert more["status"] == "more_requested"
    assert (
        company.post(f"/api/v1/measures/{mid}/answer/", {"text": "时间表"}, format="multipart").json()[
            "messages"
        ][-1]["kind"]
        == "supplement"
    )
    closed = reg.post(f"/api/v1/measures/{mid}/close/", {"note": "整改到位"}, format="json").json()
    assert (closed["status"], closed["conclusion"]) == ("closed", "整改到位")
    closed_case = reg.post(
        f"/api/v1/warnings/{case.pk}/close/", {"reason": "measure_taken", "note": "已约谈"}, format="json"
    )
    assert closed_case.json()["status"] == "closed" and closed_case.json()["close_reason"] == "measure_taken"


def test_a_city_regulator_cannot_approve_what_needs_the_province(users, case, cd_regulator2):
    suspend = svc.measure_propose(
        actor=users["cd_regulator"],
        institution=case.institution,
        measure_type=MeasureType.objects.get(code="suspend_business"),
        facts="风险严重",
    )
    with pytest.raises(PermissionDenied):
        svc.measure_approve(actor=cd_regulator2, measure=suspend)
    assert "measure.approve" not in [t.kind for t in tasks_for(cd_regulator2)]
    assert "measure.approve" in [t.kind for t in tasks_for(users["sc_regulator"])]
    for outsider in ("my_regulator", "zj_regulator", "cd_filer", "cd_finance", "sc_finance"):
        with pytest.raises(PermissionDenied):
            svc.measure_approve(actor=users[outsider], measure=suspend)
    svc.measure_approve(actor=users["sc_regulator"], measure=suspend)
    assert Measure.objects.get(pk=suspend.pk).status == "approved"


def test_authority_and_isolation_of_the_pages(client_for, users, case):
    measure = talk(users, case)
    url = reverse("supervision:measure_detail", args=[measure.pk])
    codes = {n: client_for(users[n]).get(url).status_code for n in users}
    assert codes == {
        "admin": 200,
        "sc_regulator": 200,
        "cd_regulator": 200,
        "my_regulator": 404,
        "sc_finance": 403,
        "cd_finance": 403,
        "cd_filer": 404,  # not issued yet
        "cd_approver": 404,
        "my_filer": 404,
        "zj_regulator": 404,
    }
    assert (
        client_for(users["my_regulator"])
        .get(reverse("supervision:measure_new") + f"?case={case.pk}")
        .status_code
        == 404
    )
    assert (
        client_for(users["cd_filer"]).get(reverse("supervision:measure_new") + f"?case={case.pk}").status_code
        == 403
    )
    listed = client_for(users["my_regulator"]).get(reverse("supervision:measures")).context["page"]
    assert list(listed) == []
    with pytest.raises(PermissionDenied):
        svc.measure_propose(
            actor=users["my_regulator"],
            institution=case.institution,
            measure_type=MeasureType.objects.get(code="inquiry"),
            facts="x",
        )
    with pytest.raises(PermissionDenied):
        svc.measure_answer(actor=users["cd_filer"], measure=measure, text="x")  # not issued


def test_measure_list_query_count(client_for, users, case, django_assert_max_num_queries):
    c = client_for(users["sc_regulator"])
    for _n in range(3):
        talk(users, case)
    c.get(reverse("supervision:measures"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        c.get(reverse("supervision:measures"))
    for _n in range(6):
        talk(users, case)
    with CaptureQueriesContext(connection) as more:
        assert len(c.get(reverse("supervision:measures")).context["page"]) == 9
    assert len(more) == len(few)


def _issued(users, case, cd_regulator2, code="talk"):
    m = svc.measure_propose(
        actor=users["cd_regulator"],
        institution=case.institution,
        measure_type=MeasureType.objects.get(code=code),
        facts="事由",
    )
    svc.measure_approve(actor=cd_regulator2, measure=m)
    return svc.measure_issue(actor=users["cd_regulator"], measure=m)


def test_reminders_before_and_after_the_deadline_once_each(users, case, cd_regulator2):
    m = _issued(users, case, cd_regulator2)
    deadline = m.deadline
    assert svc.measures_remind(deadline - dt.timedelta(days=4)) == {"before": 0, "overdue": 0}
    assert svc.measures_remind(deadline - dt.timedelta(days=3)) == {"before": 1, "overdue": 0}
    assert svc.measures_remind(deadline - dt.timedelta(days=1)) == {"before": 0, "overdue": 0}
    assert svc.measures_remind(deadline + dt.timedelta(days=1)) == {"before": 0, "overdue": 1}
    assert svc.measures_remind(deadline + dt.timedelta(days=2)) == {"before": 0, "overdue": 0}
    assert list(MeasureMessage.objects.filter(measure=m).values_list("kind", "reminder_key")) == [
        ("reminder", f"before:{deadline}"),
        ("reminder", f"overdue:{deadline}"),
    ]
    titles = list(Notification.objects.filter(user=users["cd_filer"]).values_list("title", flat=True))
    assert len(titles) == 3 and any("已逾期" in t for t in titles)
    assert Notification.objects.filter(user=users["cd_regulator"], title__contains="已逾期").count() == 1


def test_escalate_and_publish_a_circular(users, case, cd_regulator2):
    m = _issued(users, case, cd_regulator2, code="risk_warning")
    notice = svc.measure_publish_circular(actor=users["cd_regulator"], measure=m)
    assert (notice.kind, notice.status, notice.document_no) == ("circular", "published", m.number)
    assert Notice.objects.for_user(None).filter(pk=notice.pk).exists()  # public
    with pytest.raises(ValidationError):
        svc.measure_escalate(
            actor=users["cd_regulator"],
            measure=m,
            measure_type=MeasureType.objects.get(code="inquiry"),
            facts="x",
        )
    new = svc.measure_escalate(
        actor=users["cd_regulator"],
        measure=m,
        measure_type=MeasureType.objects.get(code="onsite"),
        facts="未整改",
    )
    m.refresh_from_db()
    assert (m.status, new.status, new.escalated_from) == ("escalated", "proposed", m)


def test_onsite_inspection_with_findings_linked_to_measures(client_for, users, case, cd_regulator2):
    m = _issued(users, case, cd_regulator2, code="onsite")
    reg = client_for(users["cd_regulator"])
    reg.post(
        reverse("supervision:measure_detail", args=[m.pk]),
        {
            "action": "inspection",
            "scope": "担保业务合规性",
            "team": "张三、李四",
            "start_date": "2026-03-02",
            "end_date": "2026-03-06",
        },
    )
    inspection = m.inspection
    url = reverse("supervision:inspection_detail", args=[inspection.pk])
    reg.post(url, {"action": "finding", "text": "超范围经营", "measure_type": "self_inspection"})
    reg.post(url, {"action": "report", "report": "检查发现一项问题"})
    finding = inspection.findings.get()
    assert (finding.text, finding.measure.measure_type.code, finding.measure.status) == (
        "超范围经营",
        "self_inspection",
        "proposed",
    )
    inspection.refresh_from_db()
    assert inspection.report == "检查发现一项问题"
    assert client_for(users["my_regulator"]).get(url).status_code == 404
    assert client_for(users["cd_filer"]).get(url).status_code == 403


def test_nonfilers_drafted_reviewed_published_each_gets_a_measure(
    client_for, users, chengdu_institution, mianyang_institution
):
    for inst, number in ((chengdu_institution, "川A1"), (mianyang_institution, "川B2")):
        Licence.objects.create(
            number=number, institution=inst, issuing_authority="四川", issued_on=dt.date(2015, 1, 1)
        )
    late = make_filing(chengdu_institution, 2025, 1)
    late.due_date, late.first_submitted_at = dt.date(2025, 4, 30), timezone.now()  # filed after its due date
    late.save()
    reg = client_for(users["sc_regulator"])
    reg.post(reverse("supervision:nonfilers"), {"period": "2025Q1", "measure_type": "inquiry"})
    lst = NonFilerList.objects.get()
    assert [(e.institution, e.kind) for e in lst.entries.all()] == [
        (chengdu_institution, "late"),
        (mianyang_institution, "missing"),
    ]
    assert (
        client_for(users["cd_regulator"])
        .get(reverse("supervision:nonfiler_detail", args=[lst.pk]))
        .status_code
        == 404
    )
    url = reverse("supervision:nonfiler_detail", args=[lst.pk])
    reg.post(url, {"action": "review", "entry": [lst.entries.get(institution=mianyang_institution).pk]})
    reg.post(url, {"action": "publish"})
    lst.refresh_from_db()
    assert lst.status == "published"
    assert (lst.notice.kind, lst.notice.status, [i.institution_name for i in lst.notice.items.all()]) == (
        "non_filers",
        "published",
        [mianyang_institution.name],
    )
    assert lst.entries.get(institution=chengdu_institution).measure is None  # taken off the list on review
    entry = lst.entries.get(institution=mianyang_institution)
    assert (entry.measure.measure_type.code, entry.measure.institution, entry.measure.status) == (
        "inquiry",
        mianyang_institution,
        "proposed",
    )
