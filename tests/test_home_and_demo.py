"""The demo as a new user meets it: seed twice, log in as each role, see the real scope."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from core.models import AuditEvent
from institutions.demo import seed_licence_notices
from institutions.models import Institution
from reporting.models import Filing
from subsidies import demo as subsidies_demo
from supervision.models import IndicatorBreach, IndicatorValue

pytestmark = pytest.mark.django_db

# username → text the home page must show: name, role and scope.
DEMO_HOME = {
    "admin": ["系统管理员", "全国"],
    "sc_regulator": ["王监管", "监管人员", "四川省（510000，省级）", "辖区内融资担保机构"],
    "cd_regulator": ["李监管", "四川省成都市（510100，市级）"],
    "sc_finance": ["张财政", "财政人员", "四川省（510000，省级）"],
    "cd_finance": ["刘财政", "四川省成都市（510100，市级）"],
    "cdzx_filer": ["陈填报", "填报员", "成都中小企业融资担保有限责任公司"],
    "cdzx_approver": ["杨审核", "审核人/负责人", "成都中小企业融资担保有限责任公司"],
    "mykf_filer": ["赵填报", "绵阳科发融资担保有限公司"],
    "mykf_approver": ["黄审核", "绵阳科发融资担保有限公司"],
}


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=StringIO())


def test_seed_demo_is_deterministic_and_rerunnable(demo):
    first = sorted(Institution.objects.values_list("credit_code", "name", "region_id", "level"))
    events = AuditEvent.objects.count()
    call_command("seed_demo", stdout=StringIO())
    assert sorted(Institution.objects.values_list("credit_code", "name", "region_id", "level")) == first
    assert AuditEvent.objects.count() == events  # nothing changed, so nothing recorded
    # The award list (88) and the companies of seed 003's licence notices: 11 listed legal entities plus
    # 成都市仁信, the unlisted parent of a listed branch. Branches come on top.
    legal_entities = Institution.objects.filter(kind="legal_entity")
    subsidy_companies = len(subsidies_demo.BANAN) + len(subsidies_demo.LIAOCHENG)  # in 500113 and 371500
    assert legal_entities.count() == 88 + 12 + subsidy_companies
    assert legal_entities.filter(level="province").count() == 2
    assert legal_entities.filter(region__code__startswith="51").count() == 88 + 12
    assert (
        len(first) == 88 + 3 + 14 + subsidy_companies
    )  # + the cross-province branches of institutions.demo.BRANCHES + the notice companies
    # Only the award list files: the notice companies' licences ended in 2020, before the demo quarters.
    assert Filing.objects.count() == 961
    assert set(Filing.objects.values_list("institution__kind", flat=True).distinct()) == {"legal_entity"}
    assert Filing.objects.values("institution").distinct().count() == 88
    assert not Filing.objects.filter(
        institution__credit_code__in=[i.credit_code for i in seed_licence_notices()]
    ).exists()
    assert set(User.objects.values_list("username", flat=True)) == set(DEMO_HOME) | subsidies_demo.logins()


def test_seed_demo_rebuilds_changed_demo_filings_and_their_indicators(demo, monkeypatch):
    """A newer demo (here: position 17's leverage) replaces the stored filings, computed ones included."""
    from reporting import demo as reporting_demo

    filing = Filing.objects.filter(
        year=2026, quarter=2, institution__name="自贡市国投融资担保有限责任公司"
    ).get()
    assert filing.indicator_values.get(code="leverage").value == Decimal(
        "12.511811"
    )  # weighted balance ÷ (net assets − equity)
    assert filing.indicator_breaches.filter(threshold__code="LEV-01").exists()
    monkeypatch.setitem(reporting_demo.PROFILES, 17, {"leverage": 9.5})
    call_command("seed_demo", stdout=StringIO())
    rebuilt = Filing.objects.filter(
        year=2026, quarter=2, institution__name="自贡市国投融资担保有限责任公司"
    ).get()
    assert rebuilt.pk != filing.pk
    assert rebuilt.indicator_values.get(code="leverage").value == Decimal("9.269522")
    assert not rebuilt.indicator_breaches.filter(threshold__code="LEV-01").exists()
    assert Filing.objects.count() == 961


def test_each_demo_login_sees_its_scope(demo):
    # One test for all logins: seeding the full demo costs seconds, logging in costs milliseconds.
    for username, texts in DEMO_HOME.items():
        client = Client()
        login = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
        assert login.status_code == 302, username
        page = client.get("/").content.decode()
        for text in texts:
            assert text in page, (username, text)


def test_regulator_home(demo, client_for):
    sc = client_for(User.objects.get(username="sc_regulator")).get("/")
    cd = client_for(User.objects.get(username="cd_regulator")).get("/")
    in_sichuan = Institution.objects.filter(region__code__startswith="51").count()
    assert sc.context["institution_count"] == in_sichuan
    assert (
        cd.context["institution_count"] == Institution.objects.filter(region__code__startswith="5101").count()
    )
    assert {c["name"] for c in sc.context["by_child"]} >= {"成都市", "绵阳市"}
    assert sum(c["value"] for c in sc.context["by_child"]) + sc.context["own_level_count"] == in_sichuan

    # The demo's earlier quarters look like a real province's: 2024Q2 mostly filed on time, one missing.
    board = client_for(User.objects.get(username="sc_regulator")).get(
        "/reporting/completeness/?period=2024Q2"
    )
    counts = board.context["counts"]
    assert {k: counts[k] for k in ("obliged", "filed", "accepted", "late", "missing", "overdue")} == {
        "obliged": 88,
        "filed": 87,
        "accepted": 87,
        "late": 12,
        "missing": 1,
        "overdue": 1,
    }
    guangyuan = next(c for c in board.context["by_city"] if c["code"] == "510800")
    assert (
        guangyuan["name"],
        guangyuan["obliged"],
        guangyuan["filed"],
        guangyuan["late"],
        guangyuan["missing"],
    ) == (
        "广元市",
        8,
        7,
        3,
        1,
    )
    missing = client_for(User.objects.get(username="sc_regulator")).get(
        "/reporting/completeness/?period=2024Q2&state=missing"
    )
    assert [r["institution"].name for r in missing.context["page"].object_list] == [
        "广元市广信农业融资担保股份有限公司"
    ]

    # The page costs the same number of queries however the institutions are spread.
    client = client_for(User.objects.get(username="sc_regulator"))
    with CaptureQueriesContext(connection) as before:
        client.get("/")
    Institution.objects.filter(region__code__startswith="5107").update(region_id="510781")
    with CaptureQueriesContext(connection) as after:
        client.get("/")
    assert len(after) == len(before)


def test_anonymous_visitor_is_sent_to_login(db):
    response = Client().get("/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/")


def test_language_switch_to_english(users, client_for):
    client = client_for(users["cd_regulator"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/").content.decode()
    assert 'lang="en"' in page
    assert "Workbench" in page


def test_health_check(db):
    assert Client().get("/healthz").json() == {"status": "ok", "regions": True}


def test_period_labels_and_indicator_names_follow_the_language():
    from django.utils import translation

    from reporting.periods import Period
    from supervision.indicators import INDICATORS

    with translation.override("zh-hans"):
        assert (Period(2026, 3).label, INDICATORS["leverage"].name) == ("2026年第3季度", "融资担保放大倍数")
    with translation.override("en"):
        assert Period(2026, 3).label == "Q3 2026"
        assert INDICATORS["leverage"].name == "Leverage multiple"
        assert (
            INDICATORS["extra_charges"].name == "Charges to clients other than the guarantee fee"
        )  # a report cell
        assert all(i.name != i.name_zh for i in INDICATORS.values())  # every indicator has an English name


def test_demo_reports_liability_balances_as_the_weights_give_them(demo):
    """Companies report the weighted liability balance the portal computes; one profile (position 45)
    is deliberately off by 120 万元, so the data-quality rule DQ-01 fires for it alone, every quarter."""
    breaches = IndicatorBreach.objects.filter(threshold__code="DQ-01")
    assert set(breaches.values_list("institution__name", flat=True)) == {"广元市利州区利东融资担保有限公司"}
    assert sorted(breaches.values_list("year", "quarter", "value")) == [
        (2024, 1, Decimal("119.998")),
        (2024, 2, Decimal("119.999")),
        (2024, 3, Decimal("120.0005")),
        (2024, 4, Decimal("120.004")),
        (2025, 1, Decimal("119.996")),
        (2025, 2, Decimal("120.0005")),
        (2025, 3, Decimal("120.002")),
        (2025, 4, Decimal("119.9975")),
        (2026, 1, Decimal("119.997")),
        (2026, 2, Decimal("120")),
        (2026, 3, Decimal("120.003")),
    ]
    # Everyone else is off by cent rounding only (reported in cents, computed from cents × weights).
    gaps = IndicatorValue.objects.filter(code="liability_report_gap", value__isnull=False).exclude(
        institution__in=breaches.values("institution")
    )
    assert gaps.count() == 959 - 11 - 6  # computed filings less the breaching eleven and the six nil returns
    assert max(abs(v) for v in gaps.values_list("value", flat=True)) <= Decimal("0.005")


def test_error_pages_speak_the_users_language(users, client_for, settings):
    from django.template.loader import render_to_string

    settings.DEBUG = False
    client = client_for(users["cd_finance"])
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and "该页面不存在，或不在您的权限范围内。" in missing.content.decode()
    refused = client.get("/reporting/filings/")  # finance officers do not read filings
    assert refused.status_code == 403 and "您的角色或辖区无权进行此操作。" in refused.content.decode()
    assert "返回工作台" in refused.content.decode()
    assert "已保存的数据不受影响" in render_to_string("500.html")


def test_the_demo_history_reads_in_the_reader_s_language(demo):
    """The demo's audit notes are stored messages (core.stored_text): the filing history an English
    reader opens says in English what the seed recorded; only payment references stay as written."""
    import re

    from django.urls import reverse
    from django.utils import timezone

    from core.stored_text import is_stored

    plain = {
        n for n in AuditEvent.objects.exclude(note="").values_list("note", flat=True) if not is_stored(n)
    }
    assert plain and all(re.fullmatch(r"(川财金|财拨)〔2026〕\d+号", n) for n in plain), plain

    event = AuditEvent.objects.get(note__contains="年报审计后调整资产负债数据")
    filing = Filing.objects.get(pk=event.object_id)
    first, second = filing.versions.order_by("number")

    def at(moment, pattern="%Y-%m-%d %H:%M"):
        return timezone.localtime(moment).strftime(pattern)

    english = (
        f"Demo data import: version 1 submitted on {at(first.submitted_at)}; version 2 submitted on "
        f"{at(second.submitted_at)} (reason for the amendment: Balance sheet data adjusted after the annual "
        f"audit); accepted on {at(filing.accepted_at, '%Y-%m-%d')}"
    )
    chinese = (
        f"演示数据导入：第1版报送于{at(first.submitted_at)}；第2版报送于{at(second.submitted_at)}"
        f"（更正原因：年报审计后调整资产负债数据）；受理于{at(filing.accepted_at, '%Y-%m-%d')}"
    )
    client = Client()
    client.force_login(User.objects.get(username="admin"))

    def history(language):
        client.cookies["django_language"] = language
        html = client.get(reverse("reporting:filing", args=[filing.pk])).content.decode()
        return re.findall(r"</span></div>\s*<div>(.*?)</div>", html)

    assert english in history("en") and chinese in history("zh-hans")

    from subsidies.models import ApplicationStep
    from supervision.models import Measure

    rejected = Measure.objects.get(approval_note="依据不足，先行约谈。")
    measure_page = reverse("supervision:measure_detail", args=[rejected.pk])
    step = ApplicationStep.objects.filter(note__contains="请补充相关担保合同及缴费凭证").first()  # its steps
    application_page = reverse("subsidies:application", args=[step.application_id])

    def notes(url, language):
        client.cookies["django_language"] = language
        return client.get(url).content.decode()

    english_measure, english_application = notes(measure_page, "en"), notes(application_page, "en")
    assert "<div>Insufficient grounds; a supervisory talk first.</div>" in english_measure
    assert "<div>依据不足，先行约谈。</div>" not in english_measure
    assert " · Please add the guarantee contracts concerned and the fee payment receipts</li>" in (
        english_application
    )
    assert "<div>依据不足，先行约谈。</div>" in notes(measure_page, "zh-hans")
