"""Any screen, anyone: the page title keeps its separator, the home page date follows the language, the
favicon is served, every select has a name, no table header is empty, and phones get a menu button."""

import re
from pathlib import Path

import pytest
from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def regulator(users, client_for):
    return client_for(users["cd_regulator"])


def test_page_title_has_its_separator(regulator):
    body = regulator.get("/inbox/").content.decode()
    assert re.search(r"<title>待办 · 担保监管服务平台</title>", body)


def test_home_page_date_in_the_reader_language(regulator):
    today = timezone.localdate()
    assert f"{today.year}年{today.month}月{today.day}日" in regulator.get("/").content.decode()
    regulator.cookies["django_language"] = "en"
    english = regulator.get("/").content.decode()
    assert today.strftime("%b") in english and f"{today.year}年" not in english  # "Dec. 2, 2026"


def test_favicon(client):
    assert client.get("/favicon.ico")["Location"] == "/static/favicon.svg"
    assert (ROOT / "static" / "favicon.svg").read_text().startswith("<svg")


def test_menu_button_for_phones(regulator):
    body = regulator.get("/").content.decode()
    assert 'data-bs-toggle="offcanvas" data-bs-target="#portal-nav"' in body
    assert 'class="portal-nav offcanvas-md offcanvas-start' in body


def test_no_unnamed_select_and_no_empty_table_header():
    unnamed, empty = [], []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for select in re.findall(r"<select[^>]*>", text):
            if "aria-label" not in select and "id=" not in select:
                unnamed.append(f"{path.name}: {select}")
        empty += [f"{path.name}" for _ in re.findall(r"<th(?: [^>]*)?></th>", text)]
    assert unnamed == [] and empty == []


def test_institution_list_filters_have_labels(regulator):
    body = regulator.get("/institutions/").content.decode()
    for name in ("q", "region", "level", "ownership", "gov", "licence", "status"):
        assert f'for="flt-{name}"' in body and f'id="flt-{name}" name="{name}"' in body


def test_section_titles_follow_the_language(users, client_for):
    c = client_for(users["cd_filer"])
    assert "A 资产负债" in c.get("/reporting/file/2025Q2/").content.decode()
    c.cookies["django_language"] = "en"
    english = c.get("/reporting/file/2025Q2/").content.decode()
    assert "A Balance sheet" in english and "A 资产负债" not in english


def test_institution_page_tabs_are_links_not_a_tablist(users, client_for, chengdu_institution):
    body = client_for(users["cd_regulator"]).get(f"/institutions/{chengdu_institution.pk}/").content.decode()
    assert 'role="tablist"' not in body and 'class="nav-link active" aria-current="page"' in body
