"""A client generated from /api/schema/ by openapi-python-client (as a company's developer would make
one) imports — every operation module — and files, submits and reads a quarterly report. The client
talks to the portal in-process through httpx's WSGI transport: no server, no network."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client

from tests.factories import TEST_PASSWORD

from .helpers import GOOD_Q2, history

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "portal_client"


@pytest.fixture
def generated_client(tmp_path, users):
    """The client package generated from the schema the portal serves, importable for the test."""
    browser = Client()
    browser.force_login(users["cd_filer"])
    schema = browser.get("/api/schema/?format=json")
    assert schema.status_code == 200
    (tmp_path / "schema.json").write_text(json.dumps(schema.json()), encoding="utf-8")
    (tmp_path / "config.json").write_text(
        json.dumps({"package_name_override": PACKAGE, "post_hooks": []}), encoding="utf-8"
    )
    subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(tmp_path / "schema.json"),
            "--config",
            str(tmp_path / "config.json"),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / PACKAGE),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    sys.path.insert(0, str(tmp_path))
    # the WSGI handler would close the test's connection (and its transaction) after each request
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        cache.clear()  # the login throttle's counts: later tests log in too
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_generated_client_files_submits_and_reads_a_report(generated_client, users, chengdu_institution):
    package = generated_client
    operations = importlib.import_module(f"{PACKAGE}.api.v1")
    modules = [m.name for m in pkgutil.iter_modules(operations.__path__)]
    for name in modules:  # every operation module imports (one request content type per operation)
        importlib.import_module(f"{PACKAGE}.api.v1.{name}")
    assert len(modules) >= 30

    api = importlib.import_module(f"{PACKAGE}.api.v1")
    models = importlib.import_module(f"{PACKAGE}.models")
    transport = httpx.WSGITransport(app=get_wsgi_application())
    anonymous = package.Client(base_url="http://testserver", httpx_args={"transport": transport})

    def signed_in(username):
        token = importlib.import_module(f"{api.__name__}.v1_auth_token_create").sync(
            client=anonymous, body=models.TokenRequest(username=username, password=TEST_PASSWORD)
        )
        assert isinstance(token, models.TokenResponse), token
        return package.AuthenticatedClient(
            base_url="http://testserver",
            token=token.token,
            prefix="Token",
            httpx_args={"transport": transport},
        )

    history(chengdu_institution, users)
    filer, approver = signed_in("t_cd_filer"), signed_in("t_cd_appr")
    create = importlib.import_module(f"{api.__name__}.v1_filings_create")
    body = models.FilingWrite(
        institution=chengdu_institution.credit_code,
        period="2025Q2",
        values=models.FilingWriteValues.from_dict(GOOD_Q2),
    )
    created = create.sync_detailed(client=filer, body=body)
    assert created.status_code == 201
    assert isinstance(created.parsed, models.FilingResult)
    assert (created.parsed.status.value, created.parsed.findings) == ("draft", [])

    dry = importlib.import_module(f"{api.__name__}.v1_filings_check_create").sync(
        client=filer,
        body=models.Check(
            institution=chengdu_institution.credit_code,
            period="2025Q2",
            values=models.CheckValues.from_dict(GOOD_Q2),
        ),
    )
    assert isinstance(dry, models.CheckResult) and dry.submittable and dry.findings == []

    refused = importlib.import_module(f"{api.__name__}.v1_filings_submit_create").sync_detailed(
        id=created.parsed.id, client=filer, body=models.Submit()
    )
    assert refused.status_code == 403 and isinstance(refused.parsed, models.Error)
    submitted = importlib.import_module(f"{api.__name__}.v1_filings_submit_create").sync(
        id=created.parsed.id, client=approver, body=models.Submit()
    )
    assert isinstance(submitted, models.FilingResult), submitted
    assert submitted.status.value == "submitted" and len(submitted.values_hash) == 64
    again = importlib.import_module(f"{api.__name__}.v1_filings_submit_create").sync_detailed(
        id=created.parsed.id, client=approver, body=models.Submit()
    )
    assert again.status_code == 409 and isinstance(again.parsed, models.FilingError)
    assert again.parsed.code.value == "conflict"

    read = importlib.import_module(f"{api.__name__}.v1_filings_retrieve").sync(
        id=created.parsed.id, client=filer
    )
    assert isinstance(read, models.FilingDetail)
    assert (read.period, read.version, read.values["net_assets"]) == ("2025Q2", 1, "35000.00")
    page = importlib.import_module(f"{api.__name__}.v1_filings_list").sync(client=filer, period="2025Q2")
    assert isinstance(page, models.PaginatedFilingList)
    assert (page.count, [f.id for f in page.results]) == (1, [created.parsed.id])
