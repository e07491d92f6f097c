"""Texts the system stores when something happens (subsidy reasons, job results, audit notes) are kept as
their gettext msgid + params and shown in each reader's language, whatever language the action ran in;
texts typed by a person stay as typed."""

import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from core.models import AuditEvent, Job
from core.stored_text import Message, clip, show, store
from reporting.choices import Channel
from subsidies import services
from subsidies.models import Application, Scheme
from tests.institutions.test_import import GOOD_INSTITUTIONS, GOOD_LICENCES, workbook
from tests.subsidies import helpers as h


def _in(language: str, render):
    """`render()` with `language` active, the thread's language restored after (a request sets it)."""
    with translation.override(language):
        return render()


def _web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(client, url: str, language: str) -> str:
    client.cookies["django_language"] = language
    with translation.override("zh-hans"):  # the request activates its language in this thread
        return client.get(url).content.decode()


def _api(user, url: str, language: str):
    client = APIClient()
    client.force_authenticate(user)
    with translation.override("zh-hans"):
        return client.get(url, HTTP_ACCEPT_LANGUAGE=language).json()


# --- the helper ---------------------------------------------------------------------------------------


def test_a_plain_text_is_kept_and_shown_as_typed():
    assert store("部分业务不符合产业政策 / 见附件") == "部分业务不符合产业政策 / 见附件"
    assert _in("en", lambda: show("部分业务不符合产业政策")) == "部分业务不符合产业政策"
    assert show(None) == ""


def test_a_message_is_kept_as_msgid_and_params_and_rendered_for_each_reader():
    reason = _in("en", lambda: Message("%(label)s：业务品种不符", label="一般线"))
    assert reason == "一般线: product line not covered"  # a str in the language it was made in
    stored = store(reason, "按合同核对")  # a message then a person's words
    assert stored == 'i18n:[{"m":"%(label)s：业务品种不符","p":{"label":"一般线"}},"按合同核对"]'
    assert _in("zh-hans", lambda: show(stored)) == "一般线：业务品种不符；按合同核对"
    assert _in("en", lambda: show(stored)) == "一般线: product line not covered; 按合同核对"


def test_a_lazy_choice_label_in_the_params_is_rendered_for_the_reader_too():
    stored = store(Message("保存草稿（%(c)s）", c=Channel.API.label))
    assert stored == 'i18n:[{"m":"保存草稿（%(c)s）","p":{"c":{"m":"接口报送","p":{}}}}]'
    assert (_in("zh-hans", lambda: show(stored)), _in("en", lambda: show(stored))) == (
        "保存草稿（接口报送）",
        "Draft saved (API submission)",
    )


def test_a_deferred_refusal_is_kept_as_msgid_and_params_too():
    """An upload or parse message made with core.exceptions.deferred stores like a Message."""
    from django.utils.translation import gettext_lazy

    from core.exceptions import Bilingual, deferred

    kept = store(deferred(gettext_lazy("%(label)s 应为数字"), label=Bilingual("净资产", "net assets")))
    assert kept == 'i18n:[{"m":"%(label)s 应为数字","p":{"label":{"zh":"净资产","en":"net assets"}}}]'
    with translation.override("en"):
        assert show(kept) == "net assets must be a number"
    with translation.override("zh-hans"):
        assert show(kept) == "净资产 应为数字"


def test_a_column_limit_never_cuts_a_stored_message_in_two():
    message = Message("机构在%(end)s不在政府性融资担保机构名单中", end="2025-12-31")
    assert len(store(message)) == 64
    assert store(message, max_length=20) == "机构在2025-12-31不在政府性融资"  # the Chinese text, cut
    assert clip(store(message), 20) == "机构在2025-12-31不在政府性融资"
    assert clip(store(message), 64) == store(message)
    assert show("i18n:[{broken") == "i18n:[{broken"  # not readable as a message: as it is


# --- subsidy reasons: page and API ----------------------------------------------------------------------


