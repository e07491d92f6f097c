"""Password reset (mail, one-time link, rate limit, audit) and the token endpoint's throttle keyed on the
trusted client address in the shared cache."""

import re

import pytest
from django.core import mail
from django.test import Client
from rest_framework.authtoken.models import Token

from core.models import AuditEvent
from core.stored_text import show
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW = "Neu-Passwort-2026"


def _link() -> str:
    return re.search(r"https?://testserver(/accounts/password/reset/\S+/)", mail.outbox[-1].body).group(1)


def test_reset_by_a_one_time_link(users):
    user = users["cd_filer"]
    user.email = "chen@cdzx.example"
    user.save()
    Token.objects.create(user=user)
    client = Client()
    sent = client.post("/accounts/password/reset/", {"email": "chen@cdzx.example"})
    assert (sent.status_code, sent["Location"]) == (302, "/accounts/password/reset/sent/")
    assert (len(mail.outbox), mail.outbox[0].to) == (1, ["chen@cdzx.example"])
    link = _link()
    form = client.get(link, follow=True)
    assert form.status_code == 200 and form.context["validlink"] is True
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert (done.status_code, done["Location"]) == (302, "/accounts/password/reset/done/")
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert not Token.objects.filter(user=user).exists()  # the old API token died with the password
    # the link works once
    again = Client().get(link, follow=True)
    assert again.context["validlink"] is False
    notes = list(
        AuditEvent.objects.filter(object_id=str(user.pk)).order_by("id").values_list("note", flat=True)
    )
    assert [show(n) for n in notes] == [
        "请求重置密码，已发送邮件",
        "通过邮件链接重置密码",
    ]


def test_an_unknown_address_gets_the_same_answer_and_no_mail(users):
    response = Client().post("/accounts/password/reset/", {"email": "nobody@example.invalid"})
    assert (response.status_code, response["Location"]) == (302, "/accounts/password/reset/sent/")
    assert mail.outbox == []
    assert AuditEvent.objects.filter(object_repr="nobody@example.invalid").count() == 1


def test_reset_requests_are_rate_limited_per_address_and_mailbox(users, settings):
    settings.PASSWORD_RESET_PER_HOUR = 3
    client = Client()
    answers = [
        client.post("/accounts/password/reset/", {"email": f"x{i}@example.invalid"}).status_code
        for i in range(4)
    ]
    assert answers == [302, 302, 302, 429]
    # one mailbox from rotating addresses: the mailbox's allowance holds
    answers = [
        Client(REMOTE_ADDR=f"10.0.0.{i}")
        .post("/accounts/password/reset/", {"email": "a@example.invalid"})
        .status_code
        for i in range(4)
    ]
    assert answers == [302, 302, 302, 429]
    assert [show(n) for n in AuditEvent.objects.values_list("note", flat=True)].count(
        "重置密码请求过于频繁，已拒绝"
    ) == 2


def test_the_reset_pages_are_linked_from_the_login_page():
    assert 'href="/accounts/password/reset/"' in Client().get("/accounts/login/").content.decode()


# --- the token endpoint's throttle -------------------------------------------------------------------


def _attempts(n: int, *, rotate: bool, **extra) -> list[int]:
    client = Client()
    return [
        client.post(
            "/api/v1/auth/token/",
            {"username": f"nobody{i}", "password": "x"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}" if rotate else "203.0.113.1",
            **extra,
        ).status_code
        for i in range(n)
    ]


def test_rotating_x_forwarded_for_does_not_defeat_the_throttle(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert _attempts(11, rotate=True) == [400] * 10 + [429]


def test_behind_one_proxy_the_client_is_the_last_hop(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # the proxy appends the real client; whatever the client wrote further left is ignored
    client = Client()
    codes = [
        client.post(
            "/api/v1/auth/token/",
            {"username": "nobody", "password": "x"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}, 203.0.113.9",
        ).status_code
        for i in range(11)
    ]
    assert codes == [400] * 10 + [429]
    # a different real client is not throttled
    other = client.post(
        "/api/v1/auth/token/", {"username": "nobody", "password": "x"}, HTTP_X_FORWARDED_FOR="203.0.113.10"
    )
    assert other.status_code == 400


def test_the_throttle_and_reset_limits_use_the_shared_cache(settings):
    expected = (
        "core.cache.ResilientRedisCache"
        if settings.REDIS_URL
        else "django.core.cache.backends.locmem.LocMemCache"
    )
    assert settings.CACHES["default"]["BACKEND"] == expected


def test_rotating_x_forwarded_for_does_not_defeat_the_login_lockout(users, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/accounts/login/",
            {"username": "t_cd_reg", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i}",
        )
    locked = client.post(
        "/accounts/login/",
        {"username": "t_cd_reg", "password": TEST_PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.99",
    )
    assert locked.status_code == 429
    assert AuditEvent.objects.filter(action="login_failed", object_repr="t_cd_reg").count() >= 5


def test_with_the_cache_down_the_token_endpoint_and_the_reset_answer(users, settings, caplog):
    """Redis unreachable (nothing listens on port 1): the throttle and the reset limit are not counted,
    and both endpoints answer as usual instead of a 500."""
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    users["cd_filer"].email = "filer@example.com"
    users["cd_filer"].save()
    client = Client()
    token = client.post("/api/v1/auth/token/", {"username": "t_cd_filer", "password": TEST_PASSWORD})
    assert token.status_code == 200 and token.json()["token"]
    refused = client.post("/api/v1/auth/token/", {"username": "t_cd_filer", "password": "wrong"})
    assert refused.status_code == 400
    reset = client.post("/accounts/password/reset/", {"email": "filer@example.com"})
    assert reset.status_code == 302 and len(mail.outbox) == 1
    assert "cache unavailable" in caplog.text
