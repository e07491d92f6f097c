"""The API's schema and its Redoc page are for signed-in users, and Redoc comes from the portal's own static
files (a CDN script is blocked by the portal's CSP, so the page used to stay blank)."""

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def test_anonymous_is_refused():
    assert Client().get("/api/schema/").status_code == 401
    docs = Client().get("/api/docs/")
    assert (docs.status_code, docs["Location"]) == (302, "/accounts/login/?next=/api/docs/")


def test_signed_in_user_reads_docs_served_from_static(client_for, users):
    client = client_for(users["cd_filer"])
    page = client.get("/api/docs/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<script src="/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"' in html
    assert "cdn" not in html.lower()
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
    assert client.get("/api/schema/").status_code == 200
