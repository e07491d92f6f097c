"""Must show: the demo holds the 13 companies of seed 003's Sichuan licence notices (and the unlisted parent
of a listed branch), their licences cancelled / revoked through the services, both notices published as
printed, the public pages showing them; a re-run changes nothing. Revocation duties and appeal rights
have exact states on their boundary days, and a 2020 revocation reads as overdue duties and lapsed rights."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from core.models import AuditEvent
from institutions import services
from institutions.demo import NOTICE_CODE_BASE, demo_credit_code, seed_licence_notices
from institutions.models import Institution, Licence, LicenceDuty, Notice, NoticeItem
from institutions.seed_notices import CANCEL_KEY, NOTICES, REVOKE_KEY, rows_of

pytestmark = pytest.mark.django_db

# licence number → (holder, region, licence status, holder status); the parent 成都市仁信 holds none.
EXPECTED = {
    "川F005": ("德阳鑫融金融资担保有限责任公司", "510600", "cancelled", "deregistered"),
    "川A110230": ("四川泰森融资担保有限公司德阳分公司", "510600", "cancelled", "deregistered"),
    "川A110478": ("宜宾市鼎恒融资担保有限公司", "511500", "cancelled", "deregistered"),
    "川A110188": ("四川省宜宾政恒达融资担保有限公司", "511500", "cancelled", "deregistered"),
    "川A110345": ("四川泰森融资担保有限公司", "510100", "cancelled", "deregistered"),
    "川A110331": ("四川宝通融资担保有限公司", "510100", "revoked", "exiting"),
    "川A110319": ("四川安信融资担保管理有限公司", "510100", "revoked", "exiting"),
    "川A110260": ("绵阳川圣融资担保有限公司", "510700", "revoked", "exiting"),
    "川A110109": ("成都市仁信融资担保有限责任公司乐山分公司", "511100", "revoked", "exiting"),
    "川A110147": ("四川慧立融资担保有限公司", "510100", "revoked", "exiting"),
    "川A110135": ("达州市银通融资担保有限责任公司", "511700", "revoked", "exiting"),
    "川A110133": ("达州市大众恒信融资担保有限公司", "511700", "revoked", "exiting"),
    "川A110150": ("达州市汇金融资担保有限责任公司", "511700", "revoked", "exiting"),
}
UNLISTED_PARENT = "成都市仁信融资担保有限责任公司"


def _snapshot():
    return {
        "institutions": sorted(
            Institution.objects.values_list("credit_code", "name", "region_id", "kind", "parent_id", "status")
        ),
        "licences": sorted(
            Licence.objects.values_list(
                "number",
                "institution_id",
                "status",
                "cancelled_on",
                "cancel_reason",
                "revoked_on",
                "revocation_reason",
            )
        ),
        "notices": sorted(
            Notice.objects.values_list(
                "pk", "kind", "title", "body", "status", "published_on", "period_label"
            )
        ),
        "items": NoticeItem.objects.count(),
        "duties": LicenceDuty.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def test_demo_seeds_the_licence_notices_of_seed_003():
    companies = seed_licence_notices()

    assert len(companies) == 14 and companies[-1].name == UNLISTED_PARENT
    assert [c.credit_code for c in companies] == [
        demo_credit_code(c.region_id, NOTICE_CODE_BASE + n) for n, c in enumerate(companies, start=1)
    ]
    licences = {lic.number: lic for lic in Licence.objects.select_related("institution")}
    assert {
        number: (lic.institution.name, lic.institution.region_id, lic.status, lic.institution.status)
        for number, lic in licences.items()
    } == EXPECTED
    assert {lic.cancel_reason for lic in licences.values() if lic.status == "cancelled"} == {"根据公司申请"}
    assert {
        (lic.revoked_on, lic.revocation_reason) for lic in licences.values() if lic.status == "revoked"
    } == {(dt.date(2020, 9, 29), "根据整改验收结果")}
    # the revoked holders are exiting from the notice's day (their status history starts there)
    assert {
        tuple(lic.institution.status_changes.values_list("status", "effective_on"))
        for lic in licences.values()
        if lic.status == "revoked"
    } == {(("exiting", dt.date(2020, 9, 29)),)}
    assert {lic.issued_on for lic in licences.values()} == {None}  # the seed gives no issue dates
    parent = Institution.objects.get(name=UNLISTED_PARENT)
    assert (parent.kind, parent.region_id, parent.status, parent.licences.count()) == (
        "legal_entity",
        "510100",
        "operating",
        0,
    )
    assert licences["川A110109"].institution.parent == parent
    assert licences["川A110230"].institution.parent == licences["川A110345"].institution
    assert Institution.objects.filter(kind="branch").count() == 2

    cancel, revoke = Notice.objects.get(kind="cancel"), Notice.objects.get(kind="revoke")
    assert Notice.objects.count() == 2
    for notice, key in ((cancel, CANCEL_KEY), (revoke, REVOKE_KEY)):
        printed = NOTICES[key]
        assert (notice.status, notice.region_id, notice.issuing_body, notice.document_no) == (
            "published",
            "510000",
            "四川省地方金融监督管理局",
            "",
        )
        assert (notice.title, notice.body) == (printed.title, printed.body)
        assert list(
            notice.items.order_by("seq").values_list("seq", "institution_name", "licence_number")
        ) == [(int(r["seq"]), r["name"], r["licence_number"]) for r in rows_of(key)]
    assert (cancel.published_on, cancel.period_label) == (None, "2020年7-9月")
    assert (revoke.published_on, revoke.period_label) == (dt.date(2020, 9, 29), "")
    assert cancel.items.count() == 5 and revoke.items.count() == 8

    public = Client()
    listing = public.get(reverse("institutions:public_notices"), {"format": "json"}).json()["results"]
    assert sorted((n["id"], n["items"]) for n in listing) == sorted([(cancel.pk, 5), (revoke.pk, 8)])
    for notice, date_text in ((cancel, "2020年7-9月"), (revoke, "2020年9月29日")):
        url = reverse("institutions:public_notice", args=[notice.pk])
        html = public.get(url).content.decode()
        assert notice.title in html and date_text in html
        # each printed paragraph is its own indented paragraph (1 in the cancellation, 4 in the revocation)
        assert (
            html.count('<p class="mb-1" style="text-indent:2em">')
            == len(notice.body.splitlines())
            == (1 if notice == cancel else 4)
        )
        assert [
            (r["institution"], r["licence_number"])
            for r in public.get(url, {"format": "json"}).json()["results"]
        ] == [(i.institution_name, i.licence_number) for i in notice.items.order_by("seq")]
    register = public.get(reverse("institutions:public_register"), {"format": "json"}).json()["results"]
    assert {
        r["licence_number"]: (
            r["institution"],
            r["region_code"],
            r["licence_status_code"],
            r["institution_status"],
            r["cancelled_on"],
            r["revoked_on"],
        )
        for r in register
    } == {
        number: (
            name,
            region,
            status,
            "已注销" if status == "cancelled" else "退出中",
            None,
            "2020-09-29" if status == "revoked" else None,
        )
        for number, (name, region, status, _holder) in EXPECTED.items()
    }

    assert LicenceDuty.objects.count() == 8 * 5
    assert LicenceDuty.objects.filter(done_on__isnull=False).count() == 0

    before = _snapshot()
    assert seed_licence_notices() == companies
    assert _snapshot() == before


def test_duty_states_on_their_boundary_days(chengdu_institution):
    lic = services.licence_issue(
        actor=None, institution=chengdu_institution, number="川A120009", issued_on=dt.date(2019, 1, 1)
    )
    services.licences_revoke(
        actor=None, licences=[lic], decision_no="", on=dt.date(2020, 9, 29), reason="整改验收不合格"
    )
    duties = {d.kind: d for d in lic.duties.all()}
    # kind → (due day, state the day after): duties become overdue, rights of appeal lapse
    expected = {
        "announce": (dt.date(2020, 10, 4), "overdue"),
        "return_licence": (dt.date(2020, 10, 14), "overdue"),
        "market_regulator": (dt.date(2020, 10, 29), "overdue"),
        "reconsideration": (dt.date(2020, 11, 28), "lapsed"),
        "lawsuit": (dt.date(2021, 3, 29), "lapsed"),
    }
    assert {kind: d.due_on for kind, d in duties.items()} == {
        kind: due for kind, (due, _after) in expected.items()
    }
    for kind, (due, after) in expected.items():
        duty = duties[kind]
        assert [
            duty.state(day)
            for day in (dt.date(2020, 9, 29), due, due + dt.timedelta(days=1), dt.date(2026, 1, 1))
        ] == ["open", "open", after, after], kind
    services.licence_duty_complete(
        actor=None, duty=duties["announce"], done_on=dt.date(2020, 10, 6)
    )  # late, but done
    duties["announce"].refresh_from_db()
    assert duties["announce"].state(dt.date(2026, 1, 1)) == "done"


def test_institution_page_shows_a_2020_revocation_as_overdue_duties_and_lapsed_rights(users, client_for):
    seed_licence_notices()
    holder = Institution.objects.get(name="四川宝通融资担保有限公司")
    page = client_for(users["sc_regulator"]).get(
        reverse("institutions:detail", args=[holder.pk]), {"tab": "licences"}
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert (
        html.count('<span class="badge text-bg-danger">已逾期</span>') == 3
    )  # announce, return, market regulator
    assert (
        html.count('<span class="badge text-bg-secondary">期限已届满</span>') == 2
    )  # reconsideration, lawsuit
    assert html.count("table-danger") == 3 and "进行中" not in html
    detail = client_for(users["sc_regulator"]).get(
        reverse("institutions:licence", args=[holder.licences.get().pk])
    )
    assert detail.content.decode().count("期限已届满") == 2
