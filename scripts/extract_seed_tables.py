#!/usr/bin/env python3
"""Extract three tables from the Sichuan guarantee-industry newsletter (2020 Q3).

Usage:
    python3 scripts/extract_seed_tables.py SEED_TXT [OUT_DIR]

SEED_TXT is shared/seeds/003_94eb73a4f45b525f.txt (the PDF-to-text
extraction of the newsletter).  OUT_DIR defaults to institutions/data next to
this script's parent directory.  Writes:

    sichuan_2020_award_list.csv       seq,level,city_name,city_code,name
    sichuan_2020_licence_notices.csv  notice,seq,name,licence_number,is_branch,parent_name

Standard library only.  Sections are located by their heading text, not by
fixed line numbers, and table rows are recognised by their running sequence
number (a line starting with the *expected next* seq), so names wrapped over
two or three lines are re-joined and stray numbers such as "2020 年 9 月 29 日"
are never mistaken for rows.  No per-line hard-coded fixes were needed for
this seed: every wrapped name and every licence number is unambiguous.
"""

import csv
import os
import re
import sys

# Section bullet used by the PDF extraction (private-use code point).
BULLET = "\uf075"

# GB/T 2260 administrative-division codes of Sichuan's 21 prefecture-level
# divisions, keyed by the spelling used in the seed (short forms for the three
# autonomous prefectures).
CITY_CODES = {
    "四川省": "510000",  # province-level rows of the award list
    "成都市": "510100",
    "自贡市": "510300",
    "攀枝花市": "510400",
    "泸州市": "510500",
    "德阳市": "510600",
    "绵阳市": "510700",
    "广元市": "510800",
    "遂宁市": "510900",
    "内江市": "511000",
    "乐山市": "511100",
    "南充市": "511300",
    "眉山市": "511400",
    "宜宾市": "511500",
    "广安市": "511600",
    "达州市": "511700",
    "雅安市": "511800",
    "巴中市": "511900",
    "资阳市": "512000",
    "阿坝州": "513200",  # 阿坝藏族羌族自治州
    "甘孜州": "513300",  # 甘孜藏族自治州
    "凉山州": "513400",  # 凉山彝族自治州
}

LICENCE_RE = re.compile(r"川\s*([A-Z])\s*(\d+)")
WS_RE = re.compile(r"\s+")


def nospace(s):
    return WS_RE.sub("", s)


def find_line(lines, predicate, start=0, what=""):
    """Index (0-based) of the first line at or after `start` satisfying predicate."""
    for i in range(start, len(lines)):
        if predicate(lines[i]):
            return i
    raise SystemExit("cannot find %s after line %d" % (what, start + 1))


def contains(*needles):
    compact = [nospace(n) for n in needles]
    return lambda line: all(n in nospace(line) for n in compact)


def is_bullet(line):
    return line.lstrip().startswith(BULLET)


def rows_by_seq(lines, start, end):
    """Group lines[start:end] into rows keyed by a running sequence number.

    A row starts at a line whose first token is the next expected seq
    (1, 2, 3, ...); all following non-blank lines up to the next row start are
    continuation lines of that row.  Returns a list of
    (seq, first_line_no, last_line_no, [text fragments]) with 1-based line
    numbers; the seq token itself is removed from the first fragment.
    """
    rows = []
    expected = 1
    for i in range(start, end):
        text = lines[i].strip()
        if not text:
            continue
        m = re.match(r"^(\d+)(?:\s+(.*))?$", text)
        if m and int(m.group(1)) == expected:
            rows.append([expected, i + 1, i + 1, [m.group(2) or ""]])
            expected += 1
            continue
        if not rows:
            raise SystemExit("unexpected text before first row at line %d: %r" % (i + 1, text))
        rows[-1][2] = i + 1
        rows[-1][3].append(text)
    return rows


def parse_licence_rows(lines, start, end, notice):
    out = []
    for seq, first, last, frags in rows_by_seq(lines, start, end):
        joined = " ".join(f for f in frags if f)
        m = LICENCE_RE.search(joined)
        if not m:
            raise SystemExit("no licence number in row %d (lines %d-%d)" % (seq, first, last))
        if LICENCE_RE.search(joined[m.end() :]):
            raise SystemExit("two licence numbers in row %d (lines %d-%d)" % (seq, first, last))
        licence = "川%s%s" % (m.group(1), m.group(2))
        name = nospace(joined[: m.start()] + joined[m.end() :])
        if name.endswith("分公司"):
            # Parent = the name up to and including the last "公司" before the
            # branch's place name, e.g. 四川泰森融资担保有限公司|德阳|分公司.
            stem = name[: -len("分公司")]
            cut = stem.rfind("公司")
            if cut < 0:
                raise SystemExit("cannot derive parent of branch %r" % name)
            is_branch, parent = "1", stem[: cut + 2]
        else:
            is_branch, parent = "0", ""
        out.append(
            {
                "notice": notice,
                "seq": seq,
                "name": name,
                "licence_number": licence,
                "is_branch": is_branch,
                "parent_name": parent,
                "_lines": (first, last),
            }
        )
    return out


def parse_award_rows(lines, start, end, level):
    out = []
    for seq, first, last, frags in rows_by_seq(lines, start, end):
        head = frags[0].split(None, 1)
        city = head[0]
        if city not in CITY_CODES:
            raise SystemExit("unknown city %r in row %d (line %d)" % (city, seq, first))
        rest = ([head[1]] if len(head) > 1 else []) + frags[1:]
        name = nospace("".join(rest))
        if not name:
            raise SystemExit("empty name in row %d (line %d)" % (seq, first))
        out.append(
            {
                "seq": seq,
                "level": level,
                "city_name": city,
                "city_code": CITY_CODES[city],
                "name": name,
                "_lines": (first, last),
            }
        )
    return out


