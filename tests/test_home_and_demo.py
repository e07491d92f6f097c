"""The demo as a new user meets it: seed twice, log in as each role, see the real scope."""

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
    assert legal_entities.count() == 88 + 12
    assert legal_entities.filter(level="province").count() == 2
    assert legal_entities.filter(region__code__startswith="51").count() == 88 + 12
    assert len(first) == 88 + 3 + 14  # + the cross-province branches of institutions.demo.BRANCHES + the notice companies
    # Only the award list files: the notice companies' licences ended in 2020, before the demo quarters.
    assert Filing.objects.count() == 699
    assert set(Filing.objects.values_list("institution__kind", flat=True).distinct()) == {"legal_entity"}
    assert Filing.objects.values("institution").distinct().count() == 88
    assert not Filing.objects.filter(institution__credit_code__in=[i.credit_code for i in seed_licence_notices()]).exists()
    assert set(User.objects.values_list("username", flat=True)) == set(DEMO_HOME)


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
    assert cd.context["institution_count"] == Institution.objects.filter(region__code__startswith="5101").count()
    assert {c["name"] for c in sc.context["by_child"]} >= {"成都市", "绵阳市"}
    assert sum(c["value"] for c in sc.context["by_child"]) + sc.context["own_level_count"] == in_sichuan

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

    from reporting.indicators import INDICATORS
    from reporting.periods import Period

    with translation.override("zh-hans"):
        assert (Period(2026, 3).label, INDICATORS["leverage"].name) == ("2026年第3季度", "融资担保放大倍数")
    with translation.override("en"):
        assert Period(2026, 3).label == "Q3 2026"
        assert INDICATORS["leverage"].name == "Leverage multiple"
