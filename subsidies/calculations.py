"""Subsidy, award and compensation arithmetic: pure functions, Decimal in and out, no ORM.

Every rate, band, cap and coefficient is an argument (scheme data, ../shared/domain/schemes.md sections
1–3); only the formulas are code. Nothing is rounded in between: `money()` rounds half-up to 2 decimals
at the end of a computation, and only there.

- Fee subsidy (schemes.md §1; 巴南府发〔2017〕30号 art. 7, 聊城 seed 004 art. 8):
  amount = guaranteed amount × points × days in force within the period / day-count basis.
- Fee-reduction award (§2; 财建〔2018〕547号, Guangdong 2020 allocation method):
  weighted = new small/micro annualised amount × coefficient of the fee-rate band;
  award = pool × weighted / Σ weighted of eligible institutions.
- Risk compensation (§3; 聊城 seed 004 art. 7): rate = compensation / released (year to date), paid back
  by band, either marginally (each slice at its band's share) or the whole amount at the band of the
  total rate, the part above the cap never.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import NamedTuple

from django.utils.translation import gettext_lazy

from core.stored_text import Message

CENT = Decimal("0.01")
ZERO = Decimal(0)
ONE_DAY = dt.timedelta(days=1)


def money(value: Decimal) -> Decimal:
    """Round half-up to 2 decimals (万元): the last step of every computation."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class Uncomputable(ValueError):
    """The amount cannot be computed (a zero denominator, a missing yearly setting): carries the
    reason shown to the applicant and the officer (a core.stored_text.Message: stored, it is shown in
    each reader's language)."""


# --- 1. fee subsidy ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeeLine:
    """One subsidy line of a fee-subsidy scheme (Banan has a general and a rural line)."""

    key: str
    label: str
    points: Decimal  # the subsidy rate: 0.005 = 0.5 percentage point
    fee_rate_max: Decimal  # inclusive: fee ≤ 2 %
    product_lines: tuple[str, ...] = ()  # empty: any product line
    client_types: tuple[str, ...] = ()  # empty: any client type
    single_client_max: Decimal | None = None  # inclusive, 万元, the client's total in the period
    gov_backed_only: bool = False
    govlist_only: bool = False  # the institution on the government-backed list on the period end


class GuaranteeFacts(NamedTuple):
    """What the fee-subsidy rule reads of one guarantee (loaded once, judged in memory). A named tuple:
    one is built per guarantee, 100,000 for a large institution."""

    id: int
    contract_no: str
    guaranteed_amount: Decimal
    fee_rate: Decimal
    start_date: dt.date
    end_date: dt.date
    product_line: str
    client_type: str
    gov_backed: bool
    client_total: Decimal  # the client's guaranteed amount with this institution in the period


@dataclass(slots=True)
class LineResult:
    guarantee_id: int | None
    label: str
    eligible: bool
    reasons: list[str] = field(
        default_factory=list
    )  # fragments kept apart: Messages, stored as msgid + params (core.stored_text)
    line_key: str = ""
    days: int = 0
    base: Decimal = ZERO
    rate: Decimal = ZERO
    amount: Decimal = ZERO  # unrounded


def days_in_period(start: dt.date, end: dt.date, period_start: dt.date, period_end: dt.date) -> int:
    """Days the guarantee is in force within the period: [start, end) against [period_start, period_end]
    (a one-year loan from 1 January to the next 1 January has 365 days in that year)."""
    first = max(start, period_start)
    last_exclusive = min(end, period_end + dt.timedelta(days=1))
    return max((last_exclusive - first).days, 0)


@lru_cache(maxsize=4096)
def _pct(value: Decimal) -> str:
    text = format((value * 100).normalize(), "f")
    return f"{text}%"


NOT_IN_FORCE_MSGID = "期间内未在保"
NOT_IN_FORCE = gettext_lazy(NOT_IN_FORCE_MSGID)