def write_csv(path, fields, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    seed = argv[1]
    out_dir = (
        argv[2]
        if len(argv) > 2
        else os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "institutions", "data")
    )
    with open(seed, encoding="utf-8") as fh:
        lines = fh.read().split("\n")

    # The table of contents repeats every heading near the top of the file; the
    # body starts after the second occurrence of the first cancellation
    # heading.  Locate body headings as "bullet line containing X".
    def heading(*needles, start=0, what=""):
        pred = contains(*needles)
        return find_line(lines, lambda l: is_bullet(l) and pred(l), start, what)

    toc = heading("关于注销部分融资担保机构", what="cancel heading (TOC)")
    cancel_h = heading("关于注销部分融资担保机构", start=toc + 1, what="cancel heading")
    revoke_h = heading("关于吊销部分融资担保机构", start=cancel_h + 1, what="revoke heading")
    award_h = heading("降费奖补资金", start=revoke_h + 1, what="award heading")
    after_h = find_line(lines, is_bullet, award_h + 1, "heading after award list")

    # 1. cancellation table: header "序 / 号 / 公司名称 许可证编号" (wrapped).
    t1 = find_line(lines, contains("公司名称", "许可证编号"), cancel_h, "cancel table header")
    cancel = parse_licence_rows(lines, t1 + 1, revoke_h, "cancel-2020Q3")

    # 2. revocation table: after "吊销融资担保业务经营许可证公司名单如下".
    t2 = find_line(lines, contains("公司名称", "许可证编号"), revoke_h, "revoke table header")
    revoke = parse_licence_rows(lines, t2 + 1, award_h, "revoke-2020-09-29")
    date_line = find_line(lines, contains("2020年9月29日"), revoke_h, "revoke date")
    if date_line > t2:
        raise SystemExit("revoke date not found in notice body")

    # 3. award list: provincial table, then city (市州) table.
    t3 = find_line(lines, contains("序号", "省", "机构名称"), award_h, "provincial header")
    t4 = find_line(lines, contains("序号", "市（州）", "机构名称"), t3 + 1, "city header")
    t4_title = find_line(lines, contains("市（州）申报项目拟安排名单公示"), t3 + 1, "city title")
    province = parse_award_rows(lines, t3 + 1, t4_title, "province")
    city = parse_award_rows(lines, t4 + 1, after_h, "city")

    notices = cancel + revoke
    awards = province + city

    # --- checks -----------------------------------------------------------
    assert [r["seq"] for r in province] == [1, 2], province
    assert [r["seq"] for r in city] == list(range(1, 87)), len(city)
    assert all(r["city_name"] == "四川省" for r in province)
    assert all(r["city_name"] != "四川省" for r in city)
    assert len(cancel) == 5 and len(revoke) == 8, (len(cancel), len(revoke))
    for r in awards + notices:
        assert not re.search(r"\s", r["name"]), r
        assert r["name"].endswith("公司"), r
    for r in notices:
        assert re.fullmatch(r"川[A-Z]\d+", r["licence_number"]), r

    os.makedirs(out_dir, exist_ok=True)
    write_csv(
        os.path.join(out_dir, "sichuan_2020_award_list.csv"),
        ["seq", "level", "city_name", "city_code", "name"],
        awards,
    )
    write_csv(
        os.path.join(out_dir, "sichuan_2020_licence_notices.csv"),
        ["notice", "seq", "name", "licence_number", "is_branch", "parent_name"],
        notices,
    )

    # --- report -----------------------------------------------------------
    print("seed line ranges (1-based):")
    print(
        "  cancel notice  %d-%d (table rows %d-%d)"
        % (cancel_h + 1, revoke_h, cancel[0]["_lines"][0], cancel[-1]["_lines"][1])
    )
    print(
        "  revoke notice  %d-%d (date line %d, table rows %d-%d)"
        % (revoke_h + 1, award_h, date_line + 1, revoke[0]["_lines"][0], revoke[-1]["_lines"][1])
    )
    print(
        "  award list     %d-%d (province rows %d-%d, city rows %d-%d)"
        % (
            award_h + 1,
            after_h,
            province[0]["_lines"][0],
            province[-1]["_lines"][1],
            city[0]["_lines"][0],
            city[-1]["_lines"][1],
        )
    )
    print(
        "rows: award %d (province %d, city %d); notices %d (cancel %d, revoke %d)"
        % (len(awards), len(province), len(city), len(notices), len(cancel), len(revoke))
    )
    wrapped = [r for r in awards + notices if r["_lines"][0] != r["_lines"][1]]
    print("rows re-joined from several lines:")
    for r in wrapped:
        print("  lines %d-%d: %s" % (r["_lines"][0], r["_lines"][1], r["name"]))
    print("per-city counts of the award list:")
    counts = {}
    for r in awards:
        counts.setdefault((r["level"], r["city_code"], r["city_name"]), 0)
        counts[(r["level"], r["city_code"], r["city_name"])] += 1
    for (level, code, name), n in sorted(counts.items(), key=lambda kv: kv[0][1]):
        print("  %s %-8s %-5s %2d" % (code, level, name, n))
    print("names lacking 融资担保:")
    seen = set()
    for r in awards + notices:
        if "融资担保" not in r["name"] and r["name"] not in seen:
            seen.add(r["name"])
            print("  " + r["name"])
    award_names = {r["name"] for r in awards}
    notice_names = {r["name"] for r in notices} | {r["parent_name"] for r in notices if r["parent_name"]}
    print("names in both files:", sorted(award_names & notice_names) or "none")


if __name__ == "__main__":
    main(sys.argv)
