"""Browser tests: Playwright (Python) drives Debian's chromium against pytest-django's live server.

They run once per CI run, on the PostgreSQL pass (`.ci/run` sets BROWSER_TESTS=1 for `-m browser`);
anywhere else they are skipped. Every page a test visits is checked with axe-core (vendored in
assets/, from the npm registry): no critical or serious violation. Screenshots and the axe results
(var/screenshots/axe.jsonl) are kept as artifacts.

    BROWSER_TESTS=1 DATABASE_URL=postgres://… make test PYTEST_ARGS="-m browser tests/browser"

AXE_REPORT_ONLY=1 records the violations without failing (to measure before fixing)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

ASSETS = Path(__file__).parent / "assets"
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "Browser@2026"


def pytest_collection_modifyitems(items):
    """Every test here is a browser test; without BROWSER_TESTS it is skipped before any setup."""
    skip = pytest.mark.skip(reason="browser tests run once per CI run: set BROWSER_TESTS=1 (on PostgreSQL)")
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if not os.environ.get("BROWSER_TESTS"):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[browser]'")
    if not shutil.which(CHROMIUM):
        pytest.skip(f"needs {CHROMIUM} (apt-get install chromium fonts-noto-cjk)")
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are synchronous.
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield launched
        launched.close()
    if saved is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


class Visitor:
    """One person in the browser: signs in through the login form, visits pages, and on every page runs
    axe-core and saves a screenshot named `<test>-<nn>-<step>.png`."""

    counter: dict[str, int] = {}

    def __init__(self, browser, base_url: str, test_name: str, username: str | None, width: int = 1280):
        self.context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
        self.page = self.context.new_page()
        self.base, self.test, self.username = base_url, test_name, username or "public"
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        if username:
            self.page.goto(f"{self.base}/accounts/login/")
            self.page.fill("#id_username", username)
            self.page.fill("#id_password", PASSWORD)
            with self.page.expect_navigation():
                self.page.press("#id_password", "Enter")

    def go(self, path: str, step: str, full_page: bool = True):
        self.page.goto(f"{self.base}{path}")
        return self.check(step, full_page)

    def click(self, selector: str, step: str):
        with self.page.expect_navigation():
            self.page.click(selector)
        return self.check(step)

    def check(self, step: str, full_page: bool = True):
        """axe-core on the page as it is (0 critical or serious violations) and a screenshot."""
        page = self.page
        page.wait_for_load_state("load")
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate((ASSETS / "axe.min.js").read_text())  # DevTools evaluation: the CSP allows it
        result = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,"
            " targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
        )
        n = Visitor.counter[self.test] = Visitor.counter.get(self.test, 0) + 1
        name = re.sub(r"[^A-Za-z0-9_]+", "_", f"{self.test}-{n:02d}-{self.username}-{step}")
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
        path = page.url.removeprefix(self.base)
        with (ARTIFACTS / "axe.jsonl").open("a", encoding="utf-8") as out:
            out.write(
                json.dumps({"shot": name, "path": path, "violations": result}, ensure_ascii=False) + "\n"
            )
        bad = [v for v in result if v["impact"] in ("critical", "serious")]
        if not os.environ.get("AXE_REPORT_ONLY"):
            assert bad == [], f"axe on {path}: {bad}"
        assert self.errors == [], f"JavaScript errors on {path}: {self.errors}"
        return page

    def text(self, selector: str = "main") -> str:
        return self.page.inner_text(selector)

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, live_server, request):
    """visit(username, width=1280) → a signed-in Visitor (None: the anonymous public)."""
    opened = []

    def make(username: str | None, width: int = 1280) -> Visitor:
        v = Visitor(browser, live_server.url, request.node.name, username, width)
        opened.append(v)
        return v

    yield make
    for v in opened:
        v.close()
