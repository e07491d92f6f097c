"""What the fault drills share: a throwaway PostgreSQL database, a Redis of their own, Django set up
against both, the project's processes, and filings to submit.

A drill is a script, not a test: it starts what it needs, breaks one thing on purpose, repairs it
(always, in `finally`), and prints what was lost — which must be nothing. It needs DATABASE_URL on
PostgreSQL (the server the throwaway database is created on) and redis-server on the PATH.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guarantee_portal.settings")

from tests.processes import OwnRedis, start_worker, stop_worker  # noqa: E402

__all__ = ["OwnRedis", "ROOT", "drill_environment", "start_worker", "stop_worker", "wait_for"]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _psql(server_url: str, sql: str) -> None:
    subprocess.run(
        ["psql", _with_database(server_url, "postgres"), "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
    )


@contextmanager
def drill_environment(name: str, *, env: dict | None = None) -> Iterator[tuple[str, OwnRedis]]:
    """A fresh database `gp_drill_<name>` (migrated, with China's regions) and a Redis of our own;
    Django is set up against both. Yields (DATABASE_URL of the drill database, the Redis). Everything
    is stopped and dropped at the end, whatever happens."""
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL server (a throwaway database is created on it)")
    database = f"gp_drill_{name}"
    database_url = _with_database(server, database)
    redis = OwnRedis()
    redis.start()
    _psql(server, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    _psql(server, f"CREATE DATABASE {database}")
    os.environ.update({"DATABASE_URL": database_url, "REDIS_URL": redis.url} | (env or {}))
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from accounts.services import regions_load

        call_command("migrate", verbosity=0)
        regions_load()
        yield database_url, redis
    finally:
        from django.db import connections

        connections.close_all()
        redis.stop()
        _psql(server, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def wait_for(
    condition: Callable[[], bool], *, timeout: float, every: float = 0.5, between: Callable | None = None
) -> bool:
    """Poll `condition` until it is true or `timeout` seconds pass; `between` runs between polls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if between is not None:
            between()
        time.sleep(every)
    return bool(condition())


def make_institutions(n: int, *, region: str = "510104") -> tuple[list, list, object]:
    """n licensed institutions, each with an approver (who submits); and a Sichuan regulator."""
    import datetime as dt

    from institutions.models import Licence
    from tests.factories import InstitutionFactory, UserFactory

    institutions, approvers = [], []
    for i in range(n):
        inst = InstitutionFactory(region_id=region, name=f"演练{i}号融资担保有限公司")
        Licence.objects.create(
            number=f"川D{800000 + i}",
            institution=inst,
            issuing_authority="四川省地方金融监督管理局",
            issued_on=dt.date(2015, 1, 1),
        )
        institutions.append(inst)
        approvers.append(UserFactory(username=f"drill_appr_{i}", role="approver", institution=inst))
    regulator = UserFactory(username="drill_regulator", role="regulator", region_id="510000")
    return institutions, approvers, regulator


def make_draft(
    institution: object, approver: object, period: str = "2025Q2"
) -> tuple[object, dict[str, str]]:
    """A draft filing whose every warning carries an explanation (so it can be submitted). Returns
    (filing, explanations as the web form posts them)."""
    from reporting import services
    from reporting.periods import Period
    from tests.reporting.sample import GOOD_Q2

    filing, _version, findings = services.filing_save_draft(
        actor=approver, institution=institution, period=Period.parse(period), values=GOOD_Q2
    )
    return filing, {f"exp_{f.rule_id}": "演练说明" for f in findings}
