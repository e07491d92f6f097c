"""The policy-row rule: which rows are in force on a day for a region, in which order, and the loud
failure when a required row is missing — the same answers in SQL and over rows loaded in memory."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from core.policy import PolicyMissing, covering_codes, governing, rows_in_force
from institutions.models import PolicyRule

pytestmark = pytest.mark.django_db
D = dt.date
KEY = "paid_in_min"


def rule(region: str, start: dt.date, end: dt.date | None = None, value: str = "1", code: str = KEY):
    return PolicyRule.objects.create(
        code=code,
        region_code=region,
        severity="breach",
        value=Decimal(value),
        effective_from=start,
        effective_to=end,
        source="test",
    )


@pytest.fixture
def rows():
    """A nationwide row, a Sichuan row, a Chengdu row and a Jinjiang-district row for one key."""
    PolicyRule.objects.all().delete()
    return {
        "nation": rule("", D(2017, 10, 1), value="1"),
        "sichuan": rule("510000", D(2020, 1, 1), value="2"),
        "chengdu": rule("510100", D(2021, 1, 1), D(2022, 12, 31), value="3"),
        "jinjiang": rule("510104", D(2023, 1, 1), value="4"),
    }


def in_force(day: dt.date, region: str) -> list[PolicyRule]:
    """Both evaluations of the rule, checked to agree."""
    in_sql = list(PolicyRule.objects.in_force(day, region))
    assert rows_in_force(PolicyRule.objects.all(), day, region) == in_sql
    return in_sql


def test_covering_codes_read_the_subtree_rule_upwards():
    assert covering_codes("510104") == ["", "510000", "510100", "510104"]
    assert covering_codes("510100") == ["", "510000", "510100"]
    assert covering_codes("510000") == ["", "510000"]
    assert covering_codes("") == [""]


@pytest.mark.parametrize(
    "day,region,expected",
    [
        (D(2024, 6, 30), "510104", ["jinjiang", "sichuan", "nation"]),  # Chengdu's row has ended
        (D(2022, 6, 30), "510104", ["chengdu", "sichuan", "nation"]),  # Jinjiang's has not begun
        (D(2022, 6, 30), "510105", ["chengdu", "sichuan", "nation"]),  # another Chengdu district
        (D(2024, 6, 30), "510703", ["sichuan", "nation"]),  # Mianyang: the province covers it
        (D(2024, 6, 30), "510100", ["sichuan", "nation"]),  # a district row does not cover its city
        (D(2024, 6, 30), "330106", ["nation"]),  # Zhejiang
        (D(2024, 6, 30), "", ["nation"]),  # nationwide rows only
        (D(2017, 9, 30), "510104", []),  # before every row
    ],
)
def test_in_force_most_specific_region_first(rows, day, region, expected):
    assert in_force(day, region) == [rows[name] for name in expected]


def test_effective_dates_are_inclusive_at_both_ends(rows):
    chengdu = rows["chengdu"]
    assert chengdu in in_force(D(2021, 1, 1), "510104")  # the first day
    assert chengdu in in_force(D(2022, 12, 31), "510104")  # the last day
    assert chengdu not in in_force(D(2020, 12, 31), "510104")
    assert chengdu not in in_force(D(2023, 1, 1), "510105")


def test_two_rows_for_the_same_key_and_region_latest_start_first(rows):
    later = rule("510000", D(2024, 1, 1), value="5")
    assert in_force(D(2024, 6, 30), "510703") == [later, rows["sichuan"], rows["nation"]]
    assert in_force(D(2023, 12, 31), "510703") == [rows["sichuan"], rows["nation"]]
    assert PolicyRule.objects.governing(D(2024, 6, 30), "510703")[KEY] == later
    assert PolicyRule.objects.require(D(2023, 12, 31), "510703", KEY) == rows["sichuan"]


def test_governing_takes_the_first_row_of_each_key(rows):
    margin = rule("330300", D(2020, 1, 1), value="0", code="margin_max")
    in_db = PolicyRule.objects.governing(D(2024, 6, 30), "330302")
    assert in_db == {KEY: rows["nation"], "margin_max": margin}
    assert governing(PolicyRule, list(PolicyRule.objects.all()), D(2024, 6, 30), "330302") == in_db
    assert PolicyRule.objects.governing(D(2024, 6, 30), "510104") == {KEY: rows["jinjiang"]}


def test_a_missing_row_fails_loudly_naming_key_region_and_day(rows):
    with pytest.raises(PolicyMissing) as exc:
        PolicyRule.objects.require(D(2024, 6, 30), "510104", "margin_max")
    assert exc.value.messages == ["缺少政策数据：政策规则参数 margin_max（地区 510104，日期 2024-06-30）"]
    with translation.override("en"), pytest.raises(PolicyMissing) as exc:
        PolicyRule.objects.require(D(2024, 6, 30), "510104", "margin_max")
    assert exc.value.messages == [
        "Missing policy data: Policy rule parameter margin_max for region 510104 on 2024-06-30"
    ]
    with pytest.raises(PolicyMissing, match="（地区 全国，日期 2017-09-30）"):
        PolicyRule.objects.governing(D(2017, 9, 30), "").require(KEY)
