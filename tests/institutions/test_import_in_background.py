"""A large registry workbook is imported by a background job through the guarded reader (all or
nothing, the same as the page); its size and zip directory are checked at once."""

import io

import pytest
from django.urls import reverse

from core.models import Job
from core.stored_text import show
from institutions.models import Institution
from tests.core.hostile import structural
from tests.core.test_uploads import MIB, REGISTRY
from tests.institutions.test_import import GOOD_INSTITUTIONS, GOOD_LICENCES, PARENT, workbook

pytestmark = pytest.mark.django_db


def _upload(data: bytes, name: str = "registry.xlsx"):
    upload = io.BytesIO(data)
    upload.name = name
    return upload


@pytest.fixture
def small_inline_limit(settings, tmp_path):
    settings.REGISTRY_IMPORT_INLINE_BYTES = 1000  # every test workbook counts as large
    settings.MEDIA_ROOT = tmp_path


def test_a_large_workbook_is_imported_by_a_job(
    users, client_for, small_inline_limit, tmp_path, django_capture_on_commit_callbacks
):
    client = client_for(users["sc_regulator"])
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            reverse("institutions:import"), {"file": _upload(workbook(GOOD_INSTITUTIONS, GOOD_LICENCES))}
        )
    job = Job.objects.get(kind="registry_import")
    assert (page.status_code, page.context["job"]) == (200, job)
    assert "已转为后台任务" in page.content.decode()
    job.refresh_from_db()  # tasks run in-process in the tests, at commit
    assert (job.status, job.created_by, show(job.message)) == (
        "done",
        users["sc_regulator"],
        "新增机构 2 家，更新 0 家；新增许可证 2 个，更新 0 个",
    )
    assert Institution.objects.filter(credit_code=PARENT).exists()
    assert list(tmp_path.rglob("*.xlsx")) == []  # the stored upload is gone
    listed = client.get(reverse("institutions:import"))
    assert list(listed.context["jobs"]) == [job]
    # another regulator does not see the job
    assert list(client_for(users["cd_regulator"]).get(reverse("institutions:import")).context["jobs"]) == []


def test_a_large_workbook_with_errors_stores_nothing_and_the_job_says_why(
    users, client_for, small_inline_limit, django_capture_on_commit_callbacks
):
    bad = [list(GOOD_INSTITUTIONS[0])]
    bad[0][4] = "999999"
    with django_capture_on_commit_callbacks(execute=True):
        client_for(users["sc_regulator"]).post(
            reverse("institutions:import"), {"file": _upload(workbook(bad, []))}
        )
    job = Job.objects.get(kind="registry_import")
    assert job.status == "failed"
    assert job.message.splitlines()[0] == "发现 1 处错误，未写入任何数据："
    assert "未知的行政区划代码“999999”" in job.message
    assert not Institution.objects.filter(credit_code=PARENT).exists()


@pytest.mark.parametrize("name", [*sorted(REGISTRY), "too-many-entries"])
def test_every_hostile_file_is_refused_at_once_or_by_the_job(
    name, users, client_for, small_inline_limit, django_capture_on_commit_callbacks
):
    good = workbook(GOOD_INSTITUTIONS, GOOD_LICENCES)
    data = structural(good, "机构", rows=20_000, columns=60, max_bytes=20 * MIB, expanded=100 * MIB)[name]()
    with django_capture_on_commit_callbacks(execute=True):
        page = client_for(users["sc_regulator"]).post(reverse("institutions:import"), {"file": _upload(data)})
    job = Job.objects.filter(kind="registry_import").first()
    if job is None:  # the size, the kind of file or the zip directory: refused at once
        said = " ".join(e.message for e in page.context["errors"])
    else:
        assert job.status == "failed", job.message
        said = job.message
    expected = "压缩包条目过多" if name == "too-many-entries" else REGISTRY[name][-2]
    assert expected in said
    assert Institution.objects.filter(credit_code=PARENT).count() == 0
