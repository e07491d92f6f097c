"""Tenant isolation for every registry page, as a matrix over the `users` fixture: who gets 200, 403 or
404 (and 302 to the login page for the anonymous), and that writes outside one's scope are refused."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from institutions.models import Agreement, Licence

pytestmark = pytest.mark.django_db

EVERYONE = [
    "admin",
    "sc_regulator",
    "cd_regulator",
    "my_regulator",
    "sc_finance",
    "cd_finance",
    "cd_filer",
    "cd_approver",
    "my_filer",
    "zj_regulator",
    "anonymous",
]


def expect(ok=(), forbidden=(), login=True):
    """status by user: listed in ok → 200, forbidden → 403, anonymous → 302 (if login), else 404."""
    out = {}
    for who in EVERYONE:
        if who in ok:
            out[who] = 200
        elif who == "anonymous" and login:
            out[who] = 302
        elif who in forbidden:
            out[who] = 403
        else:
            out[who] = 404
    return out


REGULATORS = {"admin", "sc_regulator", "cd_regulator", "my_regulator", "zj_regulator"}
COMPANY = {"cd_filer", "cd_approver", "my_filer"}
FINANCE = {"sc_finance", "cd_finance"}
CD_SEERS = {"admin", "sc_regulator", "cd_regulator", "sc_finance", "cd_finance", "cd_filer", "cd_approver"}
MY_SEERS = {"admin", "sc_regulator", "my_regulator", "sc_finance", "my_filer"}

PAGES = {
    "list": (lambda o: reverse("institutions:list"), expect(REGULATORS, FINANCE | COMPANY)),
    "export": (lambda o: reverse("institutions:export"), expect(REGULATORS, FINANCE | COMPANY)),
    "detail_cd": (
        lambda o: reverse("institutions:detail", args=[o["cd_licence"].institution_id]),
        expect(CD_SEERS),
    ),
    "detail_my": (
        lambda o: reverse("institutions:detail", args=[o["my_licence"].institution_id]),
        expect(MY_SEERS),
    ),
    "detail_cd_history": (
        lambda o: reverse("institutions:detail", args=[o["cd_licence"].institution_id]) + "?tab=history",
        expect(CD_SEERS),
    ),
    "detail_cd_people": (
        lambda o: reverse("institutions:detail", args=[o["cd_licence"].institution_id]) + "?tab=people",
        expect(CD_SEERS),
    ),
    "detail_cd_changes": (
        lambda o: reverse("institutions:detail", args=[o["cd_licence"].institution_id]) + "?tab=changes",
        expect(CD_SEERS),
    ),
    "detail_my_agreements": (
        lambda o: reverse("institutions:detail", args=[o["my_licence"].institution_id]) + "?tab=agreements",
        expect(MY_SEERS),
    ),
    "import": (lambda o: reverse("institutions:import"), expect(REGULATORS, FINANCE | COMPANY)),
    "own": (lambda o: reverse("institutions:own"), expect(COMPANY)),
    "licence_cd": (
        lambda o: reverse("institutions:licence", args=[o["cd_licence"].pk]),
        expect({"admin", "sc_regulator", "cd_regulator"}, FINANCE | COMPANY),
    ),
    # the institution holds a valid licence: those who see it are sent back to its page, told why (no form
    # to fill in for nothing); the others as before
    "licence_issue_my": (
        lambda o: reverse("institutions:licence_issue", args=[o["my_licence"].institution_id]),
        {
            **expect({"admin", "sc_regulator", "my_regulator"}, FINANCE | COMPANY),
            **dict.fromkeys(("admin", "sc_regulator", "my_regulator"), 302),
        },
    ),
    "agreements": (lambda o: reverse("institutions:agreements"), expect(set(EVERYONE) - {"anonymous"})),
    "agreement_cd": (
        lambda o: reverse("institutions:agreement", args=[o["cd_agreement"].pk]),
        expect(CD_SEERS),
    ),
    "agreement_my": (
        lambda o: reverse("institutions:agreement", args=[o["my_agreement"].pk]),
        expect(MY_SEERS),
    ),
    "notices": (lambda o: reverse("institutions:notices"), expect(REGULATORS | FINANCE, COMPANY)),
    "govlist": (lambda o: reverse("institutions:govlist"), expect(REGULATORS | FINANCE, COMPANY)),
    "public_register": (lambda o: reverse("institutions:public_register"), expect(EVERYONE, login=False)),
    "public_govlist": (lambda o: reverse("institutions:public_govlist"), expect(EVERYONE, login=False)),
    "public_notices": (lambda o: reverse("institutions:public_notices"), expect(EVERYONE, login=False)),
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_matrix(page, users, registry_objects, client_for):
    url_of, expected = PAGES[page]
    url = url_of(registry_objects)
    got = {}
    for who in EVERYONE:
        client = client_for(None if who == "anonymous" else users[who])
        got[who] = client.get(url).status_code
    assert got == expected


def test_draft_notice_is_not_public_and_not_seen_by_other_regions(users, registry_objects, client_for):
    from institutions.models import Notice

    notice = Notice.objects.get(items__licence=registry_objects["cd_licence"])
    assert notice.status == "draft" and notice.region_id == "510000"
    assert client_for(None).get(reverse("institutions:public_notice", args=[notice.pk])).status_code == 404
    assert (
        client_for(users["sc_regulator"]).get(reverse("institutions:notice", args=[notice.pk])).status_code
        == 200
    )
    for who in ("cd_regulator", "zj_regulator", "my_regulator"):
        assert client_for(users[who]).get(reverse("institutions:notice", args=[notice.pk])).status_code == 404
    assert (
        client_for(users["cd_filer"]).get(reverse("institutions:notice", args=[notice.pk])).status_code == 403
    )


# Cancelling the Chengdu licence: only the provincial regulator and the administrator may.
CANCEL = {
    "admin": 302,
    "sc_regulator": 302,
    "cd_regulator": 403,
    "my_regulator": 404,
    "zj_regulator": 404,
    "sc_finance": 403,
    "cd_finance": 403,
    "cd_filer": 403,
    "cd_approver": 403,
    "my_filer": 403,
    "anonymous": 302,
}


@pytest.mark.parametrize("who", sorted(CANCEL))
def test_cancel_write_matrix(who, users, registry_objects, client_for):
    licence = registry_objects["cd_licence"]
    client = client_for(None if who == "anonymous" else users[who])
    response = client.post(
        reverse("institutions:licence_action", args=["cancel"]),
        {"ids": [licence.pk], "reason": "根据公司申请", "on": "2025-01-05", "confirm": "1"},
    )
    assert response.status_code == CANCEL[who]
    licence.refresh_from_db()
    changed = who in ("admin", "sc_regulator")
    assert licence.status == ("cancelled" if changed else "valid")
    if who == "anonymous":
        assert "/accounts/login" in response["Location"]


AGREEMENT_EDIT = {
    "admin": 302,
    "sc_regulator": 302,
    "cd_regulator": 302,
    "cd_filer": 302,
    "cd_approver": 302,
    "my_regulator": 404,
    "zj_regulator": 404,
    "my_filer": 404,
    "sc_finance": 403,
    "cd_finance": 403,
    "anonymous": 302,
}


@pytest.mark.parametrize("who", sorted(AGREEMENT_EDIT))
def test_agreement_write_matrix(who, users, registry_objects, client_for):
    agreement = registry_objects["cd_agreement"]
    client = client_for(None if who == "anonymous" else users[who])
    response = client.post(
        reverse("institutions:agreement_edit", args=[agreement.pk]),
        {
            "bank": registry_objects["bank"].pk,
            "starts_on": "2025-01-01",
            "ends_on": "2028-12-31",
            "credit_line": "70000",
            "share_bank": "30",
            "share_guarantor": "70",
            "share_reguarantor": "0",
            "share_national_fund": "0",
            "share_gov_fund": "0",
            "margin_ratio": "0",
            "grace_days": "30",
            "compensation_scope": "principal_interest",
        },
    )
    assert response.status_code == AGREEMENT_EDIT[who]
    agreement.refresh_from_db()
    changed = AGREEMENT_EDIT[who] == 302 and who != "anonymous"
    assert str(agreement.credit_line) == ("70000.00" if changed else "50000.00")


def test_company_sees_only_its_own_agreements_and_institution(users, registry_objects):
    cd_filer = users["cd_filer"]
    assert list(Agreement.objects.for_user(cd_filer)) == [registry_objects["cd_agreement"]]
    assert set(Licence.objects.for_user(AnonymousUser()).values_list("number", flat=True)) == {
        "川A100001",
        "川A100002",
    }


def test_company_creates_agreement_and_sees_findings_and_reminder(users, registry_objects, client_for):
    import datetime as dt

    from django.utils import timezone

    client = client_for(users["cd_filer"])
    ends = timezone.localdate() + dt.timedelta(days=30)
    response = client.post(
        reverse("institutions:agreement_new"),
        {
            "bank": registry_objects["bank"].pk,
            "starts_on": "2025-01-01",
            "ends_on": ends.isoformat(),
            "credit_line": "8000",
            "share_bank": "10",
            "share_guarantor": "90",
            "share_reguarantor": "0",
            "share_national_fund": "0",
            "share_gov_fund": "0",
            "margin_ratio": "0",
            "grace_days": "30",
            "compensation_scope": "principal_interest",
        },
    )
    assert response.status_code == 302
    created = Agreement.objects.get(credit_line=8000)
    assert created.institution == users["cd_filer"].institution
    page = client.get(reverse("institutions:agreements")).content.decode()
    assert "银行分担比例10%，低于20%。" in page and "即将到期" in page
    bad = client.post(
        reverse("institutions:agreement_new"),
        {
            "bank": registry_objects["bank"].pk,
            "starts_on": "2025-01-01",
            "ends_on": "2026-01-01",
            "credit_line": "9000",
            "share_bank": "10",
            "share_guarantor": "80",
            "share_reguarantor": "0",
            "share_national_fund": "0",
            "share_gov_fund": "0",
            "margin_ratio": "0",
            "grace_days": "30",
            "compensation_scope": "principal_interest",
        },
    )
    assert bad.status_code == 200 and "各方分担比例之和须恰为100%，当前为90%。" in bad.content.decode()
    assert not Agreement.objects.filter(credit_line=9000).exists()
    # another company cannot create for the Chengdu institution
    other = client_for(users["my_filer"]).post(
        reverse("institutions:agreement_new") + f"?institution={created.institution_id}", {}
    )
    assert other.status_code == 404
