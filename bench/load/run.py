"""Load test: gunicorn + PostgreSQL + a Celery worker on this machine, driven by locust (locustfile.py).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/load/run.py [--regulators 75] [--minutes 3] [--port 8106]

Creates a throwaway database `gp_load` on the DATABASE_URL server, loads 75 regulators and 3 company
users per regulator (300 users), serves it with gunicorn (DEBUG off: cached templates) and one worker,
runs 300 locust users with 2–6 s think time (spawned at --spawn-rate, then --minutes of steady load,
measured from the moment the last user has signed in: the locustfile resets the statistics then and ends
the run), then prints p50/p95/p99 per operation, requests per second
and errors, and checks integrity: every filing in exactly one state with at most one open draft,
transitions the users saw equal the filings' audit events, and no job left queued or running.
Needs `pip install -e '.[bench]'` (locust)."""

from __future__ import annotations

import argparse
import csv
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
OUT = ROOT / "var" / "load"


def _db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _psql(server: str, sql: str) -> None:
    subprocess.run(["psql", _db(server, "postgres"), "-q", "-c", sql], check=True, capture_output=True)


def _wait_http(url: str, seconds: float = 60) -> None:
    end = time.time() + seconds
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 (our own local server)
            return
        except Exception:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer")


def _analyze_every(url: str, seconds: float, stop: threading.Event) -> None:
    """Refresh the planner's statistics while the load runs, as autovacuum does in production (it is off
    on this machine's PostgreSQL): the tables start empty and grow, and plans made for empty tables
    (nested loops over every institution) would be measured instead of the portal."""
    while not stop.wait(seconds):
        subprocess.run(["psql", url, "-q", "-c", "ANALYZE"], check=False, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--regulators", type=int, default=75)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--port", type=int, default=8106)
    parser.add_argument("--spawn-rate", type=float, default=3)
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL server (a throwaway database gp_load is made on it)")
    redis_url = os.environ.get("REDIS_URL") or sys.exit("set REDIS_URL")
    env = {
        **os.environ,
        "DATABASE_URL": _db(server, "gp_load"),
        "REDIS_URL": redis_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_CONN_MAX_AGE": "60",
        "PYTHONPATH": str(ROOT),
        "LOAD_STEADY_SECONDS": str(int(args.minutes * 60)),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    _psql(server, "DROP DATABASE IF EXISTS gp_load WITH (FORCE)")
    _psql(server, "CREATE DATABASE gp_load")
    subprocess.run(
        [sys.executable, str(ROOT / "bench/load/setup_data.py"), str(args.regulators)], env=env, check=True
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT, check=True
    )
    subprocess.run(["psql", env["DATABASE_URL"], "-q", "-c", "ANALYZE"], check=True, capture_output=True)
    stop_analyze = threading.Event()
    threading.Thread(target=_analyze_every, args=(env["DATABASE_URL"], 30, stop_analyze), daemon=True).start()
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "celery"),
                    "-A",
                    "guarantee_portal",
                    "worker",
                    "-c",
                    "1",
                    "--loglevel",
                    "WARNING",
                    "-n",
                    f"load@{args.port}",
                ],
                env=env,
                cwd=ROOT,
                stdout=open(OUT / "worker.log", "w"),  # noqa: SIM115 (open while the process runs)
                stderr=subprocess.STDOUT,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "guarantee_portal.wsgi",
                    "--bind",
                    f"127.0.0.1:{args.port}",
                    "--workers",
                    str(args.gunicorn_workers),
                    "--timeout",
                    "120",
                ],
                env=env,
                cwd=ROOT,
                stdout=open(OUT / "gunicorn.log", "w"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
            )
        )
        _wait_http(f"http://127.0.0.1:{args.port}/healthz")
        users = args.regulators * 4
        ramp = users / args.spawn_rate
        locust = subprocess.run(
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "bench/load/locustfile.py"),
                "--headless",
                "-u",
                str(users),
                "-r",
                str(args.spawn_rate),
                "-t",  # a bound only: the locustfile ends the run after the steady minutes
                f"{int(ramp + args.minutes * 60 + 600)}s",
                "--host",
                f"http://127.0.0.1:{args.port}",
                "--csv",
                str(OUT / "stats"),
                "--only-summary",
                "--stop-timeout",
                "30",
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        (OUT / "locust.log").write_text(locust.stdout + locust.stderr)
        seen = dict(
            re.findall(
                r"(\w+)=(\d+)",
                (
                    re.search(r"TRANSITIONS (.*)", locust.stdout + locust.stderr) or re.search("(.*)", "")
                ).group(1),
            )
        )
        met = report(OUT / "stats_stats.csv", users, args.minutes * 60, locust.stdout + locust.stderr)
        time.sleep(5)
        deadline = time.time() + 120
        while time.time() < deadline and pending_jobs(env):
            time.sleep(3)
        held = check_integrity(env, {k: int(v) for k, v in seen.items()})
        sys.exit(0 if met and held else 1)
    finally:
        stop_analyze.set()
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


def report(path: Path, users: int, steady: float, log: str) -> bool:
    """Prints the table; True when the target holds (0 errors, p95 ≤ 500 ms over all requests, measured
    after every user signed in)."""
    if "STEADY" not in log:
        print("not every user signed in: no steady state was measured")
        return False
    rows = list(csv.DictReader(path.open()))
    print(f"\n{users} users, {steady:.0f} s of steady load after the last sign-in (this machine has 2 cores)")
    print(f"{'operation':34} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for r in rows:
        name = r["Name"] if r["Name"] != "Aggregated" else "ALL"
        print(
            f"{name:34} {r['Request Count']:>8} {r['Failure Count']:>6} {r['50%']:>7} {r['95%']:>7} {r['99%']:>7}"
        )
    total = next(r for r in rows if r["Name"] == "Aggregated")
    print(f"requests/s {float(total['Requests/s']):.1f}; errors {total['Failure Count']}")
    met = int(total["Failure Count"]) == 0 and float(total["95%"]) <= 500
    print("LOAD TARGET (0 errors, p95 ≤ 500 ms)", "MET" if met else "MISSED")
    return met


def _django(env: dict):
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "DJANGO_DEBUG")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guarantee_portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def pending_jobs(env: dict) -> int:
    _django(env)
    from core.models import Job

    return Job.objects.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).count()


def check_integrity(env: dict, seen: dict) -> bool:
    _django(env)
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Count, Q

    from core.models import AuditEvent, Job
    from reporting.choices import FilingStatus
    from reporting.models import Filing

    filings = Filing.objects.count()
    by_status = dict(Filing.objects.values_list("status").annotate(n=Count("id")))
    odd = Filing.objects.exclude(status__in=FilingStatus.values).count()
    open_drafts = (
        Filing.objects.annotate(n=Count("versions", filter=Q(versions__submitted_at__isnull=True)))
        .filter(n__gt=1)
        .count()
    )
    audited = AuditEvent.objects.filter(
        action="transition", content_type=ContentType.objects.get_for_model(Filing)
    ).count()
    queued = Job.objects.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).count()
    print(
        f"\nfilings {filings} by state {by_status}; in no known state {odd}; with two open drafts {open_drafts}"
    )
    print(
        f"transitions seen by the users {sum(seen.values())} {seen}; filing transition audit events {audited}"
    )
    print(f"jobs left queued or running {queued}; jobs total {Job.objects.count()}")
    ok = odd == 0 and open_drafts == 0 and queued == 0 and sum(seen.values()) == audited
    print("INTEGRITY", "HELD" if ok else "BROKEN")
    return ok


if __name__ == "__main__":
    main()