def fee_subsidy_line(
    g: GuaranteeFacts,
    lines: Sequence[FeeLine],
    *,
    period_start: dt.date,
    period_end: dt.date,
    day_basis: int,
    on_govlist: bool,
) -> LineResult:
    """Judge one guarantee against the scheme's lines (the first line it qualifies for pays) and give
    its unrounded amount, or the reasons it qualifies for none."""
    first = g.start_date if g.start_date > period_start else period_start
    last = g.end_date if g.end_date <= period_end else period_end + ONE_DAY
    days = (last - first).days
    if days <= 0:
        return LineResult(g.id, g.contract_no, False, [Message(NOT_IN_FORCE_MSGID)])
    reasons: list[str] = []
    for line in lines:
        # the cheap test first: most guarantees either pass a line outright or fail it on one condition
        if (
            (not line.product_lines or g.product_line in line.product_lines)
            and (not line.client_types or g.client_type in line.client_types)
            and g.fee_rate <= line.fee_rate_max
            and (line.single_client_max is None or g.client_total <= line.single_client_max)
            and (not line.gov_backed_only or g.gov_backed)
            and (not line.govlist_only or on_govlist)
        ):
            amount = g.guaranteed_amount * line.points * days / day_basis
            return LineResult(
                g.id, g.contract_no, True, [], line.key, days, g.guaranteed_amount, line.points, amount
            )
        reasons.extend(_why_not(g, line, on_govlist))
    return LineResult(g.id, g.contract_no, False, reasons, "", days, g.guaranteed_amount)


def fee_subsidy_lines(
    facts: Iterable[GuaranteeFacts | tuple],
    lines: Sequence[FeeLine],
    *,
    period_start: dt.date,
    period_end: dt.date,
    day_basis: int,
    on_govlist: bool,
    excluded: Container[int] = frozenset(),
    excluded_reason: str = "",
) -> list[LineResult]:
    """`fee_subsidy_line` over many guarantees. Which line a guarantee qualifies for (or why none)
    depends only on its product line, client type, fee rate, government-backed flag and whether its
    client's total passes each cap, so the judgement is made once per distinct combination; only the
    days and the amount are per guarantee. Same results as calling fee_subsidy_line on each."""
    caps = sorted({line.single_client_max for line in lines if line.single_client_max is not None})
    judged: dict[tuple, tuple[FeeLine | None, list[str]]] = {}
    after = period_end + ONE_DAY
    out = []
    append = out.append
    # the loop reads the tuple by position (a GuaranteeFacts or a plain row in its field order): the
    # hot path of a 100,000-guarantee application (bench/subsidy_compute.py)
    for g in facts:
        gid, contract, amount, rate, start, end, product, client_type, gov, total = g
        if gid in excluded:
            append(LineResult(gid, contract, False, [excluded_reason]))
            continue
        days = ((end if end < after else after) - (start if start > period_start else period_start)).days
        if days <= 0:
            append(LineResult(gid, contract, False, [Message(NOT_IN_FORCE_MSGID)]))
            continue
        if caps:
            over = tuple(total > cap for cap in caps)
            # a reason about the client's total names it: such guarantees are judged per total
            key = (product, client_type, rate, gov, over, total if any(over) else None)
        else:
            key = (product, client_type, rate, gov)
        verdict = judged.get(key)
        if verdict is None:
            verdict = judged[key] = _judge(GuaranteeFacts._make(g), lines, on_govlist)
        line, reasons = verdict
        if line is None:
            append(LineResult(gid, contract, False, reasons, "", days, amount))
        else:
            append(
                LineResult(
                    gid,
                    contract,
                    True,
                    [],
                    line.key,
                    days,
                    amount,
                    line.points,
                    amount * line.points * days / day_basis,
                )
            )
    return out


class FeeGroup(NamedTuple):
    """Guarantees alike in everything the judgement reads, summed (what the database groups on
    PostgreSQL): `facts` carries the shared values (its id, label, amount and dates are not read);
    `amount_days` is Σ guaranteed amount × days in force of the group."""

    facts: GuaranteeFacts
    count: int
    amount_days: Decimal


