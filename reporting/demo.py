"""Demo filings: 8 quarters, 2024Q4–2026Q3 (fixed, so the data do not depend on the day the seed runs),
for every demo institution, and the year's earlier quarters 2024Q1–Q3 (`history`: accepted, derived from
2024Q4, a few late, two missing). Deterministic (one RNG per institution, seeded by its credit code),
re-runnable (a re-run over identical data changes nothing; otherwise the demo periods are deleted
and rebuilt) and fast (bulk inserts).

The numbers are internally consistent: the balance-sheet identity, fin_balance roll-forward,
compensation roll-forward, year-start = prior Q4, YTD flows monotonic within a year, cumulative
figures monotonic, sub-items ≤ totals, counts ≤ counts. They spread the indicators: leverage about 1–14.5×
(four above the 10× cap in 2026Q2), average fee rate 0.6–2.4 % drifting down 2 % a quarter, compensation
rate 0.3–7 % drifting up 4 % a quarter, support share 76–96 %, a few single-client concentrations above
10 % of net assets, one guarantee to a controlling shareholder (explained), one reported liability
balance off the computed one (a data-quality finding); every other company reports the weighted
liability balance as the parameters give it.

Lifecycle mix: most filings accepted; some late; in 2026Q3 some still submitted (queue), returned
with comments, in draft, or missing; a few accepted filings amended (version 2 with a reason); two
mutual-aid institutions file nil returns from 2026Q1; one institution misses 2026Q1 as well.

Bulk inserts send no filing_submitted/filing_accepted signals: dependent demo data (indicators) are
computed from the stored versions after this seed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.roles import Role

from . import services, validation
from .choices import Channel, FilingStatus
from .models import Filing, FilingVersion, ReviewParameter
from .periods import Period
from .selectors import review_points

# The eight quarters up to 2026Q3, the last one whose deadline has passed when this demo was written.
FIRST, LAST = Period(2024, 4), Period(2026, 3)
CENT = Decimal("0.01")


def demo_periods() -> list[Period]:
    out, p = [], FIRST
    while p <= LAST:
        out.append(p)
        p = p.next()
    return out


# The quarters of 2024 before the full series: accepted filings derived from 2024Q4 (`history`), so the
# completeness boards of a whole year look like a real province's (mostly on time, a few late, two missing).
HISTORY = [Period(2024, 1), Period(2024, 2), Period(2024, 3)]
HISTORY_MISSING = {(70, HISTORY[0]), (47, HISTORY[1])}  # by position in the award list
YTD_MONEY = (
    "operating_income",
    "guarantee_fee_income",
    "fin_fee_income",
    "extra_charges",
    "net_profit",
    "compensation_reserve_provision",
    "fin_new",
    "fin_released",
    "nonfin_new",
    "small_micro_agri_new",
    "new_single_le5m",
    "new_single_le10m",
    "annualized_new_amount",
    "annualized_new_amount_le5m",
    "fee_new_le5m",
    "annualized_new_amount_gt5m",
    "fee_new_gt5m",
    "compensation",
    "recovery",
    "loss_writeoff",
)
YTD_COUNTS = ("new_clients", "small_micro_agri_new_clients", "first_loan_clients", "compensation_count")
WITH_THE_BALANCE = (  # stocks that move with the guarantee balance
    "loan_balance",
    "loan_small_micro_le5m",
    "loan_farmer_le2m",
    "loan_housing",
    "bond_balance",
    "bond_aa_balance",
    "nonfin_balance",
    "small_micro_balance",
    "agri_balance",
    "farmer_small_micro_balance",
    "bank_credit_line",
    "bank_shared_balance",
    "bank_risk_amount",
    "reguarantee_balance",
    "batch_zdz_balance",
)
COUNTS_WITH_THE_BALANCE = (
    "fin_inforce_count",
    "fin_inforce_clients",
    "small_micro_agri_clients",
    "farmer_small_micro_clients",
)


def history(q4: dict[str, str], *, liability_on, liability_gap=0) -> dict[Period, dict[str, str]]:
    """The 2024 quarters before Q4 (pure), from the 2024Q4 values: year-to-date flows at 1/4, 2/4, 3/4 of
    the year's, the balances rolled forward from the same year-start balances, the stocks that move
    with the guarantee balance in proportion to it, the balance sheet as at Q4. Each quarter passes the
    rules (roll-forwards, sub-items ≤ totals, flows never falling within the year) and 2024Q4 follows
    from 2024Q3 as the rules require."""
    v4 = {k: Decimal(x) for k, x in q4.items()}
    out = {}
    for p in HISTORY:
        share = Decimal(p.quarter) / 4
        v = dict(v4)
        for code in YTD_MONEY:
            v[code] = _d(v4[code] * share)
        for code in YTD_COUNTS:
            v[code] = int(v4[code] * share)
        v["fin_balance"] = v["fin_balance_opening"] + v["fin_new"] - v["fin_released"]
        v["compensation_receivable"] = (
            v["compensation_balance_opening"] + v["compensation"] - v["recovery"] - v["loss_writeoff"]
        )
        v["compensation_cumulative"] = v4["compensation_cumulative"] - v4["compensation"] + v["compensation"]
        v["released_cumulative"] = v4["released_cumulative"] - v4["fin_released"] + v["fin_released"]
        ratio = v["fin_balance"] / v4["fin_balance"]
        for code in WITH_THE_BALANCE:
            v[code] = _d(v4[code] * ratio)
        for code in COUNTS_WITH_THE_BALANCE:
            v[code] = int(v4[code] * ratio)
        v["other_fin_balance"] = v["fin_balance"] - v["loan_balance"] - v["bond_balance"]
        v["fin_liability_reported"] = liability_on(v, p.end) + Decimal(liability_gap)
        counts = set(YTD_COUNTS) | set(COUNTS_WITH_THE_BALANCE) | {"partner_banks", "staff_count"}
        out[p] = {k: (_n(x) if k in counts else _s(x)) for k, x in v.items()}
    return out


def filers(institutions) -> list:
    """The legal entities among `institutions` obliged to file in every demo quarter (operating, with a
    licence in force at each quarter end), in the given order: `seed` writes all the quarters for each.
    Cross-province branches report to their own provinces; holders of a cancelled or revoked licence
    file nothing after it ended."""
    from .selectors import obliged_institutions

    obliged = set.intersection(
        *(set(obliged_institutions(p).values_list("pk", flat=True)) for p in demo_periods())
    )
    return [i for i in institutions if i.kind == "legal_entity" and i.pk in obliged]


def _rng(key: str) -> random.Random:
    return random.Random(int(hashlib.sha256(key.encode()).hexdigest()[:16], 16))


def _d(x) -> Decimal:
    return Decimal(str(x)).quantize(CENT, rounding=ROUND_HALF_UP)


def _s(x) -> str:
    return str(_d(x))


def _n(x) -> str:
    return str(int(x))


def series(
    key: str, paid_in: Decimal, *, liability_on, profile: dict | None = None
) -> dict[Period, dict[str, str]]:
    """One institution's 8 quarters of values (pure). `liability_on(values, day)` gives the weighted
    liability balance under the parameters in force (supervision's formula, passed in: reporting does not
    import supervision): the company reports the balance those weights give."""
    rng = _rng(key)
    profile = profile or {}
    paid_in = Decimal(paid_in)
    leverage = Decimal(str(profile.get("leverage", round(rng.uniform(0.6, 8.5), 2))))
    fee_rate = Decimal(str(profile.get("fee_rate", round(rng.uniform(0.006, 0.024), 4))))
    comp_rate = Decimal(str(profile.get("comp_rate", round(rng.uniform(0.003, 0.05), 4))))
    top1_share = Decimal(str(profile.get("top1_share", round(rng.uniform(0.02, 0.09), 3))))
    # Own stream, so the other draws (and the stories pinned on them) stay as they were.
    support_share = Decimal(str(round(_rng(key + "support").uniform(0.76, 0.96), 3)))
    growth = [Decimal(str(round(rng.uniform(-0.03, 0.07), 4))) for _ in range(8)]
    avg_size = Decimal(rng.choice([150, 220, 300, 450, 600, 800]))
    net_assets = _d(paid_in * Decimal(str(round(rng.uniform(1.02, 1.25), 3))))
    balance = _d(net_assets * leverage)
    comp_receivable = _d(balance * Decimal("0.004"))
    comp_cum = _d(comp_receivable * 6)
    released_cum = _d(balance * Decimal("2.5"))
    out = {}
    ytd = {}
    opening = {}
    for i, p in enumerate(demo_periods()):
        if p.quarter == 1 or i == 0:  # the series opens mid-year: its first year counts from there
            ytd = dict.fromkeys(
                (
                    "new",
                    "released",
                    "comp",
                    "comp_n",
                    "recovery",
                    "writeoff",
                    "op_income",
                    "fee_fin",
                    "fee_nonfin",
                    "nonfin_new",
                    "profit",
                    "provision",
                    "new_clients",
                    "first",
                    "smagri_new",
                    "le5",
                    "le10",
                    "annual",
                    "annual_le5",
                    "fee_le5",
                    "annual_gt5",
                    "fee_gt5",
                    "smagri_new_cl",
                ),
                Decimal(0),
            )
            opening = {"fin": balance, "comp": comp_receivable}
        prev_balance = balance
        balance = _d(prev_balance * (1 + growth[i]))
        new_q = _d(
            max(prev_balance * Decimal("0.22"), balance - prev_balance + prev_balance * Decimal("0.08"))
        )
        released_q = prev_balance + new_q - balance
        ytd["new"] += new_q
        ytd["released"] += released_q
        # Fee rates drift down under the fee-reduction policy, defaults drift up: the trends are visible.
        fee_rate_q = fee_rate * (1 - Decimal("0.02") * i)
        comp_q = _d(released_q * comp_rate * (1 + Decimal("0.04") * i))
        rec_q = _d(comp_q * Decimal("0.3"))
        wo_q = _d(comp_q * Decimal("0.1"))
        ytd["comp"] += comp_q
        ytd["comp_n"] += max(Decimal(1), (comp_q / avg_size).to_integral_value()) if comp_q > 0 else 0
        ytd["recovery"] += rec_q
        ytd["writeoff"] += wo_q
        comp_receivable = opening["comp"] + ytd["comp"] - ytd["recovery"] - ytd["writeoff"]
        comp_cum += comp_q
        released_cum += released_q
        annual_q = _d(new_q * Decimal("0.85"))
        le5_share = Decimal(str(round(rng.uniform(0.45, 0.8), 3)))
        annual_le5_q = _d(annual_q * le5_share)
        fee_le5_q = _d(annual_le5_q * fee_rate_q * Decimal("0.9"))
        fee_gt5_q = _d((annual_q - annual_le5_q) * fee_rate_q * Decimal("1.15"))
        ytd["annual"] += annual_q
        ytd["annual_le5"] += annual_le5_q
        ytd["annual_gt5"] += annual_q - annual_le5_q
        ytd["fee_le5"] += fee_le5_q
        ytd["fee_gt5"] += fee_gt5_q
        ytd["fee_fin"] += fee_le5_q + fee_gt5_q
        nonfin_new_q = _d(new_q * Decimal("0.15"))
        ytd["nonfin_new"] += nonfin_new_q
        ytd["fee_nonfin"] += _d(nonfin_new_q * Decimal("0.005"))
        ytd["op_income"] += _d((fee_le5_q + fee_gt5_q) * Decimal("1.25") + nonfin_new_q * Decimal("0.005"))
        ytd["provision"] += _d(new_q * Decimal("0.001"))
        profit_q = _d(net_assets * Decimal(str(round(rng.uniform(-0.004, 0.012), 4))))
        ytd["profit"] += profit_q
        net_assets = _d(net_assets + profit_q)
        ytd["le5"] += _d(new_q * le5_share)
        ytd["le10"] += _d(new_q * min(Decimal("0.97"), le5_share + Decimal("0.15")))
        ytd["smagri_new"] += _d(new_q * support_share)
        clients_q = int(new_q / avg_size) + 1
        ytd["new_clients"] += clients_q
        ytd["smagri_new_cl"] += int(clients_q * 0.8)
        ytd["first"] += int(clients_q * 0.15)
        count = int(balance / avg_size) + 1
        clients = int(count * 0.86) + 1
        loan = _d(balance * Decimal("0.8"))
        bond = _d(balance * Decimal("0.12"))
        unearned = _d(ytd["fee_fin"] * Decimal("0.5") + balance * Decimal("0.002"))
        comp_reserve = _d(balance * Decimal("0.012"))
        margin_recv = _d(balance * Decimal("0.01"))
        other_liab = _d(net_assets * Decimal("0.05"))
        liabilities = unearned + comp_reserve + margin_recv + other_liab
        total_assets = net_assets + liabilities
        equity_inv = _d(total_assets * Decimal("0.06"))
        margin_paid = _d(balance * Decimal("0.02"))
        cash = total_assets - equity_inv - margin_paid - comp_receivable - _d(total_assets * Decimal("0.1"))
        top1 = _d(net_assets * top1_share)
        bank_shared = _d(loan * Decimal("0.5"))
        v = {
            "total_assets": total_assets,
            "monetary_funds": cash,
            "margin_deposits_paid": margin_paid,
            "compensation_receivable": comp_receivable,
            "equity_investments": equity_inv,
            "equity_in_guarantee_companies": _d(equity_inv * Decimal("0.3")),
            "entrusted_loans": Decimal(0),
            "assets_class_1": _d(total_assets * Decimal("0.45")),
            "assets_class_2": _d(total_assets * Decimal("0.35")),
            "assets_class_3": _d(total_assets * Decimal("0.2")),
            "total_liabilities": liabilities,
            "margin_deposits_received": margin_recv,
            "unearned_reserve": unearned,
            "compensation_reserve": comp_reserve,
            "net_assets": net_assets,
            "paid_in_capital": paid_in,
            "general_risk_reserve": _d(net_assets * Decimal("0.02")),
            "operating_income": ytd["op_income"],
            "guarantee_fee_income": ytd["fee_fin"] + ytd["fee_nonfin"],
            "fin_fee_income": ytd["fee_fin"],
            "extra_charges": Decimal(0),
            "net_profit": ytd["profit"],
            "compensation_reserve_provision": ytd["provision"],
            "fin_balance_opening": opening["fin"],
            "fin_new": ytd["new"],
            "fin_released": ytd["released"],
            "fin_balance": balance,
            "loan_balance": loan,
            "loan_small_micro_le5m": _d(loan * Decimal("0.5")),
            "loan_farmer_le2m": _d(loan * Decimal("0.1")),
            "loan_housing": _d(loan * Decimal("0.03")),
            "bond_balance": bond,
            "bond_aa_balance": _d(bond * Decimal("0.9")),
            "other_fin_balance": balance - loan - bond,
            "nonfin_balance": _d(balance * Decimal("0.2")),
            "nonfin_new": ytd["nonfin_new"],
            "small_micro_balance": _d(balance * Decimal("0.6")),
            "agri_balance": _d(balance * Decimal("0.2")),
            "farmer_small_micro_balance": _d(balance * Decimal("0.65")),
            "small_micro_agri_new": ytd["smagri_new"],
            "new_single_le5m": ytd["le5"],
            "new_single_le10m": ytd["le10"],
            "annualized_new_amount": ytd["annual"],
            "annualized_new_amount_le5m": ytd["annual_le5"],
            "fee_new_le5m": ytd["fee_le5"],
            "annualized_new_amount_gt5m": ytd["annual_gt5"],
            "fee_new_gt5m": ytd["fee_gt5"],
            "compensation": ytd["comp"],
            "compensation_balance_opening": opening["comp"],
            "recovery": ytd["recovery"],
            "loss_writeoff": ytd["writeoff"],
            "compensation_cumulative": comp_cum,
            "released_cumulative": released_cum,
            "overdue_uncompensated": _d(comp_q * Decimal("0.05")),
            "top1_client_liability": top1,
            "top1_group_liability": _d(top1 * Decimal("1.3")),
            "top10_clients_liability": _d(top1 * Decimal("6")),
            "related_party_balance": Decimal(0),
            "controller_guarantee_balance": Decimal(profile.get("controller", 0)),
            "bank_credit_line": _d(balance * Decimal("2")),
            "bank_shared_balance": bank_shared,
            "bank_risk_amount": _d(bank_shared * Decimal(str(round(rng.uniform(0.1, 0.3), 3)))),
            "reguarantee_balance": _d(balance * Decimal("0.3")),
            "batch_zdz_balance": _d(balance * Decimal("0.15")),
        }
        # Reported as the weights give it, give or take a profile's deliberate gap (a DQ-01 finding).
        v["fin_liability_reported"] = liability_on(v, p.end) + Decimal(profile.get("liability_gap", 0))
        values = {k: _s(x) for k, x in v.items()}
        values.update(
            {
                "fin_inforce_count": _n(count),
                "fin_inforce_clients": _n(clients),
                "small_micro_agri_clients": _n(clients * 0.75),
                "farmer_small_micro_clients": _n(clients * 0.8),
                "new_clients": _n(ytd["new_clients"]),
                "small_micro_agri_new_clients": _n(ytd["smagri_new_cl"]),
                "first_loan_clients": _n(ytd["first"]),
                "compensation_count": _n(ytd["comp_n"]),
                "partner_banks": _n(5 + rng.randint(0, 20)),
                "staff_count": _n(12 + rng.randint(0, 60)),
            }
        )
        out[p] = values
    return out


# Which institutions (by position in the award list) get which story.
PROFILES = {
    3: {"leverage": 11.5},
    17: {"leverage": 12.8},
    41: {"leverage": 10.6},  # above the 10× cap (LEV-01)
    8: {"top1_share": 0.13},
    29: {"top1_share": 0.16},  # single-client concentration > 10 % (CON-01)
    12: {"fee_rate": 0.028},
    33: {"fee_rate": 0.019},  # fee rate above 1 % / 1.5 % (FEE-01/02)
    22: {"comp_rate": 0.07},
    51: {"comp_rate": 0.062},  # compensation rate above 5 %
    60: {"controller": 500},  # prohibited guarantee to the controlling shareholder (explained warning)
    45: {"liability_gap": 120},  # reported liability balance off the computed one (DQ-01 data quality)
}
MISSING_LAST = {5, 26, 47, 70}
_P = demo_periods()  # lifecycle events are placed by position in the series
MISSING_EXTRA = {70: _P[5]}
RETURNED_LAST = {9, 38, 64}
SUBMITTED_LAST = {2, 11, 19, 27, 35, 44, 52, 58, 60, 66, 73, 80, 86}
DRAFT_LAST = {14, 77}
AMENDED = {
    (6, _P[5]): "审计调整：净利润与担保赔偿准备金更正",
    (31, _P[6]): "补录遗漏的非融资担保业务",
    (55, _P[3]): "年报审计后调整资产负债数据",
}
RETURNED_EARLIER = {(15, _P[6]), (40, _P[4]), (62, _P[2])}
NIL_FROM = _P[5]
NIL_INSTITUTIONS = {24, 68}


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


@transaction.atomic
def seed(institutions, *, liability_on, before_replace=None) -> dict:
    """Create the demo filings of FIRST–LAST for `institutions` (the award-list order). `liability_on` as
    in `series`; `before_replace(filings)` lets a higher app drop what it keeps on filings about to be
    rebuilt (supervision's indicator runs hold their version)."""
    periods = HISTORY + demo_periods()
    template = services.template_for(LAST)
    codes = list(template.fields.order_by("order").values_list("code", flat=True))
    inst_ids = [i.pk for i in institutions]
    users = {
        u.institution_id: u for u in User.objects.filter(institution_id__in=inst_ids, role=Role.APPROVER)
    }
    makers = {u.institution_id: u for u in User.objects.filter(institution_id__in=inst_ids, role=Role.FILER)}
    reviewer = User.objects.filter(role=Role.REGULATOR, region_id="510000").first()
    rules = {p: services.rule_specs(p.end) for p in periods}
    rulesets = {p: validation.ruleset_version(r) for p, r in rules.items()}
    due_rows = services.due_settings()
    review_rows = list(ReviewParameter.objects.all())
    filings, versions_by_key = [], {}
    stats = {"filings": 0, "versions": 0, "late": 0, "missing": 0, "nil": 0, "returned": 0, "amended": 0}
    for n, inst in enumerate(institutions, start=1):
        data = series(
            inst.credit_code, inst.paid_in_capital, liability_on=liability_on, profile=PROFILES.get(n)
        )
        data |= history(
            data[FIRST],
            liability_on=liability_on,
            liability_gap=(PROFILES.get(n) or {}).get("liability_gap", 0),
        )
        nil_inst = n in NIL_INSTITUTIONS
        rng = _rng(inst.credit_code + "life")
        early = _rng(
            inst.credit_code + "history"
        )  # its own stream: the later quarters' draws stay as they were
        prev_values = None
        for p in periods:
            last = p == LAST
            if (last and n in MISSING_LAST) or MISSING_EXTRA.get(n) == p or (n, p) in HISTORY_MISSING:
                stats["missing"] += 1
                prev_values = None  # the next quarter is checked against this (missing) one, as services do
                continue
            nil = nil_inst and p >= NIL_FROM
            values = {} if nil else data[p]
            due = services.due_date(inst.region_id, p, due_rows)
            draw = early if p < FIRST else rng
            late = draw.random() < 0.1
            submitted_day = (
                due + dt.timedelta(days=draw.randint(1, 12))
                if late
                else due - dt.timedelta(days=draw.randint(0, 12))
            )
            submitted_at = _at(submitted_day, 9 + draw.randint(0, 8))
            if last and n in DRAFT_LAST:
                status = FilingStatus.DRAFT
            elif last and n in RETURNED_LAST:
                status = FilingStatus.RETURNED
            elif last and n in SUBMITTED_LAST:
                status = FilingStatus.SUBMITTED
            else:
                status = FilingStatus.ACCEPTED
            prior_q4 = data.get(p.prior_year_end())
            findings = validation.evaluate(
                rules[p],
                services._dec(values),
                quarter=p.quarter,
                template_codes=codes,
                previous=services._dec(prev_values) if prev_values else None,
                prior_year_end=services._dec(prior_q4) if prior_q4 else None,
                nil_return=nil,
            )
            if validation.blocking(findings):
                raise RuntimeError(
                    f"demo data inconsistent: {inst.name} {p}: {[f.message_en for f in findings]}"
                )
            explanations = {
                f.rule_id: "经核实数据无误："
                + ("历史存量业务，正在压降。" if f.rule_id == "BND-31" else "业务调整所致。")
                for f in findings
            }
            if not nil:
                prev_values = values
            filing = Filing(
                institution=inst,
                year=p.year,
                quarter=p.quarter,
                template=template,
                status=status,
                due_date=due,
                first_submitted_at=None if status == FilingStatus.DRAFT else submitted_at,
                accepted_at=submitted_at + dt.timedelta(days=3) if status == FilingStatus.ACCEPTED else None,
                risk_score=services.risk_score(
                    findings, explanations, review_points(inst.region_id, submitted_day, review_rows)
                ),
                warning_count=len(findings),
            )
            filings.append(filing)
            stats["filings"] += 1
            stats["late"] += late and status != FilingStatus.DRAFT
            stats["nil"] += nil
            maker, checker = makers.get(inst.pk), users.get(inst.pk)
            vlist = []

            def version(
                number,
                vals,
                *,
                frozen=True,
                reason="",
                comments=None,
                at=submitted_at,
                _maker=maker,
                _checker=checker,
                _nil=nil,
                _p=p,
                _findings=findings,
                _exp=explanations,
            ):
                fv = FilingVersion(
                    number=number,
                    values=vals,
                    nil_return=_nil,
                    reason=reason,
                    created_by=_maker,
                    channel=Channel.WEB if number % 2 else Channel.EXCEL,
                    review_comments=comments or {},
                )
                if frozen:
                    fv.submitted_at, fv.submitted_by = at, _checker
                    fv.ruleset_version = rulesets[_p]
                    fv.values_hash = fv.compute_hash()
                    fv.findings = [f.as_dict() for f in _findings]
                    fv.explanations = _exp
                    if comments:
                        fv.reviewed_at, fv.reviewed_by = at + dt.timedelta(days=2), reviewer
                return fv

            if status == FilingStatus.DRAFT:
                vlist.append(version(1, values, frozen=False))
            elif status == FilingStatus.RETURNED:
                wrong = {**values, "staff_count": "0"} if values else values
                vlist.append(
                    version(
                        1,
                        wrong,
                        comments={"staff_count": "从业人员数填报为0，请核实", "_": "请核实后重新报送"},
                    )
                )
                stats["returned"] += 1
            elif (n, p) in RETURNED_EARLIER:
                wrong = {**values, "staff_count": "0"} if values else values
                vlist.append(version(1, wrong, comments={"staff_count": "从业人员数填报为0，请核实"}))
                vlist.append(version(2, values, at=submitted_at + dt.timedelta(days=4)))
                stats["returned"] += 1
            elif (n, p) in AMENDED:
                first = dict(values)
                if first:
                    first["net_profit"] = _s(Decimal(first["net_profit"]) + 12)
                    first["net_assets"] = _s(Decimal(first["net_assets"]) + 12)
                    first["total_assets"] = _s(Decimal(first["total_assets"]) + 12)
                    first["monetary_funds"] = _s(Decimal(first["monetary_funds"]) + 12)
                vlist.append(version(1, first))
                vlist.append(
                    version(2, values, reason=AMENDED[(n, p)], at=submitted_at + dt.timedelta(days=40))
                )
                stats["amended"] += 1
            else:
                vlist.append(version(1, values))
            versions_by_key[len(filings) - 1] = vlist
    existing = Filing.objects.filter(institution_id__in=inst_ids, year__in={p.year for p in periods})
    planned = sorted(
        (
            f.institution_id,
            f.year,
            f.quarter,
            f.status,
            tuple((v.number, v.compute_hash(), v.reason) for v in versions_by_key[i]),
        )
        for i, f in enumerate(filings)
    )
    stored = sorted(
        (
            f.institution_id,
            f.year,
            f.quarter,
            f.status,
            tuple(
                (v.number, v.compute_hash(), v.reason)
                for v in sorted(f.versions.all(), key=lambda v: v.number)
            ),
        )
        for f in existing.prefetch_related("versions")
    )
    if planned == stored:  # a re-run over the same demo data changes nothing (and adds no audit rows)
        stats["versions"] = sum(len(v) for v in versions_by_key.values())
        return stats
    if before_replace:
        before_replace(existing)
    existing.update(current_version=None)
    FilingVersion.objects.filter(filing__in=existing).delete()
    existing.delete()
    Filing.objects.bulk_create(filings, batch_size=500)
    all_versions = []
    for idx, vlist in versions_by_key.items():
        for v in vlist:
            v.filing = filings[idx]
            all_versions.append(v)
    FilingVersion.objects.bulk_create(all_versions, batch_size=500)
    for idx, vlist in versions_by_key.items():
        filings[idx].current_version = vlist[-1]
    Filing.objects.bulk_update(filings, ["current_version"], batch_size=500)
    _audit(filings, versions_by_key)
    stats["versions"] = len(all_versions)
    return stats


def _audit(filings, versions_by_key):
    """One audit row per demo filing saying what the seed recorded (the trail is append-only, so a
    re-run adds rows for the new filings; the old ones keep theirs). The note is stored messages
    (core.stored_text), read in each reader's language."""
    from django.contrib.contenttypes.models import ContentType

    from core.models import AuditEvent
    from core.stored_text import Message, store

    ct = ContentType.objects.get_for_model(Filing)
    rows = []
    for idx, f in enumerate(filings):
        steps = []
        for v in versions_by_key[idx]:
            if v.submitted_at:
                step = Message(
                    "第%(number)s版报送于%(at)s",
                    number=v.number,
                    at=f"{timezone.localtime(v.submitted_at):%Y-%m-%d %H:%M}",
                )
                if v.reason:  # the demo's own reasons are in the catalogue; any other as typed
                    reason = Message(v.reason) if v.reason in AMENDED.values() else v.reason
                    step = Message("%(step)s（更正原因：%(reason)s）", step=step, reason=reason)
                if v.review_comments:
                    step = Message("%(step)s，被退回", step=step)
                steps.append(step)
            else:
                steps.append(Message("第%(number)s版草稿", number=v.number))
        if f.accepted_at:
            steps.append(Message("受理于%(on)s", on=f"{timezone.localtime(f.accepted_at):%Y-%m-%d}"))
        first, *rest = steps or [""]
        rows.append(
            AuditEvent(
                actor=None,
                actor_label="演示数据",
                action=AuditEvent.Action.CREATE,
                content_type=ct,
                object_id=str(f.pk),
                object_repr=f"{f.institution.name} {f.period.label}"[:300],
                changes={},
                note=store(Message("演示数据导入：%(step)s", step=first), *rest),
            )
        )
    AuditEvent.objects.bulk_create(rows, batch_size=500)
