"""With the broker unreachable, submitting and accepting filings (web and API) answer normally: the
transition is committed and its indicator job recorded, queued. Once the broker is back the relay sends
the jobs and every filing is computed once per submission or acceptance (compute_count tells)."""

import datetime as dt
import subprocess
import time
from collections.abc import Callable

import pytest
from django.db import connection
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings
from rest_framework.test import APIClient

from accounts.models import User
from core.jobs import jobs_relay
from core.models import Job
from institutions.models import Institution
from reporting import services
from reporting.models import Filing
from reporting.periods import Period
from supervision.models import IndicatorRun
from tests.factories import UserFactory
from tests.processes import REDIS_SERVER, OwnRedis, database_url, free_port, worker_running

from .helpers import GOOD_Q1, GOOD_Q2, PRIOR_Q4, file_and_submit, history


@pytest.fixture
def my_approver(mianyang_institution: Institution) -> User:
    return UserFactory(username="t_my_appr", role="approver", institution=mianyang_institution)


def prepare(users: dict[str, User], chengdu: Institution, mianyang: Institution, my_approver: User) -> Filing:
    """Two quarters submitted by each institution (broker up) and Mianyang's 2025Q2 draft."""
    history(chengdu, users)
    file_and_submit(
        mianyang, "2024Q4", PRIOR_Q4, maker=users["my_filer"], checker=my_approver, explanations={}
    )
    file_and_submit(mianyang, "2025Q1", GOOD_Q1, maker=users["my_filer"], checker=my_approver)
    draft, _version, _findings = services.filing_save_draft(
        actor=users["my_filer"], institution=mianyang, period=Period.parse("2025Q2"), values=GOOD_Q2
    )
    return draft


def transitions(
    users: dict[str, User], client_for: Callable, chengdu: Institution, my_approver: User, draft: Filing
) -> None:
    """Mianyang's draft submitted on the web; Chengdu's 2025Q2 created and submitted through the API;
    Chengdu's 2025Q1 accepted on the web. Each answers as it does with the broker up."""
    r = client_for(my_approver).post(f"/reporting/filings/{draft.pk}/submit/")
    assert (r.status_code, r.url) == (302, f"/reporting/filings/{draft.pk}/receipt/")
    api = APIClient()
    api.force_authenticate(users["cd_filer"])
    r = api.post(
        "/api/v1/filings/",
        {"institution": chengdu.credit_code, "period": "2025Q2", "values": GOOD_Q2},
        format="json",
    )
    assert r.status_code == 201
    api.force_authenticate(users["cd_approver"])
    r = api.post(f"/api/v1/filings/{r.json()['id']}/submit/", {"explanations": {}}, format="json")
    assert (r.status_code, r.json()["status"]) == (200, "submitted")
    q1 = Filing.objects.get(institution=chengdu, year=2025, quarter=1)
    r = client_for(users["cd_regulator"]).post(f"/reporting/review/{q1.pk}/", {"action": "accept"})
    assert (r.status_code, r.url) == (302, "/reporting/review/")
    assert sorted(Filing.objects.values_list("institution__name", "year", "quarter", "status")) == [
        ("成都测试融资担保有限公司", 2024, 4, "submitted"),
        ("成都测试融资担保有限公司", 2025, 1, "accepted"),
        ("成都测试融资担保有限公司", 2025, 2, "submitted"),
        ("绵阳测试融资担保有限公司", 2024, 4, "submitted"),
        ("绵阳测试融资担保有限公司", 2025, 1, "submitted"),
        ("绵阳测试融资担保有限公司", 2025, 2, "submitted"),
    ]


def compute_counts() -> list[tuple[str, int, int, int]]:
    """(institution, year, quarter, computations) of every computed filing."""
    return sorted(IndicatorRun.objects.values_list("institution__name", "year", "quarter", "compute_count"))


