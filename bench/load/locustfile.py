"""The load scenario (bench/load/run.py starts everything and runs this headless).

Per regulator, three company users. A company user (the approver of its own institution) opens the
quarterly form, checks it live, saves a draft and submits, and opens the filing's page; while the filing
waits for the regulator the page polls whether it changed, as its browser does (every think time here,
every 15 s in a browser), and is reloaded when it did; when the filing was accepted the company amends
it, when returned it files again. A regulator opens the review queue (the filings no colleague is
reviewing), a filing's review page, accepts or returns it (two to one), and looks at the indicator
dashboard. Think time 2–6 s.

The measurement starts when the last user has signed in (a sign-in costs a memory-hard password hash, and
under load the last ones finish well after locust has started every user) and lasts LOAD_STEADY_SECONDS."""

from __future__ import annotations

import itertools
import os
import random
import re
import sys
from pathlib import Path

import gevent
from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))
from bench.load.setup_data import LOAD_PASSWORD  # noqa: E402
from tests.reporting.sample import GOOD_Q2  # noqa: E402

PERIOD = "2026Q3"
_company_ids = itertools.count()
_regulator_ids = itertools.count()
# transitions the portal confirmed (each must match one audit event)
TRANSITIONS = {"submit": 0, "accept": 0, "return": 0, "amend": 0}
FILING_ID = re.compile(r"/reporting/filings/(\d+)/")
REVIEW_ID = re.compile(r"/reporting/review/(\d+)/")
POLL = re.compile(r'hx-get="(/reporting/filings/\d+/changed/\?since=[^"]+)"')
STEADY_SECONDS = float(os.environ.get("LOAD_STEADY_SECONDS", "180"))
_signed_in = itertools.count(1)


def _signed_in_one(environment) -> None:
    """Counts sign-ins; after the last one, resets the statistics and ends the run STEADY_SECONDS later."""
    if next(_signed_in) == environment.parsed_options.num_users:
        environment.stats.reset_all()
        print("STEADY all users signed in; measuring", flush=True)
        gevent.spawn_later(STEADY_SECONDS, environment.runner.quit)


# FastHttpUser: the load generator shares the machine's two cores with the portal, and its client costs
# a fraction of the CPU of the requests-based HttpUser.
class PortalUser(FastHttpUser):
    abstract = True
    wait_time = between(2, 6)
    username = ""

    def csrf(self) -> str:
        return next((c.value for c in self.client.cookiejar if c.name == "csrftoken"), "")

    def post(self, url: str, data: dict, name: str, **kwargs):
        return self.client.post(
            url, data={**data, "csrfmiddlewaretoken": self.csrf()}, name=name, allow_redirects=False, **kwargs
        )

    def on_start(self) -> None:
        self.client.get("/accounts/login/", name="login page")
        r = self.post("/accounts/login/", {"username": self.username, "password": LOAD_PASSWORD}, "login")
        if r.status_code != 302:
            raise RuntimeError(f"{self.username}: login answered {r.status_code}")
        _signed_in_one(self.environment)


class CompanyUser(PortalUser):
    weight = 3

    def on_start(self) -> None:
        self.username = f"load_co{next(_company_ids):03d}"
        super().on_start()

    filing_url = ""  # the filing's page while the filing waits for the regulator
    poll_url = ""  # what that page polls to know it changed

    @task
    def file_the_quarter(self) -> None:
        if self.filing_url:  # waiting: the page polls until the regulator decided, then reloads
            if self.poll_url:
                changed = self.client.get(self.poll_url, name="company: filing page poll")
                if changed.status_code == 204:
                    return
            if not self.act_on(self.open_filing_page()):
                return
        form = self.client.get(f"/reporting/file/{PERIOD}/", name="company: open form", allow_redirects=False)
        if form.status_code == 302:  # submitted or accepted: the filing's page
            self.filing_url = form.headers["Location"]
            self.act_on(self.open_filing_page())
            return
        self.wait()
        values = {**GOOD_Q2, "net_profit": str(random.randint(200, 400))}
        self.post(
            f"/reporting/file/{PERIOD}/check/", values, "company: live check", headers={"HX-Request": "true"}
        )
        self.wait()
        saved = self.post(f"/reporting/file/{PERIOD}/", values, "company: save draft")
        match = FILING_ID.search(saved.headers.get("Location", ""))
        if not match:
            return
        self.wait()
        submitted = self.post(f"/reporting/filings/{match.group(1)}/submit/", {}, "company: submit")
        if submitted.status_code == 302 and "/receipt/" in submitted.headers.get("Location", ""):
            TRANSITIONS["submit"] += 1
            self.filing_url = f"/reporting/filings/{match.group(1)}/"
            self.wait()
            self.open_filing_page()

    def open_filing_page(self) -> str:
        page = self.client.get(self.filing_url, name="company: filing page").text
        found = POLL.search(page)
        self.poll_url = found.group(1).replace("&amp;", "&") if found else ""
        return page

    def act_on(self, page: str) -> bool:
        """The company's turn on its filing's page: amend an accepted filing, or go back to the form of a
        returned one (True: the form is next). False while the regulator has not decided."""
        match = FILING_ID.search(self.filing_url)
        if match and f"/reporting/filings/{match.group(1)}/amend/" in page:
            self.wait()
            r = self.post(
                f"/reporting/filings/{match.group(1)}/amend/", {"reason": "更正压测数据"}, "company: amend"
            )
            if r.status_code == 302 and "/reporting/file/" in r.headers.get("Location", ""):
                TRANSITIONS["amend"] += 1
            self.filing_url = ""
            return False
        if f'href="/reporting/file/{PERIOD}/"' in page:  # returned: the page offers 修改
            self.filing_url = ""
            return True
        return False


class RegulatorUser(PortalUser):
    weight = 1

    def on_start(self) -> None:
        self.username = f"load_reg{next(_regulator_ids):03d}"
        super().on_start()

    @task
    def review(self) -> None:
        # the filings nobody is reviewing: one claimed by a colleague shows no accept button
        queue = self.client.get("/reporting/review/?claim=free", name="regulator: queue")
        ids = REVIEW_ID.findall(queue.text)
        self.wait()
        if ids:
            pk = random.choice(ids)
            page = self.client.get(f"/reporting/review/{pk}/", name="regulator: review page")
            self.wait()
            if 'value="accept"' in page.text:
                action = "accept" if random.random() < 2 / 3 else "return"
                data = {"action": action, "note": "压测"}
                if action == "return":
                    data["cmt_net_profit"] = "请核对净利润"
                r = self.post(f"/reporting/review/{pk}/", data, f"regulator: {action}")
                if r.status_code == 302 and r.headers.get("Location", "").endswith("/reporting/review/"):
                    # the queue follows either way: a lost race answers with the review page again
                    follow = self.client.get(r.headers["Location"], name="regulator: queue")
                    if "已受理" in follow.text or "已退回" in follow.text:
                        TRANSITIONS[action] += 1
            self.wait()
        self.client.get("/supervision/indicators/", name="regulator: dashboard")


@events.quitting.add_listener
def _report(environment, **kwargs) -> None:
    print("TRANSITIONS " + " ".join(f"{k}={v}" for k, v in TRANSITIONS.items()))
