"""The two Sichuan licence notices of seed 003 (2020 Q3 newsletter): one source for the demo and the tests.

The table rows (company, licence number, branch/parent) are `data/sichuan_2020_licence_notices.csv`;
see `data/README.md` for where each comes from. This module adds what the CSV does not hold: each
notice's heading, body, reason and date as printed, and the city each company is registered in."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .choices import NoticeKind

NOTICES_CSV = Path(__file__).resolve().parent / "data" / "sichuan_2020_licence_notices.csv"

CANCEL_KEY, REVOKE_KEY = "cancel-2020Q3", "revoke-2020-09-29"


@dataclass(frozen=True)
class SeedNotice:
    key: str  # the CSV's `notice` column
    kind: str
    title: str  # the heading as printed (PDF line-wrap spaces removed)
    body: str  # the text above the table as printed; paragraphs separated by newlines
    reason: str  # what the licences record as cause
    on: dt.date | None  # the notice's date; the cancellation notice gives none
    period_label: str  # what the notice shows instead of a date


NOTICES = {
    CANCEL_KEY: SeedNotice(
        key=CANCEL_KEY,
        kind=NoticeKind.CANCEL,
        title="四川省地方金融监督管理局7-9月关于注销部分融资担保机构融资担保业务经营许可证的公告",
        body="根据公司申请，按照《中华人民共和国行政许可法》《融资担保公司监督管理条例》《融资担保业务经营许可证管理办法》"
        "等相关规定，四川省地方金融监督管理局决定依法公告注销德阳鑫融金融资担保有限责任公司等公司融资担保业务经营许可证，"
        "具体情况名单如下。",
        reason="根据公司申请",
        on=None,
        period_label="2020年7-9月",
    ),
    REVOKE_KEY: SeedNotice(
        key=REVOKE_KEY,
        kind=NoticeKind.REVOKE,
        title="省地方金融监督管理局关于吊销部分融资担保机构融资担保业务经营许可证的公告",
        body="根据整改验收结果，省地方金融监管局决定依法吊销四川宝通融资担保有限公司等8家公司融资担保业务经营许可证（名单附后）。\n"
        "上述融资担保公司应停止开展新的融资担保业务，5日内在公开媒体上向社会公告，15日内向属地金融局交回融资担保业务经营许可证，"
        "30日内主动向属地市场监管部门申请公司变更或注销，并依法依规做好债权债务、未到期担保责任的承接工作。\n"
        "上述融资担保公司如对本处罚决定不服，可在接到本通知之日起六十日内向省地方金融监管局申请复议，"
        "或在六个月内向成都市锦江区人民法院提起行政诉讼；申请行政复议或提起行政诉讼期间，本行政处罚决定不停止执行。\n"
        "特此公告。",
        reason="根据整改验收结果",
        on=dt.date(2020, 9, 29),
        period_label="",
    ),
}

# The seed gives no region codes: a branch sits in the city its name ends with, any other company in the
# city its name contains, and a company named only "四川…" in the provincial capital, Chengdu.
BRANCH_CITIES = {"德阳分公司": "510600", "乐山分公司": "511100"}
CITIES = {"德阳": "510600", "宜宾": "511500", "绵阳": "510700", "达州": "511700", "成都": "510100"}
PROVINCIAL_CAPITAL = "510100"


def region_of(name: str) -> str:
    for suffix, code in BRANCH_CITIES.items():
        if name.endswith(suffix):
            return code
    for city, code in CITIES.items():
        if city in name:
            return code
    if name.startswith("四川"):
        return PROVINCIAL_CAPITAL
    raise ValueError(f"no Sichuan city in {name!r}")


def rows() -> list[dict]:
    """The 13 table rows in notice order: notice, seq, name, licence_number, is_branch, parent_name."""
    with open(NOTICES_CSV, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def rows_of(key: str) -> list[dict]:
    return [r for r in rows() if r["notice"] == key]


def parents_not_listed() -> list[str]:
    """Parent companies of listed branches that hold no listed licence themselves (the seed names them only)."""
    all_rows = rows()
    listed = {r["name"] for r in all_rows}
    return sorted({r["parent_name"] for r in all_rows if r["parent_name"]} - listed)
