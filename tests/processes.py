"""Processes the reliability tests and drills start themselves: a Redis of their own on a spare port
(so stopping it touches no one else's) and a Celery worker against a given broker and database."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    """A TCP port nothing listens on at the moment."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRedis:
    """A redis-server keeping nothing on disk, on a spare port; stopped for good by close()."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not listen on port {self.port}")

    def stop(self) -> None:
        """Stop it (everything it held is lost: it keeps nothing on disk)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)  # in case it was paused
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def pause(self) -> None:
        """Freeze it: connections stay open and nothing answers (a hung broker)."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


def database_url(settings_dict: dict) -> str:
    auth = settings_dict["USER"] + (f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else "")
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{settings_dict['NAME']}"


def start_worker(
    *, database: str, redis: str, pool: str = "solo", extra_env: dict | None = None
) -> subprocess.Popen:
    """A Celery worker process (its output on a pipe)."""
    env = os.environ | {"DATABASE_URL": database, "REDIS_URL": redis} | (extra_env or {})
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "guarantee_portal",
            "worker",
            "--pool",
            pool,
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop_worker(process: subprocess.Popen) -> str:
    """Stop the worker (warm shutdown, killed after 20 s) and return the end of its output."""
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output[-4000:]


@contextmanager
def worker_running(*, database: str, redis: str) -> Iterator[subprocess.Popen]:
    """A worker for the duration of the block; its output is printed when it stops."""
    process = start_worker(database=database, redis=redis)
    try:
        yield process
    finally:
        print(stop_worker(process))
