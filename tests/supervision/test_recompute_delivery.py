"""A recompute job and its parts delivered twice (the relay and the original message, or a redelivery
after a worker died) compute each filing once: each task claims its job in the transaction of its
effect."""

import pytest
from pytest_django import DjangoCaptureOnCommitCallbacks

from core.models import Job
from reporting.models import Filing
from supervision import tasks
from supervision.models import IndicatorRun
from supervision.services.compute import indicators_recompute_enqueue
from tests.factories import InstitutionFactory

from .factories import make_filing

pytestmark = pytest.mark.django_db


@pytest.fixture
def filings() -> list[Filing]:
    """Two quarters of three institutions (two of them in the first part when parts hold two)."""
    institutions = [InstitutionFactory(region_id=region) for region in ("510104", "510703", "330302")]
    return [make_filing(institution, 2025, q) for institution in institutions for q in (1, 2)]


def compute_counts() -> dict[int, int]:
    return dict(IndicatorRun.objects.values_list("filing_id", "compute_count"))


def test_every_task_delivered_twice_computes_each_filing_once(
    filings: list[Filing],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    monkeypatch.setattr(tasks, "CHUNK_INSTITUTIONS", 2)
    with django_capture_on_commit_callbacks():  # the sends are left to this test
        job = indicators_recompute_enqueue(filing_ids=[f.pk for f in filings], reason="test")
        tasks.recompute_job(job.pk)
        tasks.recompute_job(job.pk)
    parts = list(job.parts.order_by("pk"))
    assert [(p.kind, p.status, len(p.params["institutions"])) for p in parts] == [
        ("indicators.recompute.part", "queued", 2),
        ("indicators.recompute.part", "queued", 1),
    ]
    for part in parts + parts:
        tasks.recompute_chunk(part.pk)
    job.refresh_from_db()
    assert (job.status, job.total, job.done_count) == ("done", 3, 3)
    assert [Job.objects.get(pk=p.pk).status for p in parts] == ["done", "done"]
    assert compute_counts() == {f.pk: 1 for f in filings}


def test_a_part_that_fails_leaves_no_result_and_fails_the_job(
    filings: list[Filing],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    def compute_then_fail(**kwargs) -> None:
        real(**kwargs)
        raise RuntimeError("database said no")

    real = tasks.indicators_compute_batch
    monkeypatch.setattr(tasks, "indicators_compute_batch", compute_then_fail)
    with django_capture_on_commit_callbacks():
        job = indicators_recompute_enqueue(filing_ids=[f.pk for f in filings], reason="test")
        tasks.recompute_job(job.pk)
    part = job.parts.get()
    with pytest.raises(RuntimeError, match="database said no"):
        tasks.recompute_chunk(part.pk)
    job.refresh_from_db()
    part.refresh_from_db()
    assert (part.status, part.message, job.status, job.message, job.done_count) == (
        "failed",
        "database said no",
        "failed",
        "database said no",
        0,
    )
    assert compute_counts() == {}