@dataclass
class FeeTotal:
    guarantees: int
    eligible: int
    unrounded: Decimal
    amount: Decimal
    capped: bool


def fee_subsidy_sum(
    groups: Iterable[FeeGroup],
    lines: Sequence[FeeLine],
    *,
    day_basis: int,
    on_govlist: bool,
    institution_cap: Decimal | None,
    ineligible: int = 0,
) -> tuple[FeeTotal, dict[tuple, tuple[FeeLine | None, list[str]]]]:
    """The fee subsidy from grouped guarantees: each group judged once as `fee_subsidy_line` judges one
    of its guarantees, Σ points × Σ(amount × days) of the eligible groups ÷ the day basis, rounded once
    (the same amount as Σ of the lines: points × amount × days / basis is linear in amount × days).
    `ineligible` counts guarantees judged elsewhere (not in force, claimed elsewhere). Returns the total
    and the verdict per group key (its facts' product line, client type, fee rate, gov flag, total)."""
    numerator = ZERO
    count = ineligible
    eligible = 0
    verdicts: dict[tuple, tuple[FeeLine | None, list[str]]] = {}
    for group in groups:
        g = group.facts
        key = (g.product_line, g.client_type, g.fee_rate, g.gov_backed, g.client_total)
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = verdicts[key] = _judge(g, lines, on_govlist)
        count += group.count
        line = verdict[0]
        if line is not None:
            eligible += group.count
            numerator += line.points * group.amount_days
    unrounded = numerator / day_basis
    total = money(unrounded)
    capped = institution_cap is not None and total > institution_cap
    if capped:
        total = money(institution_cap)
    return FeeTotal(count, eligible, unrounded, total, capped), verdicts


def _judge(g: GuaranteeFacts, lines: Sequence[FeeLine], on_govlist: bool) -> tuple[FeeLine | None, list[str]]:
    reasons: list[str] = []
    for line in lines:
        why = _why_not(g, line, on_govlist)
        if not why:
            return line, []
        reasons.extend(why)
    return None, reasons


def _why_not(g: GuaranteeFacts, line: FeeLine, on_govlist: bool) -> list[str]:
    why = []
    if line.product_lines and g.product_line not in line.product_lines:
        why.append(Message("%(label)s：业务品种不符", label=line.label))
    if line.client_types and g.client_type not in line.client_types:
        why.append(Message("%(label)s：客户类型不符", label=line.label))
    if g.fee_rate > line.fee_rate_max:
        rate, limit = _pct(g.fee_rate), _pct(line.fee_rate_max)
        why.append(Message("%(label)s：费率%(rate)s高于%(limit)s", label=line.label, rate=rate, limit=limit))
    if line.single_client_max is not None and g.client_total > line.single_client_max:
        why.append(
            Message(
                "%(label)s：单户担保金额%(client_total)s万元超过%(single_client_max)s万元",
                label=line.label,
                client_total=g.client_total,
                single_client_max=line.single_client_max,
            )
        )
    if line.gov_backed_only and not g.gov_backed:
        why.append(Message("%(label)s：非政府性融资担保业务", label=line.label))
    if line.govlist_only and not on_govlist:
        why.append(Message("%(label)s：机构不在政府性融资担保机构名单", label=line.label))
    return why


def fee_subsidy_total(results: Sequence[LineResult], institution_cap: Decimal | None) -> tuple[Decimal, bool]:
    """Σ eligible amounts, rounded once; (amount, capped) where a per-institution cap applies."""
    total = money(sum((r.amount for r in results if r.eligible), ZERO))
    if institution_cap is not None and total > institution_cap:
        return money(institution_cap), True
    return total, False


# --- 2. fee-reduction award -------------------------------------------------------------------------


@dataclass(frozen=True)
class CoefficientBand:
    rate_max: Decimal  # inclusive upper bound of the annualised fee rate
    coefficient: Decimal


