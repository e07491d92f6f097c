"""The second factor: demanded of every staff, superuser, regulator, finance and admin account (one
place: accounts.permissions.needs_second_factor), on pages, /admin/, /audit/ and the token endpoint;
before it is verified nothing but the second-factor page is reachable; the first enrolment needs an
administrator's one-time code, and the secret is never shown before it."""

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import EnrolmentCode, User
from accounts.permissions import needs_second_factor
from accounts.services import enrolment_code_issue
from core.models import AuditEvent
from core.stored_text import show
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def otp_on(settings):
    settings.OTP_REQUIRED = True


def _code(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.fixture
def superuser(db):
    """What `createsuperuser` makes: no role at all."""
    return User.objects.create_superuser("root", "root@example.invalid", TEST_PASSWORD)


def test_a_superuser_without_a_role_needs_the_second_factor(superuser):
    assert superuser.role == ""
    assert needs_second_factor(superuser) is True


@pytest.mark.parametrize(
    ("kwargs", "needed"),
    [
        ({"role": "regulator", "region_id": "510000"}, True),
        ({"role": "finance", "region_id": "510000"}, True),
        ({"role": "admin"}, True),
        ({"role": "", "is_staff": True}, True),
        ({"role": "", "is_superuser": True}, True),
        ({"role": ""}, False),
    ],
)
def test_who_needs_the_second_factor(kwargs, needed):
    assert needs_second_factor(UserFactory(username="who", **kwargs)) is needed


@pytest.mark.parametrize("path", ["/", "/admin/", "/audit/", "/accounts/password/", "/api/v1/filings/"])
def test_a_password_only_superuser_reaches_nothing_but_the_second_factor(superuser, path):
    client = Client()
    assert client.post("/accounts/login/", {"username": "root", "password": TEST_PASSWORD}).status_code == 302
    response = client.get(path)
    assert (response.status_code, response["Location"]) == (302, f"/accounts/otp/?next={path}")


def test_a_password_only_session_cannot_change_the_password(users):
    client = Client()
    client.force_login(users["cd_regulator"])
    response = client.post(
        "/accounts/password/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "Neu-Passwort-2026",
            "new_password2": "Neu-Passwort-2026",
        },
    )
    assert (response.status_code, response["Location"]) == (302, "/accounts/otp/?next=/accounts/password/")
    users["cd_regulator"].refresh_from_db()
    assert users["cd_regulator"].check_password(TEST_PASSWORD)


def test_the_token_endpoint_requires_the_code_of_a_superuser(superuser):
    client = Client()
    refused = client.post("/api/v1/auth/token/", {"username": "root", "password": TEST_PASSWORD})
    assert (refused.status_code, refused.json()["errors"]) == (
        400,
        {"otp_token": ["需要有效的动态验证码。"]},
    )
    device = TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    granted = client.post(
        "/api/v1/auth/token/", {"username": "root", "password": TEST_PASSWORD, "otp_token": _code(device)}
    )
    assert granted.status_code == 200


def test_the_secret_is_not_shown_before_the_enrolment_code(superuser):
    client = Client()
    client.force_login(superuser)
    page = client.get("/accounts/otp/").content.decode()
    assert ('name="enrolment_code"' in page, "data:image/svg" in page, "otpauth" in page) == (
        True,
        False,
        False,
    )
    assert not TOTPDevice.objects.filter(user=superuser).exists()  # no secret even created
    wrong = client.post("/accounts/otp/", {"enrolment_code": "AAAA-BBBB-CCCC-DDDD"})
    assert "绑定授权码无效或已失效" in wrong.content.decode()
    assert "data:image/svg" not in wrong.content.decode()


def test_enrolment_with_the_administrators_code_then_the_totp_code(superuser, capsys):
    call_command("issue_enrolment_code", "root")
    code = capsys.readouterr().out.strip()
    assert len(code) == 19
    client = Client()
    client.force_login(superuser)
    accepted = client.post("/accounts/otp/", {"enrolment_code": code.lower(), "next": "/audit/"})
    assert (accepted.status_code, accepted["Location"]) == (302, "/accounts/otp/?next=/audit/")
    assert "data:image/svg" in client.get("/accounts/otp/").content.decode()
    device = TOTPDevice.objects.get(user=superuser, confirmed=False)
    verified = client.post("/accounts/otp/", {"token": _code(device), "next": "/audit/"})
    assert (verified.status_code, verified["Location"]) == (302, "/audit/")
    assert client.get("/audit/").status_code == 200
    # the code was for one time only
    other = Client()
    other.force_login(superuser)
    TOTPDevice.objects.filter(user=superuser).delete()
    assert "data:image/svg" not in other.post("/accounts/otp/", {"enrolment_code": code}).content.decode()
    notes = (
        AuditEvent.objects.filter(object_repr=str(superuser)).order_by("id").values_list("note", flat=True)
    )
    assert [show(n) for n in notes] == [
        "签发双因素绑定授权码",
        "使用绑定授权码",
        "绑定授权码无效",
    ]


def test_an_expired_code_is_refused(superuser, settings):
    settings.OTP_ENROLMENT_CODE_HOURS = 0
    code = enrolment_code_issue(actor=None, user=superuser)
    client = Client()
    client.force_login(superuser)
    refused = client.post("/accounts/otp/", {"enrolment_code": code})
    assert "绑定授权码无效或已失效" in refused.content.decode()


def test_only_administrators_issue_codes_and_a_new_code_removes_the_devices(users):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        enrolment_code_issue(actor=users["cd_regulator"], user=users["sc_regulator"])
    TOTPDevice.objects.create(user=users["sc_regulator"], name="lost phone", confirmed=True)
    enrolment_code_issue(actor=users["admin"], user=users["sc_regulator"])
    enrolment_code_issue(actor=users["admin"], user=users["sc_regulator"])
    assert TOTPDevice.objects.filter(user=users["sc_regulator"]).count() == 0
    assert EnrolmentCode.objects.filter(user=users["sc_regulator"], used_at__isnull=True).count() == 1


def test_the_user_admin_action_issues_a_code(superuser, users):
    client = Client()
    client.force_login(superuser)
    device = TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    client.post("/accounts/otp/", {"token": _code(device)})
    response = client.post(
        "/admin/accounts/user/",
        {"action": "issue_enrolment_code", "_selected_action": [users["cd_finance"].pk], "index": 0},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]][-1].startswith("t_cd_fin 的一次性绑定授权码：")
    assert EnrolmentCode.objects.filter(user=users["cd_finance"], issued_by=superuser).count() == 1