ONCE_PER_SUBMISSION_OR_ACCEPTANCE = [
    ("成都测试融资担保有限公司", 2024, 4, 1),
    ("成都测试融资担保有限公司", 2025, 1, 2),  # submitted, then accepted
    ("成都测试融资担保有限公司", 2025, 2, 1),
    ("绵阳测试融资担保有限公司", 2024, 4, 1),
    ("绵阳测试融资担保有限公司", 2025, 1, 1),
    ("绵阳测试融资担保有限公司", 2025, 2, 1),
]


@pytest.mark.django_db
def test_transitions_answer_normally_without_a_broker_and_the_relay_sends_their_jobs_later(
    users: dict[str, User],
    chengdu_institution: Institution,
    mianyang_institution: Institution,
    my_approver: User,
    client_for: Callable,
    broker_at: Callable,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    """The after-commit sends run where a committed request runs them (SQLite refuses the flush of a
    committing test: audit rows are append-only)."""
    with django_capture_on_commit_callbacks(execute=True):
        draft = prepare(users, chengdu_institution, mianyang_institution, my_approver)
    last_before = Job.objects.order_by("pk").last().pk
    port = free_port()
    broker_at(f"redis://127.0.0.1:{port}/0")  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True) as sends:
        transitions(users, client_for, chengdu_institution, my_approver, draft)
    assert len(sends) == 3
    jobs = Job.objects.filter(pk__gt=last_before).order_by("pk")
    error = f"OperationalError: Error 111 connecting to 127.0.0.1:{port}. Connection refused."
    assert [(j.kind, j.status, j.send_attempts, j.send_error) for j in jobs] == [
        ("indicators.recompute", "queued", 1, error)
    ] * 3
    broker_at(None)  # the broker is back (tasks run in-process)
    with django_capture_on_commit_callbacks(execute=True):
        result = jobs_relay(now=timezone.now() + dt.timedelta(seconds=60))
    assert result == {"sent": 3, "not_sent": 0, "failed": 0, "waiting": 0}
    assert [j.status for j in Job.objects.filter(pk__gt=last_before, parent=None)] == ["done"] * 3
    assert compute_counts() == ONCE_PER_SUBMISSION_OR_ACCEPTANCE


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    REDIS_SERVER is None or connection.vendor != "postgresql",
    reason="needs redis-server and DATABASE_URL on PostgreSQL",
)
def test_a_redis_stopped_mid_run_loses_no_job_and_a_real_worker_computes_each_once(
    users: dict[str, User],
    chengdu_institution: Institution,
    mianyang_institution: Institution,
    my_approver: User,
    client_for: Callable,
    broker_at: Callable,
    own_redis: OwnRedis,
    settings: Settings,
) -> None:
    settings.JOB_RELAY_AFTER = 1  # the relay below runs like beat, many times faster
    broker_at(own_redis.url)
    with worker_running(database=database_url(connection.settings_dict), redis=own_redis.url) as worker:
        draft = prepare(users, chengdu_institution, mianyang_institution, my_approver)
        _wait_until_all_jobs_finish(worker, relay=False)
        last_before = Job.objects.order_by("pk").last().pk
        own_redis.stop()
        transitions(users, client_for, chengdu_institution, my_approver, draft)
        outage_jobs = Job.objects.filter(pk__gt=last_before, parent=None).order_by("pk")
        assert [
            (j.status, j.send_attempts, j.send_error.startswith("OperationalError: ")) for j in outage_jobs
        ] == [("queued", 1, True)] * 3
        own_redis.start()  # empty: it kept nothing
        _wait_until_all_jobs_finish(worker, relay=True)
    assert [(j.status, j.send_attempts >= 2) for j in outage_jobs.all()] == [("done", True)] * 3
    assert compute_counts() == ONCE_PER_SUBMISSION_OR_ACCEPTANCE


def _wait_until_all_jobs_finish(worker: subprocess.Popen, *, relay: bool) -> None:
    deadline = time.monotonic() + 120
    while Job.objects.exclude(status__in=["done", "failed"]).exists() and time.monotonic() < deadline:
        assert worker.poll() is None, "worker exited early"
        if relay:
            jobs_relay()
        time.sleep(0.5)
    assert list(Job.objects.exclude(status="done").values_list("pk", "kind", "status", "message")) == []
