"""Classification rating (分类监管) arithmetic: the score of one item from an institution's facts of the
year, the grade a score earns, and the cap veto items put on it. Pure: no ORM; Decimal in and out.

Policy source: 条例 art. 25 (classified supervision by scale, clients served, internal management and
risk), seeds 000 (Xinjiang draft, 第十二条) and 001 (Banan, 巴南府发〔2017〕30号 第十三条). No official score
sheet is public: the default sheet (rating_data.py) is the portal's, marked unconfirmed."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
GRADES = ["A", "B", "C", "D"]


@dataclass
class Facts:
    """What the year shows for one institution (gathered by services.ratings)."""

    net_assets: Decimal | None = None  # 万元, the year's last filing
    year_end: dict[str, Decimal | None] = field(default_factory=dict)  # indicator → value, last filing
    quarters: list[str] = field(default_factory=list)  # quarters filed, e.g. "2025Q1"
    breaches: dict[str, set[str]] = field(default_factory=dict)  # quarter → indicators breached
    year_end_breaches: dict[str, str] = field(default_factory=dict)  # indicator → worst severity
    late: int = 0
    returned: int = 0
    amended: int = 0
    measures: list[str] = field(default_factory=list)  # type codes of measures issued in the year
    overdue_measures: int = 0
    findings: int = 0


@dataclass(frozen=True)
class ItemResult:
    score: Decimal | None
    vetoed: bool
    basis: str


def q2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def _d(x) -> Decimal:
    return Decimal(str(x))


def _band(value: Decimal, bands) -> tuple[Decimal, Decimal | None]:
    """(share of the points, band minimum) of the first band whose minimum `value` reaches."""
    for minimum, share in bands:
        if value >= _d(minimum):
            return _d(share), _d(minimum)
    return Decimal(0), None


def score_item(source: str, points: Decimal, params: dict, facts: Facts) -> ItemResult:
    points = _d(points)
    if source == "net_assets":
        if facts.net_assets is None:
            return ItemResult(Decimal("0.00"), False, "无年末净资产数据，得0分")
        share, minimum = _band(facts.net_assets, params["bands"])
        score = q2(points * share)
        where = f"达到{minimum}万元档" if minimum is not None else "低于最低档"
        return ItemResult(score, False, f"年末净资产{q2(facts.net_assets)}万元，{where}，得{score}分")
    if source == "indicator_band":
        code = params["indicator"]
        value = facts.year_end.get(code)
        if value is None:
            return ItemResult(Decimal("0.00"), False, f"年末{code}无数据，得0分")
        share, minimum = _band(value, params["bands"])
        score = q2(points * share)
        return ItemResult(
            score,
            False,
            f"年末{code}={value}，{'≥' + str(minimum) if minimum is not None else '低于最低档'}，得{score}分",
        )
    if source == "breach_free":
        watched = set(params["indicators"])
        if not facts.quarters:
            return ItemResult(Decimal("0.00"), False, "本年度无已计算的季度报表，得0分")
        clean = [q for q in facts.quarters if not (facts.breaches.get(q, set()) & watched)]
        score = q2(points * len(clean) / len(facts.quarters))
        return ItemResult(
            score, False, f"{len(facts.quarters)}个季度中{len(clean)}个季度相关指标无违规，得{score}分"
        )
    if source == "filing":
        deduction = (
            facts.late * _d(params.get("late", 0))
            + facts.returned * _d(params.get("returned", 0))
            + facts.amended * _d(params.get("amended", 0))
        )
        score = q2(max(Decimal(0), points - deduction))
        return ItemResult(
            score,
            False,
            f"逾期{facts.late}次、退回{facts.returned}次、更正{facts.amended}次，扣{q2(deduction)}分",
        )
    if source == "measures":
        deduction = (
            len(facts.measures) * _d(params.get("per_measure", 0))
            + facts.overdue_measures * _d(params.get("overdue", 0))
            + facts.findings * _d(params.get("per_finding", 0))
        )
        score = q2(max(Decimal(0), points - deduction))
        return ItemResult(
            score,
            False,
            f"被采取监管措施{len(facts.measures)}项、逾期未答复{facts.overdue_measures}项、现场检查发现{facts.findings}项，扣{q2(deduction)}分",
        )
    if source == "manual":
        score = q2(_d(params.get("default", 0)))
        return ItemResult(score, False, f"人工评分项，初稿按默认{score}分，待监管人员评定")
    if source == "veto_breach":
        severity = params.get("severity", "breach")
        hit = sorted(c for c in params["indicators"] if facts.year_end_breaches.get(c) == severity)
        return ItemResult(None, bool(hit), f"年末违规：{'、'.join(hit)}" if hit else "未触发")
    if source == "veto_measure":
        hit = sorted(set(facts.measures) & set(params["types"]))
        return ItemResult(None, bool(hit), f"本年度被采取：{'、'.join(hit)}" if hit else "未触发")
    raise ValueError(f"unknown item source {source!r}")


def grade_for(score: Decimal, bands: list[tuple[str, Decimal]]) -> str:
    """The best grade whose minimum the score reaches (bands: (grade, minimum)); D otherwise."""
    for grade, minimum in sorted(bands, key=lambda b: GRADES.index(b[0])):
        if score >= minimum:
            return grade
    return GRADES[-1]


def capped(grade: str, caps: list[str]) -> str:
    """The grade after veto items: no better than the worst cap."""
    return max([grade, *caps], key=GRADES.index)
