"""The machine-readable result line every benchmark prints (read by `bench/run.py`, `make bench`).

    BENCH-RESULT {"benchmark": "...", "ratio": 1.8, "target": 5.0, "unit": "x"}

`ratio` is what the benchmark measured (a ratio against a reference of the same run, or an absolute
figure when `unit` says so); `target` is the ceiling it should stay under (None: informative only)."""

from __future__ import annotations

import json

PREFIX = "BENCH-RESULT "


def report(benchmark: str, ratio: float, target: float | None = None, unit: str = "x") -> None:
    line = {"benchmark": benchmark, "ratio": round(float(ratio), 3), "target": target, "unit": unit}
    print(PREFIX + json.dumps(line, ensure_ascii=False), flush=True)