@pytest.mark.django_db
def test_subsidy_line_reasons_computed_in_english_read_in_each_language():
    inst = h.institution("500113")
    filer, _approver = h.company_users(inst)
    h.guarantee(inst, amount=300, fee_rate="0.021", contract_no="HT-DEAR")
    scheme = Scheme.objects.get(code="banan-fee-subsidy")
    client = APIClient()
    client.force_authenticate(filer)
    with translation.override("zh-hans"):  # an English reader computes it
        made = client.post(
            "/api/v1/subsidy-applications/",
            {"scheme": scheme.code, "institution": inst.credit_code, "year": 2025},
            format="json",
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert made.status_code == 201
    app = Application.objects.get(pk=made.json()["id"])
    general, rural = "一般线（费率≤2%，补贴0.5个百分点）", "农村线（费率≤1%，补贴1个百分点）"
    chinese = f"{general}：费率2.1%高于2%；{rural}：业务品种不符；{rural}：费率2.1%高于1%"
    english = f"{general}: fee 2.1% above 2%; {rural}: product line not covered; {rural}: fee 2.1% above 1%"

    lines = f"/api/v1/subsidy-applications/{app.pk}/lines/"
    assert [r["reason"] for r in _api(filer, lines, "zh-hans")["results"]] == [chinese]
    assert [r["reason"] for r in _api(filer, lines, "en")["results"]] == [english]

    url = reverse("subsidies:application", args=[app.pk])
    shown = {
        language: re.findall(
            r"<tr><td>HT-DEAR</td><td>.*?</td><td>(.*?)</td>", _page(_web(filer), url, language)
        )
        for language in ("zh-hans", "en")
    }
    assert shown == {"zh-hans": [chinese], "en": [english]}


@pytest.mark.django_db
def test_an_uncomputable_reason_in_each_language_on_the_page_and_in_the_api():
    inst = h.institution("371500")
    h.put_on_govlist(inst, "371500")
    filer, _approver = h.company_users(inst)
    app = _in(
        "en",
        lambda: services.application_create(
            actor=filer,
            scheme=Scheme.objects.get(code="liaocheng-risk-compensation"),
            institution=inst,
            year=2025,
        ),
    )
    assert app.uncomputable_reason == 'i18n:[{"m":"解保额为零，代偿率无法计算，不能核定补偿额","p":{}}]'
    chinese = "解保额为零，代偿率无法计算，不能核定补偿额"
    english = "Nothing released: the compensation rate is undefined and no amount can be computed"

    url = f"/api/v1/subsidy-applications/{app.pk}/"
    for language, text in (("zh-hans", chinese), ("en", english)):
        body = _api(filer, url, language)  # the computation's own note of why it stopped follows too
        assert (body["uncomputable_reason"], body["computation"]["error"]) == (text, text)
    page = reverse("subsidies:application", args=[app.pk])
    assert f"<strong>无法测算：</strong>{chinese}</div>" in _page(_web(filer), page, "zh-hans")
    assert f"</strong>{english}</div>" in _page(_web(filer), page, "en")


# --- a job's result and an audit note -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_job_message_in_each_readers_language(
    users, client_for, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.REGISTRY_IMPORT_INLINE_BYTES = 1000  # imported by a background job
    settings.MEDIA_ROOT = tmp_path
    client = client_for(users["sc_regulator"])
    upload = io.BytesIO(workbook(GOOD_INSTITUTIONS, GOOD_LICENCES))
    upload.name = "registry.xlsx"
    # the job runs in-process at commit, in the request's language (Chinese, as the worker's)
    with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("institutions:import"), {"file": upload})
    job = Job.objects.get(kind="registry_import")
    assert (job.status, job.message) == (
        "done",
        'i18n:[{"m":"新增机构 %(ic)s 家，更新 %(iu)s 家；新增许可证 %(lc)s 个，更新 %(lu)s 个",'
        '"p":{"ic":2,"iu":0,"lc":2,"lu":0}}]',
    )

    def listed(language):
        html = _page(client, reverse("institutions:import"), language)
        return re.findall(r'<td style="white-space:pre-line">(.*?)</td>', html)

    assert listed("zh-hans") == ["新增机构 2 家，更新 0 家；新增许可证 2 个，更新 0 个"]
    assert listed("en") == ["2 institutions added, 0 updated; 2 licences added, 0 updated"]


@pytest.mark.django_db
def test_a_system_audit_note_in_each_readers_language(users, chengdu_institution):
    client = APIClient()
    client.force_authenticate(users["cd_filer"])
    draft = {
        "institution": chengdu_institution.credit_code,
        "period": "2025Q2",
        "values": {},
        "nil_return": True,
    }
    with translation.override("zh-hans"):  # saved by an English reader
        made = client.post("/api/v1/filings/", draft, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert made.status_code == 201
    notes = list(AuditEvent.objects.order_by("id").values_list("note", flat=True))
    assert notes == [
        'i18n:[{"m":"创建报表","p":{}}]',
        'i18n:[{"m":"保存草稿（%(c)s）","p":{"c":{"m":"接口报送","p":{}}}}]',
    ]

    url = reverse("reporting:filing", args=[made.json()["id"]])

    def history(language):
        html = _page(_web(users["cd_filer"]), url, language)
        return re.findall(r"</span></div>\s*<div>(.*?)</div>", html)

    assert (history("zh-hans"), history("en")) == (["创建报表"], ["Report created"])

    def trail(language):  # the administrators' audit log: the draft's note too
        html = _page(_web(users["admin"]), reverse("audit:list"), language)
        return re.findall(r'<div class="text-secondary">(.*?)</div>', html)

    assert trail("zh-hans") == ["保存草稿（接口报送）", "创建报表"]
    assert trail("en") == ["Draft saved (API submission)", "Report created"]


@pytest.mark.parametrize(
    "message, english",
    [
        (Message("担保业务明细批次校验/入库"), "Loan-level batch checked and stored"),
        (Message("重新测算"), "Recomputed"),
        (Message("管理后台"), "Admin site"),
        (
            Message("公示 %(start)s 至 %(end)s", start="2025-09-01", end="2025-09-07"),
            "Public notice from 2025-09-01 to 2025-09-07",
        ),
        (
            Message(
                "%(bank)s %(as_of)s %(rows)s 行（一致 %(matched)s，金额不符 %(differs)s，机构无此记录 %(no_record)s，"
                "批次缺少 %(missing)s）",
                bank="工行",
                as_of="2025-06-30",
                rows=4,
                matched=1,
                differs=1,
                no_record=1,
                missing=1,
            ),
            "工行 2025-06-30: 4 rows (1 matched, 1 amounts differ, 1 not in the company's records, 1 missing from the batch)",
        ),
    ],
)
def test_system_audit_notes_read_in_english(message, english):
    with translation.override("en"):
        assert show(store(message)) == english
