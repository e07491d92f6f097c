"""A company's named API keys: created by its approver, scoped (file reports, read own indicators, upload
loan-level batches), revocable, last use shown; filing by API keeps working when a person's login
changes. Listed and revoked on the credentials page, tenant by tenant."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from accounts.models import ApiKey
from accounts.services import api_key_create, api_key_revoke
from core.models import AuditEvent
from core.stored_text import Message, store
from reporting.models import Filing

from .helpers import GOOD_Q2, history

pytestmark = pytest.mark.django_db


def _call(key: str, method: str, path: str, body=None):
    client = Client()
    kwargs = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    if method == "get":
        return client.get(path, **kwargs)
    return client.post(path, body or {}, content_type="application/json", **kwargs)


@pytest.fixture
def keys(users, chengdu_institution):
    approver = users["cd_approver"]
    make = lambda name, scopes: api_key_create(  # noqa: E731
        actor=approver, institution=chengdu_institution, name=name, scopes=scopes
    )[1]
    return {
        "filings": make("财务系统", ["filings"]),
        "indicators": make("风控看板", ["indicators"]),
        "guarantees": make("业务系统", ["guarantees"]),
    }


def test_a_key_files_and_submits_and_survives_the_persons_login_changing(keys, users, chengdu_institution):
    history(chengdu_institution, users)
    body = {"institution": chengdu_institution.credit_code, "period": "2025Q2", "values": GOOD_Q2}
    created = _call(keys["filings"], "post", "/api/v1/filings/", body)
    assert created.status_code == 201, created.content
    # the approver who made the key leaves: the key goes on working
    users["cd_approver"].set_password("Ganz-Neu-2026x")
    users["cd_approver"].is_active = False
    users["cd_approver"].save()
    fid = created.json()["id"]
    submitted = _call(keys["filings"], "post", f"/api/v1/filings/{fid}/submit/", {"explanations": {}})
    assert (submitted.status_code, submitted.json()["status"]) == (200, "submitted")
    assert Filing.objects.get(pk=fid).status == "submitted"
    assert ApiKey.objects.get(name="财务系统").last_used_at is not None


@pytest.mark.parametrize(
    ("scope", "method", "path", "allowed"),
    [
        ("filings", "get", "/api/v1/filings/", True),
        ("indicators", "get", "/api/v1/filings/", False),
        ("guarantees", "get", "/api/v1/filings/", False),
        ("indicators", "get", "/api/v1/institutions/{code}/indicators/", True),
        ("filings", "get", "/api/v1/institutions/{code}/indicators/", False),
        ("guarantees", "get", "/api/v1/institutions/{code}/indicators/", False),
        # a key reaches nothing outside its scopes: the registry, thresholds, the schema
        ("filings", "get", "/api/v1/institutions/", False),
        ("indicators", "get", "/api/v1/institutions/{code}/thresholds/", False),
        ("guarantees", "get", "/api/v1/notices/", False),
        ("guarantees", "get", "/api/v1/guarantees/batches/", True),
        ("filings", "get", "/api/v1/guarantees/batches/", False),
        ("filings", "get", "/api/schema/", False),
    ],
)
def test_scopes_are_enforced(keys, chengdu_institution, scope, method, path, allowed):
    response = _call(keys[scope], method, path.format(code=chengdu_institution.credit_code))
    assert (response.status_code == 200) is allowed, (response.status_code, response.content[:200])
    if not allowed:
        assert response.status_code == 403


def test_a_guarantees_key_sends_a_batch_of_its_own_institution(keys, chengdu_institution):
    from guarantees.models import ImportBatch

    sent = _call(keys["guarantees"], "post", "/api/v1/guarantees/batches/", {"guarantees": [], "events": []})
    assert sent.status_code == 202, sent.content
    assert ImportBatch.objects.get().institution == chengdu_institution
    refused = _call(keys["filings"], "post", "/api/v1/guarantees/batches/", {"guarantees": []})
    assert refused.status_code == 403


def test_a_key_reads_only_its_own_institution(keys, users, chengdu_institution, mianyang_institution):
    other = _call(
        keys["indicators"], "get", f"/api/v1/institutions/{mianyang_institution.credit_code}/indicators/"
    )
    assert other.status_code == 404


def test_a_revoked_key_is_refused(keys, users):
    key = ApiKey.objects.get(name="财务系统")
    api_key_revoke(actor=users["cd_approver"], key=key)
    refused = _call(keys["filings"], "get", "/api/v1/filings/")
    assert (refused.status_code, refused.json()["detail"]) == (
        401,
        "API 密钥无效或已吊销。",
    )
    assert _call("gpk_nonsense", "get", "/api/v1/filings/").status_code == 401


def test_only_the_companys_approver_creates_and_revokes(users, chengdu_institution, mianyang_institution):
    with pytest.raises(PermissionDenied):
        api_key_create(actor=users["cd_filer"], institution=chengdu_institution, name="x", scopes=["filings"])
    with pytest.raises(PermissionDenied):
        api_key_create(
            actor=users["cd_approver"], institution=mianyang_institution, name="x", scopes=["filings"]
        )
    with pytest.raises(PermissionDenied):
        api_key_create(
            actor=users["cd_regulator"], institution=chengdu_institution, name="x", scopes=["filings"]
        )
    key, _text = api_key_create(
        actor=users["cd_approver"], institution=chengdu_institution, name="x", scopes=["filings"]
    )
    with pytest.raises(PermissionDenied):
        api_key_revoke(actor=users["cd_filer"], key=key)
    assert AuditEvent.objects.filter(note=store(Message("创建 API 密钥"))).count() == 1


def test_the_credentials_page_creates_lists_and_revokes_keys(
    keys, users, client_for, mianyang_institution, django_assert_max_num_queries
):
    approver = client_for(users["cd_approver"])
    created = approver.post(
        "/accounts/credentials/",
        {"action": "create_key", "name": "报表直连", "scopes": ["filings", "indicators"]},
    )
    assert created.status_code == 200
    text = created.context["new_key"]
    assert text.startswith("gpk_") and text in created.content.decode()
    assert _call(text, "get", "/api/v1/filings/").status_code == 200
    with django_assert_max_num_queries(12):
        page = approver.get("/accounts/credentials/")
    assert [k.name for k in page.context["keys"]] == ["报表直连", "业务系统", "风控看板", "财务系统"]
    assert text not in page.content.decode()  # shown once only
    # another company's approver sees none of them and cannot revoke them
    my = client_for(users["my_filer"]).get("/accounts/credentials/")
    assert list(my.context["keys"]) == []
    assert my.context["may_create"] is False
    key = ApiKey.objects.get(name="报表直连")
    assert (
        client_for(users["my_filer"])
        .post("/accounts/credentials/", {"action": "revoke_key", "key": key.pk})
        .status_code
        == 404
    )
    # a filer of the same company sees the keys but may not revoke them
    filer = client_for(users["cd_filer"]).get("/accounts/credentials/")
    assert (len(filer.context["keys"]), filer.context["may_revoke_keys"]) == (4, False)
    assert (
        client_for(users["cd_filer"])
        .post("/accounts/credentials/", {"action": "revoke_key", "key": key.pk})
        .status_code
        == 403
    )
    # a regulator sees no company's keys
    assert list(client_for(users["cd_regulator"]).get("/accounts/credentials/").context["keys"]) == []
    revoked = approver.post("/accounts/credentials/", {"action": "revoke_key", "key": key.pk})
    assert revoked.status_code == 302
    assert _call(text, "get", "/api/v1/filings/").status_code == 401
