"""Run every benchmark under bench/ on PostgreSQL and print one table: benchmark, measured ratio,
target, pass/fail (`make bench`; `make bench SIZE=national` for the full sizes).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gp_bench .venv/bin/python bench/run.py [--size national]

Each benchmark runs in its own fresh database, created beside the one DATABASE_URL names (its name plus
`_b_<benchmark>`) and dropped afterwards; the benchmark's own output is shown as it runs and its result
lines (`BENCH-RESULT {...}`, bench/bench_result.py) make the table. Exits 1 when a target is missed or a
benchmark failed."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_result import PREFIX  # noqa: E402

# benchmark script: (arguments at the small size, arguments at the national size)
BENCHMARKS = {
    "indicators_recompute.py": (["--small"], []),
    "institutions_list.py": (["--small"], []),
    "reporting_export.py": (["--small"], []),
    "reporting_import.py": (["--small"], []),
    "guarantees_load.py": (["--rows", "2000"], ["--rows", "10000", "100000"]),
}


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


def run_one(script: str, args: list[str], url: str) -> tuple[list[dict], str | None, float]:
    base = urlsplit(url).path.lstrip("/") or "bench"
    db = f"{base}_b_{script.removesuffix('.py')}"
    _admin(url, f'DROP DATABASE IF EXISTS "{db}"')
    _admin(url, f'CREATE DATABASE "{db}"')
    env = {**os.environ, "DATABASE_URL": _with_database(url, db), "DJANGO_LOG_LEVEL": "WARNING"}
    env["BENCH_DATABASE_URL"] = env["DATABASE_URL"]
    env.pop("REDIS_URL", None)  # background work runs in-process in every benchmark
    results, error, t0 = [], None, time.perf_counter()
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    try:
        proc = subprocess.Popen(
            [sys.executable, str(HERE / script), *args],
            cwd=HERE.parent,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for line in proc.stdout:
            print(line, end="", flush=True)
            if line.startswith(PREFIX):
                results.append(json.loads(line[len(PREFIX) :]))
        if proc.wait():
            error = f"exit status {proc.returncode}"
    finally:
        # the benchmark's own test database (indicators_recompute makes one) goes too
        _admin(url, f'DROP DATABASE IF EXISTS "test_{db}"')
        _admin(url, f'DROP DATABASE IF EXISTS "{db}"')
    return results, error, time.perf_counter() - t0


def verdict(row: dict) -> str:
    if row.get("target") is None:
        return "info"
    return "pass" if row["ratio"] <= row["target"] else "FAIL"


def table(rows: list[dict]) -> str:
    head = ("benchmark", "measured", "target", "result")
    body = []
    for r in rows:
        unit = r.get("unit", "x")

        def fmt(v, unit=unit):
            return f"{v:.2f}×" if unit == "x" else f"{v:.0f} {unit}" if unit == "rows" else f"{v:.1f} {unit}"

        body.append(
            (
                r["benchmark"],
                fmt(r["ratio"]) if r.get("ratio") is not None else "—",
                f"≤ {fmt(r['target'])}" if r.get("target") is not None else "—",
                r.get("result") or verdict(r),
            )
        )
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=False)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(b) for b in body]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", choices=["small", "national"], default="small")
    parser.add_argument("--only", nargs="*", help="benchmark scripts to run (default: all)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit(
            "make bench needs DATABASE_URL naming a PostgreSQL database (e.g. postgres://postgres@127.0.0.1:5432/gp_bench)"
        )
    rows = []
    for script, sizes in BENCHMARKS.items():
        if args.only and script not in args.only:
            continue
        results, error, seconds = run_one(script, sizes[args.size == "national"], url)
        rows += results
        if error:
            rows.append({"benchmark": f"{script} ({error})", "ratio": None, "target": None, "result": "FAIL"})
        print(f"--- {script}: {seconds:.0f} s", flush=True)
    print(f"\nmake bench SIZE={args.size} on PostgreSQL\n")
    print(table(rows))
    return int(any((r.get("result") or verdict(r)) == "FAIL" for r in rows))


if __name__ == "__main__":
    sys.exit(main())
