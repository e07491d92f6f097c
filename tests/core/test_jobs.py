"""Jobs as an outbox (core/jobs.py): recorded in the caller's transaction, sent after commit without
ever raising a broker failure into the caller, sent again by the relay while queued, and claimed in
the transaction of their effect so that two deliveries have one effect."""

import datetime as dt
import logging
import threading
from collections.abc import Callable

import pytest
from celery import shared_task
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from kombu.exceptions import OperationalError
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings

from core.jobs import job_enqueue, job_running, job_send, job_task, jobs_relay, relay_wait
from core.models import Job
from core.stored_text import show
from tests.processes import OwnRedis, free_port

pytestmark = pytest.mark.django_db


@shared_task(name="tests.core.record_effect", acks_late=True, reject_on_worker_lost=True)
def record_effect(job_id: int) -> None:
    """The effect of a job: one row of kind "effect" (and an error after it when params say so)."""
    with job_running(job_id) as job:
        if job is None:
            return
        Job.objects.create(kind="effect", params={"of": job_id})
        if job.params.get("fail"):
            raise ValueError("boom")
        job.message = "recorded"


def effects() -> list[int]:
    return [p["of"] for p in Job.objects.filter(kind="effect").values_list("params", flat=True)]


def queued_job(**fields: object) -> Job:
    """A job recorded while its send after commit never happened (the process died in between)."""
    return Job.objects.create(kind="test", task=record_effect.name, **fields)


