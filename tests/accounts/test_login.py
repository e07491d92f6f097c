"""Login: failed-attempt throttling (django-axes), TOTP second factor, token API, password rules."""

import datetime as dt

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import enrolment_code_issue
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _code(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_login_lands_on_the_home_page(users):
    response = _login(Client(), "t_cd_reg", TEST_PASSWORD)
    assert (response.status_code, response["Location"]) == (302, "/")


def test_five_failures_lock_the_account_even_for_the_right_password(users):
    client = Client()
    for _ in range(4):
        assert _login(client, "t_cd_reg", "wrong-password").status_code == 200
    locked = _login(client, "t_cd_reg", "wrong-password")
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode()
    assert _login(client, "t_cd_reg", TEST_PASSWORD).status_code == 429
    # Another user from the same address is not locked out by someone else's failures.
    assert _login(client, "t_my_reg", TEST_PASSWORD).status_code == 302


def test_token_api_failures_count_towards_the_same_lockout(users):
    client = Client()
    for _ in range(5):
        refused = client.post("/api/v1/auth/token/", {"username": "t_my_filer", "password": "nope"})
        assert (refused.status_code, refused.json()) == (
            400,
            {
                "code": "invalid",
                "detail": "用户名或密码错误，或账户已被锁定。",
                "errors": {},
            },
        )
    assert _login(client, "t_my_filer", TEST_PASSWORD).status_code == 429


def test_token_api_returns_a_token_that_authenticates(users):
    response = Client().post("/api/v1/auth/token/", {"username": "t_cd_filer", "password": TEST_PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    assert len(token) == 40
    assert Client().get("/api/schema/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


@pytest.fixture
def otp_on(settings):
    settings.OTP_REQUIRED = True


def test_second_factor_is_demanded_of_regulators_when_required(otp_on, users):
    client = Client()
    assert _login(client, "t_sc_reg", TEST_PASSWORD).status_code == 302
    home = client.get("/")
    assert (home.status_code, home["Location"]) == (302, "/accounts/otp/?next=/")
    # The first enrolment asks for the administrator's one-time code before it shows any secret.
    setup = client.get("/accounts/otp/")
    assert "data:image/svg+xml;base64," not in setup.content.decode()
    assert 'name="enrolment_code"' in setup.content.decode()
    code = enrolment_code_issue(actor=users["admin"], user=users["sc_regulator"])
    client.post("/accounts/otp/", {"enrolment_code": code, "next": "/"})
    setup = client.get("/accounts/otp/")
    assert "data:image/svg+xml;base64," in setup.content.decode()
    device = TOTPDevice.objects.get(user=users["sc_regulator"], confirmed=False)
    verified = client.post("/accounts/otp/", {"token": _code(device), "next": "/"})
    assert (verified.status_code, verified["Location"]) == (302, "/")
    assert client.get("/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed is True


def test_a_wrong_code_is_refused_and_throttled(otp_on, users):
    client = Client()
    client.force_login(users["cd_finance"])
    device = TOTPDevice.objects.create(user=users["cd_finance"], name="phone", confirmed=True)
    wrong = "000000" if _code(device) != "000000" else "111111"
    refused = client.post("/accounts/otp/", {"token": wrong})
    assert (refused.status_code, "验证码不正确" in refused.content.decode()) == (200, True)
    # django-otp now makes the device wait before it accepts even the right code.
    assert client.post("/accounts/otp/", {"token": _code(device)}).status_code == 200
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("who", ["sc_finance", "admin"])
def test_finance_officers_and_admins_need_the_second_factor_too(otp_on, users, who):
    client = Client()
    client.force_login(users[who])
    assert client.get("/")["Location"].startswith("/accounts/otp/")


def test_company_users_do_not_need_the_second_factor(otp_on, users):
    client = Client()
    assert _login(client, "t_cd_filer", TEST_PASSWORD).status_code == 302
    assert client.get("/").status_code == 200


def test_token_api_requires_the_totp_code_when_required(otp_on, users):
    user = users["cd_regulator"]
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    refused = client.post("/api/v1/auth/token/", {"username": user.username, "password": TEST_PASSWORD})
    assert (refused.status_code, refused.json()) == (
        400,
        {
            "code": "invalid",
            "detail": "需要有效的动态验证码。",
            "errors": {"otp_token": ["需要有效的动态验证码。"]},
        },
    )
    granted = client.post(
        "/api/v1/auth/token/",
        {"username": user.username, "password": TEST_PASSWORD, "otp_token": _code(device)},
    )
    assert granted.status_code == 200, granted.content.decode()


def test_second_factor_is_off_in_the_demo(users):
    client = Client()
    _login(client, "t_sc_reg", TEST_PASSWORD)
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Danbao@2026x", True),
        ("short@1A", False),  # fewer than 10 characters
        ("alllowercase1", False),  # one character class too few
        ("12345678901", False),  # numeric only
    ],
)
def test_password_rules(password, ok):
    user = UserFactory.build(username="rules")
    if ok:
        validate_password(password, user)
    else:
        with pytest.raises(ValidationError):
            validate_password(password, user)


def test_activity_renews_the_session_once_a_minute_and_idleness_ends_it(db, settings, monkeypatch):
    from django.contrib.sessions.models import Session

    assert (settings.SESSION_COOKIE_AGE, settings.SESSION_RENEW_SECONDS) == (1800, 60)
    clock = [1_000_000.0]
    monkeypatch.setattr("accounts.middleware.time.time", lambda: clock[0])
    c = Client()
    c.force_login(UserFactory(username="idle", role="regulator", region_id="510000"))

    def expiry():
        return Session.objects.get().expire_date

    first = expiry()  # the login stamped the session
    clock[0] += 59  # within the minute: no write, the expiry stays
    assert c.get("/").status_code == 200 and expiry() == first
    clock[0] += 1  # a minute after the stamp: renewed
    assert c.get("/").status_code == 200 and expiry() > first
    # idle past the limit: the database session has expired and the next page asks for a login
    Session.objects.update(expire_date=expiry() - dt.timedelta(seconds=settings.SESSION_COOKIE_AGE + 1))
    assert c.get("/").status_code == 302


def test_passwords_are_hashed_with_argon2id_and_older_hashes_upgrade_at_login(db, settings):
    from django.contrib.auth.hashers import make_password

    from guarantee_portal import settings as project_settings

    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS  # the tests' own fast hasher aside
    user = UserFactory(username="hashed", role="regulator", region_id="510000")
    user.password = make_password(TEST_PASSWORD, hasher="pbkdf2_sha256")
    user.save()
    assert (
        Client().post("/accounts/login/", {"username": "hashed", "password": TEST_PASSWORD}).status_code
        == 302
    )
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert make_password("Another-Pass-2026").startswith("argon2$argon2id$")
