"""schemathesis against the whole API schema (issue 14): every operation, bounded examples, through the
WSGI app in-process. Checks: no server error, and every response conforms to the schema (status code,
content type, body). Runs once per CI run — in the PostgreSQL pass, where text with NUL characters,
huge numbers and odd dates reach a real database — and prints operations, examples and failures."""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from django.conf import settings as settings_
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="runs once per CI run, in the PostgreSQL pass"
)
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))  # per operation (bounded: CI ≤ 5 minutes)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def token(users, chengdu_institution) -> str:
    """A regulator's token (the widest reach: reads and most writes of a province), by the API's login."""
    response = Client().post(
        "/api/v1/auth/token/",
        {"username": "t_sc_reg", "password": TEST_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


@pytest.fixture
def api_schema(token):
    # the WSGI handler would close the test's connection (and its transaction) after each request
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi(
            "/api/schema/?format=json",
            get_wsgi_application(),
            headers={"Authorization": f"Token {token}"},
        )
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        cache.clear()  # the login throttle's counts: later tests log in too


def test_api_conforms_to_its_schema(api_schema, token, record_property):
    """Each operation with positive and negative examples (data that fits the schema and data that does
    not: the latter must be refused with a documented 4xx, never a 500)."""
    failures, unsatisfiable, counts = [], [], Counter()
    operations = [result.ok() for result in api_schema.get_all_operations()]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _run(operation, mode, token, counts)
            except Unsatisfiable:  # no invalid input can be made for it: nothing to test
                unsatisfiable.append(f"{operation.label} [{mode}]")
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 — all operations run, all failures told
                failures.append(f"{operation.label} [{mode}]: {str(exc)[:3000]}")
    summary = (
        f"schemathesis: {len(operations)} operations, {sum(counts.values())} examples, "
        f"{len(failures)} failures (no negative examples possible: {', '.join(unsatisfiable) or 'none'})"
    )
    print("\n" + summary)
    record_property("schemathesis", summary)  # in CI's junit report
    (settings_.BASE_DIR / "var").mkdir(exist_ok=True)
    (settings_.BASE_DIR / "var" / "schemathesis.txt").write_text(summary + "\n", encoding="utf-8")
    assert failures == [], "\n\n".join(failures)


def _run(operation, mode: GenerationMode, token: str, counts: Counter) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        counts[operation.label] += 1
        case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)

    run()
