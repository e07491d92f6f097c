"""A person's API token: expires (settings.API_TOKEN_HOURS), rotates at each token login, dies on
lock-out and on a password change; the credentials page lists and revokes it."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from core.models import AuditEvent
from core.stored_text import Message, store
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _token(username: str) -> str:
    response = Client().post("/api/v1/auth/token/", {"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _get(token: str, path: str = "/api/v1/filings/"):
    return Client().get(path, HTTP_AUTHORIZATION=f"Token {token}")


def test_the_token_expires_after_the_configured_hours(users, settings):
    settings.API_TOKEN_HOURS = 12
    token = _token("t_cd_filer")
    body = Client().post("/api/v1/auth/token/", {"username": "t_cd_filer", "password": TEST_PASSWORD}).json()
    created = Token.objects.get(key=body["token"]).created
    assert dt.datetime.fromisoformat(body["expires"]) == created + dt.timedelta(hours=12)
    token = body["token"]
    assert _get(token).status_code == 200
    Token.objects.filter(key=token).update(created=timezone.now() - dt.timedelta(hours=12, seconds=1))
    expired = _get(token)
    assert (expired.status_code, expired.json()["detail"]) == (
        401,
        "令牌已过期，请重新获取。",
    )


def test_a_token_login_rotates_the_token(users):
    first = _token("t_cd_filer")
    second = _token("t_cd_filer")
    assert first != second
    assert (_get(first).status_code, _get(second).status_code) == (401, 200)


def test_a_lock_out_kills_the_token(users, settings):
    token = _token("t_cd_filer")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "t_cd_filer", "password": "wrong"})
    assert _get(token).status_code == 401
    assert AuditEvent.objects.filter(action="locked_out", object_repr="t_cd_filer").count() == 1


def test_a_password_change_kills_the_token(users):
    token = _token("t_cd_filer")
    client = Client()
    client.force_login(users["cd_filer"])
    changed = client.post(
        "/accounts/password/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "Neu-Passwort-2026",
            "new_password2": "Neu-Passwort-2026",
        },
    )
    assert changed.status_code == 302
    assert _get(token).status_code == 401


def test_the_credentials_page_lists_and_revokes_ones_own_token(users, django_assert_max_num_queries):
    token = _token("t_cd_filer")
    _token("t_my_filer")
    client = Client()
    client.force_login(users["cd_filer"])
    with django_assert_max_num_queries(12):
        page = client.get("/accounts/credentials/")
    assert page.status_code == 200
    listed = [t.user.username for t, _expires in page.context["tokens"]]
    assert listed == ["t_cd_filer"]  # not another company's person
    # revoking someone else's token is a 404 (not revealed)
    other = client.post("/accounts/credentials/", {"action": "revoke_token", "user": users["my_filer"].pk})
    assert other.status_code == 404
    revoked = client.post("/accounts/credentials/", {"action": "revoke_token", "user": users["cd_filer"].pk})
    assert revoked.status_code == 302
    assert _get(token).status_code == 401
    assert Token.objects.filter(user=users["my_filer"]).count() == 1
    assert AuditEvent.objects.filter(note=store(Message("吊销 API 令牌"))).count() == 1


def test_an_administrator_sees_and_revokes_every_token(users, client_for):
    _token("t_cd_filer")
    _token("t_my_filer")
    page = client_for(users["admin"]).get("/accounts/credentials/")
    assert sorted(t.user.username for t, _e in page.context["tokens"]) == ["t_cd_filer", "t_my_filer"]
    client_for(users["admin"]).post(
        "/accounts/credentials/", {"action": "revoke_token", "user": users["my_filer"].pk}
    )
    assert list(Token.objects.values_list("user__username", flat=True)) == ["t_cd_filer"]


def test_every_page_header_links_to_the_credentials_page(users, client_for):
    assert 'href="/accounts/credentials/"' in client_for(users["cd_filer"]).get("/").content.decode()