def award_coefficient(rate: Decimal, bands: Sequence[CoefficientBand]) -> Decimal | None:
    """The coefficient of the lowest band holding `rate`; None above every band (ineligible)."""
    for band in sorted(bands, key=lambda b: b.rate_max):
        if rate <= band.rate_max:
            return band.coefficient
    return None


@dataclass
class AwardShare:
    key: object
    amount: Decimal  # new small/micro annualised guarantee amount
    rate: Decimal | None  # annualised fee rate; None when the amount is zero (undefined)
    coefficient: Decimal | None
    weighted: Decimal
    award: Decimal  # rounded


def award_allocation(
    pool: Decimal, entries: Mapping[object, tuple[Decimal, Decimal | None]], bands: Sequence[CoefficientBand]
) -> list[AwardShare]:
    """pool × weighted / Σ weighted over the eligible; an undefined rate or a rate above every band
    gets 0. Each award is rounded at the end (so the rounded awards may differ from the pool by cents)."""
    shares = []
    for key, (amount, rate) in entries.items():
        coefficient = award_coefficient(rate, bands) if rate is not None and amount > 0 else None
        weighted = amount * coefficient if coefficient is not None else ZERO
        shares.append(AwardShare(key, amount, rate, coefficient, weighted, ZERO))
    total = sum((s.weighted for s in shares), ZERO)
    for s in shares:
        s.award = money(pool * s.weighted / total) if total > 0 else money(ZERO)
    return shares


# --- 3. risk compensation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CompensationBand:
    upper: Decimal  # the band's upper bound of the compensation rate
    share: Decimal  # share of the compensation paid back
    upper_inclusive: bool = False  # 5%–8% (含): the last band includes its bound


@dataclass
class CompensationResult:
    rate: Decimal
    marginal: Decimal
    whole: Decimal
    slices: list[tuple[Decimal, Decimal, Decimal, Decimal]]  # (from rate, to rate, slice, paid) unrounded
    whole_band_share: Decimal
    whole_base: Decimal


def risk_compensation(
    *, released: Decimal, compensation: Decimal, bands: Sequence[CompensationBand]
) -> CompensationResult:
    """Both methods at once. The cap is the last band's upper bound; nothing above it is paid.

    marginal: the compensation is cut at each band's bound (a rate bound × released), each slice paid at
    its band's share; whole: the compensation up to the cap, at the share of the band of the total rate.
    Released 0 → Uncomputable (the rate is undefined, never 0)."""
    if released <= 0:
        raise Uncomputable(Message("解保额为零，代偿率无法计算，不能核定补偿额"))
    ordered = sorted(bands, key=lambda b: b.upper)
    rate = compensation / released
    slices = []
    lower = ZERO
    marginal = ZERO
    for band in ordered:
        slice_amount = max(min(compensation, band.upper * released) - lower * released, ZERO)
        paid = slice_amount * band.share
        slices.append((lower, band.upper, slice_amount, paid))
        marginal += paid
        lower = band.upper
    cap = ordered[-1].upper
    whole_base = min(compensation, cap * released)
    capped_rate = min(rate, cap)
    share = ZERO
    for band in ordered:
        if capped_rate < band.upper or (band.upper_inclusive and capped_rate <= band.upper):
            share = band.share
            break
    return CompensationResult(
        rate=rate,
        marginal=money(marginal),
        whole=money(whole_base * share),
        slices=slices,
        whole_band_share=share,
        whole_base=whole_base,
    )


# --- budget -----------------------------------------------------------------------------------------


def pro_rata_factor(*, budget: Decimal, committed: Decimal, requested: Decimal) -> Decimal | None:
    """The factor that scales every approval of the year so their total stays within the budget: None
    when everything fits. `committed` + `requested` is the total asked for (already approved included)."""
    total = committed + requested
    if total <= budget:
        return None
    return budget / total if total > 0 else ZERO