def test_a_job_is_recorded_in_the_transaction_and_sent_after_commit(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    before = timezone.now()
    with django_capture_on_commit_callbacks() as callbacks:
        job = job_enqueue(kind="test", task=record_effect, params={"n": 1})
    after = timezone.now()
    job.refresh_from_db()
    assert (job.status, job.task, job.send_attempts, job.send_error, effects()) == (
        "queued",
        "tests.core.record_effect",
        0,
        "",
        [],
    )
    assert before + dt.timedelta(seconds=60) <= job.next_send_at <= after + dt.timedelta(seconds=60)
    assert len(callbacks) == 1
    callbacks[0]()
    job.refresh_from_db()
    assert (job.status, job.message, job.send_attempts, effects()) == ("done", "recorded", 1, [job.pk])


def test_a_broker_that_cannot_be_reached_leaves_the_job_queued_and_raises_nothing(
    broker_at: Callable,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    broker_at(f"redis://127.0.0.1:{port}/0")
    before = timezone.now()
    with (
        caplog.at_level(logging.WARNING, logger="core.jobs"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = job_enqueue(kind="test", task=record_effect)
    after = timezone.now()
    job.refresh_from_db()
    error = f"OperationalError: Error 111 connecting to 127.0.0.1:{port}. Connection refused."
    assert (job.status, job.send_attempts, job.send_error, effects()) == ("queued", 1, error, [])
    assert before + dt.timedelta(seconds=60) <= job.next_send_at <= after + dt.timedelta(seconds=60)
    assert [r.getMessage() for r in caplog.records] == [
        f"job {job.pk} (tests.core.record_effect) not sent, the relay will send it again: {error}"
    ]


def test_a_send_to_a_hung_broker_gives_up_instead_of_blocking(
    own_redis: OwnRedis, broker_at: Callable
) -> None:
    broker_at(own_redis.url)
    record_effect.apply_async(args=[0])  # a connection in the pool
    own_redis.pause()
    raised = []
    sender = threading.Thread(target=lambda: _send_catching(raised), daemon=True)
    sender.start()
    sender.join(timeout=60)  # guards against a hang only: the send gives up after about 2 s
    own_redis.resume()
    assert not sender.is_alive(), "the send blocked"
    assert [(type(e), str(e)) for e in raised] == [(OperationalError, "Timeout reading from socket")]


def _send_catching(raised: list) -> None:
    try:
        record_effect.apply_async(args=[0])
    except Exception as exc:
        raised.append(exc)


def test_the_relay_sends_a_job_left_queued_when_its_time_has_come() -> None:
    job = queued_job(next_send_at=timezone.now())
    assert jobs_relay(now=job.next_send_at - dt.timedelta(microseconds=1)) == {
        "sent": 0,
        "not_sent": 0,
        "failed": 0,
        "waiting": 0,
    }
    assert effects() == []
    assert jobs_relay(now=job.next_send_at) == {"sent": 1, "not_sent": 0, "failed": 0, "waiting": 0}
    job.refresh_from_db()
    assert (job.status, job.send_attempts, effects()) == ("done", 1, [job.pk])


def test_the_relay_sends_only_queued_jobs() -> None:
    now = timezone.now()
    jobs = [queued_job(status=status, next_send_at=now) for status in ("queued", "running", "done", "failed")]
    assert jobs_relay(now=now) == {"sent": 1, "not_sent": 0, "failed": 0, "waiting": 0}
    assert effects() == [jobs[0].pk]


def test_the_wait_before_sending_again_doubles_up_to_32_times(settings: Settings) -> None:
    settings.JOB_RELAY_AFTER = 60
    assert [relay_wait(n).total_seconds() for n in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 1920, 1920]


def test_the_relay_fails_a_job_sent_too_often_and_its_parent(settings: Settings) -> None:
    settings.JOB_SEND_MAX_ATTEMPTS = 3
    now = timezone.now()
    parent = Job.objects.create(kind="test", status="running", total=2)
    spent = queued_job(parent=parent, send_attempts=3, next_send_at=now)
    other = queued_job(send_attempts=2, next_send_at=now)
    assert jobs_relay(now=now) == {"sent": 1, "not_sent": 0, "failed": 1, "waiting": 0}
    spent.refresh_from_db()
    parent.refresh_from_db()
    message = "已发送 3 次仍未完成"
    assert (spent.status, show(spent.message), parent.status, show(parent.message)) == (
        "failed",
        message,
        "failed",
        message,
    )
    assert effects() == [other.pk]


def test_the_relay_sends_nothing_and_counts_no_attempt_while_the_broker_is_unreachable(
    broker_at: Callable,
) -> None:
    now = timezone.now()
    job = queued_job(send_attempts=1, send_error="earlier", next_send_at=now)
    broker_at(f"redis://127.0.0.1:{free_port()}/0")
    assert jobs_relay(now=now) == {"sent": 0, "not_sent": 0, "failed": 0, "waiting": 1}
    job.refresh_from_db()
    assert (job.status, job.send_attempts, job.send_error, job.next_send_at) == ("queued", 1, "earlier", now)


def test_the_relay_runs_once_by_hand() -> None:
    job = queued_job(next_send_at=timezone.now())
    call_command("jobs_relay", stdout=(out := _Out()))
    assert out.text == "sent=1 not_sent=0 failed=0 waiting=0\n"
    assert effects() == [job.pk]


class _Out:
    text = ""

    def write(self, s: str) -> None:
        self.text += s

    def flush(self) -> None:
        pass


def test_beat_runs_the_relay_every_minute() -> None:
    task = PeriodicTask.objects.get(name="core: job relay")
    assert (task.task, task.interval.every, task.interval.period, task.expire_seconds, task.enabled) == (
        "core.jobs_relay",
        1,
        "minutes",
        60,
        True,
    )
    assert job_task("core.jobs_relay").name == "core.jobs_relay"


def test_a_job_delivered_twice_has_its_effect_once() -> None:
    job = queued_job()
    record_effect(job.pk)
    record_effect(job.pk)
    job.refresh_from_db()
    assert (job.status, job.message, effects()) == ("done", "recorded", [job.pk])


def test_an_error_rolls_the_effect_back_with_the_claim_and_fails_the_job() -> None:
    job = queued_job(params={"fail": True})
    with pytest.raises(ValueError, match="boom"):
        record_effect(job.pk)
    job.refresh_from_db()
    assert (job.status, job.message, effects()) == ("failed", "boom", [])
    job_send(job)  # a late copy of the message does nothing
    assert effects() == []
