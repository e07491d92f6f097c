"""Drill: PostgreSQL restarts under a running web server that keeps persistent connections.

    .venv/bin/python bench/drills/postgres_restart.py            # a PostgreSQL 15 cluster of our own
    .venv/bin/python bench/drills/postgres_restart.py --shared   # the machine's cluster (SERVICES.md)

The web runs under gunicorn (one sync worker, so the connection it keeps is the one that dies) with
DJANGO_CONN_MAX_AGE=600. After a request has opened its persistent connection, PostgreSQL restarts
(`pg_ctl restart -m fast`; with --shared, `pg_ctlcluster ... main restart` from SERVICES.md, which
drops every session on the machine: only when no one else is using it). The next requests must answer
200 without restarting the web. LOST counts the requests that did not. `--without-health-checks`
turns CONN_HEALTH_CHECKS off in the web process to show what the setting prevents.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from _common import ROOT, drill_environment, wait_for

from tests.processes import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
NO_HEALTH_CHECKS = """
def post_worker_init(worker):
    from django.conf import settings
    settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
"""


class OwnPostgres:
    """A throwaway PostgreSQL cluster (trust auth) on a spare port, run as the postgres user."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="gp_drill_pg_"))
        self.port = free_port()
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(
            "initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8"
        )
        self.start()

    def _as_postgres(self, program: str, *args: str, check: bool = True) -> int:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / program), *args],
            check=check,
            capture_output=True,
        ).returncode

    def _ctl(self, action: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir}"
        self._as_postgres(
            "pg_ctl",
            "-D",
            str(self.dir / "data"),
            "-l",
            str(self.dir / "log"),
            "-o",
            options,
            "-m",
            "fast",
            "-w",
            action,
        )

    def start(self) -> None:
        """Start it unless it runs."""
        if self._as_postgres("pg_ctl", "-D", str(self.dir / "data"), "status", check=False) != 0:
            self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart")

    def close(self) -> None:
        self._ctl("stop")
        shutil.rmtree(self.dir)


class SharedPostgres:
    """The machine's cluster, restarted with the command of SERVICES.md."""

    def restart(self) -> None:
        version = os.listdir("/etc/postgresql")[0]
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)

    def start(self) -> None:
        """Start it unless it runs (the command of SERVICES.md)."""
        version = os.listdir("/etc/postgresql")[0]
        if subprocess.run(["pg_ctlcluster", version, "main", "status"], capture_output=True).returncode != 0:
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=True
            )

    def close(self) -> None:
        pass


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (our own http URL)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", action="store_true", help="restart the machine's PostgreSQL")
    parser.add_argument("--without-health-checks", action="store_true")
    args = parser.parse_args()
    postgres = SharedPostgres() if args.shared else OwnPostgres()
    if not args.shared:
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{postgres.port}/postgres"
    web = None
    try:
        with drill_environment("pg_restart") as (database_url, redis):
            from django.db import connection

            port = free_port()
            command = [
                str(Path(sys.executable).parent / "gunicorn"),
                "guarantee_portal.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ]
            if args.without_health_checks:
                config = Path(tempfile.mkstemp(suffix=".py")[1])
                config.write_text(NO_HEALTH_CHECKS)
                command += ["--config", str(config)]
            env = os.environ | {
                "DATABASE_URL": database_url,
                "REDIS_URL": redis.url,
                "DJANGO_CONN_MAX_AGE": "600",
            }
            web = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            health = f"http://127.0.0.1:{port}/healthz"
            if not wait_for(lambda: get(health) == 200, timeout=120):
                raise SystemExit("the web did not answer")
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
                kept = cur.fetchone()[0]
            connection.close()
            print(f"web up; sessions it keeps open on the database: {kept}")
            t0 = time.monotonic()
            try:
                postgres.restart()
            finally:
                postgres.start()  # a repair if the restart failed half-way
            print(f"PostgreSQL restarted in {time.monotonic() - t0:.1f}s; the web was not restarted")
            answers = [get(health) for _ in range(5)]
            print(f"the next 5 requests answered: {answers}")
            print(f"LOST: {sum(1 for a in answers if a != 200)}")
    finally:
        if web is not None:
            web.terminate()
            output = web.communicate(timeout=30)[0]
            if "Traceback" in output:
                print(output[-3000:])
        postgres.close()


if __name__ == "__main__":
    main()
