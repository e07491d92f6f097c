from collections.abc import Callable, Iterator

import pytest
from celery import Celery
from django.db import connections
from django.test import Client
from django.utils import translation

from accounts.services import regions_load

from .factories import InstitutionFactory, UserFactory
from .processes import REDIS_SERVER, OwnRedis


@pytest.fixture(scope="session", autouse=True)
def tasks_run_in_process():
    """Even with REDIS_URL set (CI), tests run tasks in-process; tests/test_worker.py switches this off
    around a real worker."""
    from guarantee_portal.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


def _drop_broker_connections(app: Celery) -> None:
    """The app connects anew, to the broker its configuration names now."""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_at() -> Iterator[Callable[[str | None], None]]:
    """broker_at(url): from then on tasks are sent to that broker, not run in-process (until the test
    ends); broker_at(None): run in-process again."""
    from guarantee_portal.celery import app

    saved = app.conf.broker_url, app.conf.task_always_eager

    def point(url: str | None) -> None:
        _drop_broker_connections(app)
        app.conf.broker_url, app.conf.task_always_eager = (url, False) if url else saved

    yield point
    _drop_broker_connections(app)
    app.conf.broker_url, app.conf.task_always_eager = saved


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    """A redis-server of the test's own on a spare port (started; stopped at the end in any case)."""
    if REDIS_SERVER is None:
        pytest.skip("needs redis-server")
    redis = OwnRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """All of China's regions are reference data every test may use: load them once per session.
    Tests marked `serialized_rollback=True` (those that commit, e.g. for a real worker) get this
    reference data back after their flush: it is serialized again once it is complete."""
    with django_db_blocker.unblock():
        regions_load()
        for alias in connections:
            connections[alias]._test_serialized_contents = connections[
                alias
            ].creation.serialize_db_to_string()


def pytest_collection_modifyitems(items):
    """Every test that commits (transaction=True) also restores the reference data after its flush,
    so tests that follow it, and ids cached by ContentType, stay valid."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        committing = "transactional_db" in getattr(item, "fixturenames", ()) or (
            marker is not None and marker.kwargs.get("transaction")
        )
        if committing:
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True), append=False)


@pytest.fixture(autouse=True)
def empty_cache():
    """Throttle counts and rate limits start from zero in every test. The shared cache is Redis when
    REDIS_URL is set (the broker's database too): only the portal's own keys are deleted."""
    from django.core.cache import cache

    if hasattr(cache, "_cache") and hasattr(cache._cache, "get_client"):
        client = cache._cache.get_client(write=True)
        for key in client.scan_iter(f"{cache.key_prefix}:*"):
            client.delete(key)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Each test starts in the default language: a page asked for in English leaves its thread in English
    (LocaleMiddleware activates and never resets), and messages are gettext now."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Production hashing (Argon2id) costs ~0.15 s per password; tests only need passwords to round-trip."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def chengdu_institution(db):
    return InstitutionFactory(region_id="510104", level="county", name="成都测试融资担保有限公司")


@pytest.fixture
def mianyang_institution(db):
    return InstitutionFactory(region_id="510703", level="county", name="绵阳测试融资担保有限公司")


@pytest.fixture
def users(db, chengdu_institution, mianyang_institution):
    """One user per role and jurisdiction used across tenant-isolation matrices."""
    return {
        "admin": UserFactory(username="t_admin", role="admin"),
        "sc_regulator": UserFactory(username="t_sc_reg", role="regulator", region_id="510000"),
        "cd_regulator": UserFactory(username="t_cd_reg", role="regulator", region_id="510100"),
        "my_regulator": UserFactory(username="t_my_reg", role="regulator", region_id="510700"),
        "sc_finance": UserFactory(username="t_sc_fin", role="finance", region_id="510000"),
        "cd_finance": UserFactory(username="t_cd_fin", role="finance", region_id="510100"),
        "cd_filer": UserFactory(username="t_cd_filer", role="filer", institution=chengdu_institution),
        "cd_approver": UserFactory(username="t_cd_appr", role="approver", institution=chengdu_institution),
        "my_filer": UserFactory(username="t_my_filer", role="filer", institution=mianyang_institution),
        "zj_regulator": UserFactory(username="t_zj_reg", role="regulator", region_id="330000"),
    }


@pytest.fixture
def client_for():
    """client_for(user) → a Django test client logged in as that user (no second factor needed:
    OTP_REQUIRED is off outside production)."""

    def make(user):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make
