"""Each guarantee under a bank–guarantee agreement (银担合作协议) checked against the agreement's terms.

The rules (`judge`) are pure — Decimal and dates in, findings out — and compare exact values; the one
query (`agreement_guarantee_findings`) reads the agreement's guarantees with their balance on the day,
their compensations and each client's total under the agreement.

AGR-G1 期限   the guarantee starts within the agreement's term (starts_on … ends_on).
AGR-G2 银行   its lender is the agreement's bank.
AGR-G3 银行分险 the bank keeps its share: guaranteed amount ≤ loan amount × (1 − bank share).
AGR-G4 再担保  the re-guarantee and National Fund shares on the guarantee are the agreement's.
AGR-G5 代偿范围 a compensation under a principal-only agreement carries no interest.
AGR-G6 宽限期  on the day of the check, a guarantee still in force more than `grace_days` after its
              end date is overdue beyond the grace period (the guarantor should have paid or been released).
AGR-G7 单户上限 a client's total guaranteed amount in force under the agreement ≤ the single-client limit.

The margin (保证金比例) is a deposit of the guarantor with the bank, not a term of each guarantee: the
page shows the margin the in-force balance calls for (`required_margin`), which no record contradicts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.db.models import Sum

from institutions.choices import CompensationScope
from institutions.models import Agreement

from .choices import EventKind
from .models import Guarantee, GuaranteeEvent

CENT = Decimal("0.01")
RULES = {
    "AGR-G1": ("期限", "term"),
    "AGR-G2": ("贷款银行", "bank"),
    "AGR-G3": ("银行分险比例", "bank share"),
    "AGR-G4": ("再担保分险比例", "re-guarantee shares"),
    "AGR-G5": ("代偿范围", "compensation scope"),
    "AGR-G6": ("代偿宽限期", "grace period"),
    "AGR-G7": ("单户上限", "single-client limit"),
}


@dataclass(frozen=True)
class Terms:
    bank_id: int
    starts_on: dt.date
    ends_on: dt.date
    share_bank: Decimal
    share_reguarantor: Decimal
    share_national_fund: Decimal
    scope: str
    grace_days: int
    single_client_limit: Decimal | None

    @classmethod
    def of(cls, a: Agreement) -> Terms:
        return cls(
            a.bank_id,
            a.starts_on,
            a.ends_on,
            a.share_bank,
            a.share_reguarantor,
            a.share_national_fund,
            a.compensation_scope,
            a.grace_days,
            a.single_client_limit,
        )


@dataclass(frozen=True)
class Row:
    guarantee_id: int
    contract_no: str
    client_id: int
    bank_id: int | None
    loan_amount: Decimal
    guaranteed_amount: Decimal
    start_date: dt.date
    end_date: dt.date
    reguarantee_provincial_share: Decimal
    national_fund_share: Decimal
    balance: Decimal
    compensation_interest: Decimal = Decimal(0)


@dataclass(frozen=True)
class GuaranteeFinding:
    rule_id: str
    guarantee_id: int
    contract_no: str
    message_zh: str
    message_en: str

    def as_dict(self) -> dict:
        return asdict(self)


def _pct(x: Decimal) -> str:
    return f"{x * 100:z.2f}%"


def judge(terms: Terms, row: Row, *, client_total: Decimal, on: dt.date) -> list[GuaranteeFinding]:
    out: list[GuaranteeFinding] = []

    def add(rule: str, zh: str, en: str) -> None:
        out.append(GuaranteeFinding(rule, row.guarantee_id, row.contract_no, zh, en))

    if not terms.starts_on <= row.start_date <= terms.ends_on:
        add(
            "AGR-G1",
            f"起始日期 {row.start_date} 不在协议期限 {terms.starts_on} 至 {terms.ends_on} 内",
            f"starts on {row.start_date}, outside the agreement's term {terms.starts_on} – {terms.ends_on}",
        )
    if row.bank_id != terms.bank_id:
        add("AGR-G2", "贷款银行不是协议的合作银行", "the lender is not the agreement's bank")
    cap = row.loan_amount * (1 - terms.share_bank)
    if row.guaranteed_amount > cap:
        add(
            "AGR-G3",
            f"担保金额 {row.guaranteed_amount} 万元超过借款金额 {row.loan_amount} 万元扣除银行分担"
            f" {_pct(terms.share_bank)} 后的 {cap:z.2f} 万元",
            f"guaranteed {row.guaranteed_amount} exceeds the loan {row.loan_amount} less the bank's share"
            f" {_pct(terms.share_bank)} = {cap:z.2f}",
        )
    if (row.reguarantee_provincial_share, row.national_fund_share) != (
        terms.share_reguarantor,
        terms.share_national_fund,
    ):
        add(
            "AGR-G4",
            f"再担保分险 {_pct(row.reguarantee_provincial_share)}、国家基金分险 {_pct(row.national_fund_share)}"
            f" 与协议约定 {_pct(terms.share_reguarantor)}、{_pct(terms.share_national_fund)} 不符",
            f"re-guarantee {_pct(row.reguarantee_provincial_share)} and National Fund"
            f" {_pct(row.national_fund_share)} differ from the agreement's {_pct(terms.share_reguarantor)} and"
            f" {_pct(terms.share_national_fund)}",
        )
    if terms.scope == CompensationScope.PRINCIPAL and row.compensation_interest > 0:
        add(
            "AGR-G5",
            f"协议约定仅代偿本金，但代偿了利息 {row.compensation_interest} 万元",
            f"the agreement covers principal only, yet {row.compensation_interest} of interest was compensated",
        )
    deadline = row.end_date + dt.timedelta(days=terms.grace_days)
    if row.balance > 0 and row.start_date <= on and on > deadline:
        add(
            "AGR-G6",
            f"到期日 {row.end_date} 后已超过宽限期 {terms.grace_days} 天，仍有在保余额 {row.balance} 万元未解保或代偿",
            f"{terms.grace_days} days of grace after the end date {row.end_date} have passed with"
            f" {row.balance} still in force (neither released nor compensated)",
        )
    if terms.single_client_limit is not None and row.balance > 0 and client_total > terms.single_client_limit:
        add(
            "AGR-G7",
            f"该客户在本协议下在保担保金额合计 {client_total} 万元，超过单户上限 {terms.single_client_limit} 万元",
            f"the client's guarantees in force under the agreement total {client_total}, above the"
            f" single-client limit {terms.single_client_limit}",
        )
    return out


@dataclass
class AgreementCheck:
    on: dt.date
    guarantees: int
    balance: Decimal
    required_margin: Decimal
    findings: list[GuaranteeFinding]

    @property
    def by_rule(self) -> list[tuple[str, str, int]]:
        counts: dict[str, int] = defaultdict(int)
        for f in self.findings:
            counts[f.rule_id] += 1
        return [(rule, RULES[rule][0], counts[rule]) for rule in RULES if counts[rule]]


def agreement_guarantee_findings(agreement: Agreement, on: dt.date) -> AgreementCheck:
    """Every guarantee under `agreement` judged on day `on` (the caller has scoped the agreement)."""
    terms = Terms.of(agreement)
    interest = dict(
        GuaranteeEvent.objects.filter(guarantee__agreement=agreement, kind=EventKind.COMPENSATION)
        .order_by()
        .values("guarantee_id")
        .annotate(total=Sum("interest"))
        .values_list("guarantee_id", "total")
    )
    rows = [
        Row(
            *values[:-1],
            balance=Decimal(values[-1]).quantize(CENT),  # SQLite hands the annotation back unrounded
            compensation_interest=interest.get(values[0], Decimal(0)),
        )
        for values in Guarantee.objects.filter(agreement=agreement)
        .with_balance(on)
        .order_by("start_date", "contract_no")
        .values_list(
            "id",
            "contract_no",
            "client_id",
            "bank_id",
            "loan_amount",
            "guaranteed_amount",
            "start_date",
            "end_date",
            "reguarantee_provincial_share",
            "national_fund_share",
            "balance",
        )
    ]
    client_total: dict[int, Decimal] = defaultdict(Decimal)
    for r in rows:
        if r.balance > 0 and r.start_date <= on:
            client_total[r.client_id] += r.guaranteed_amount
    findings = [f for r in rows for f in judge(terms, r, client_total=client_total[r.client_id], on=on)]
    balance = sum((r.balance for r in rows if r.balance > 0 and r.start_date <= on), Decimal(0))
    return AgreementCheck(
        on=on,
        guarantees=len(rows),
        balance=balance,
        required_margin=(balance * agreement.margin_ratio).quantize(Decimal("0.01")),
        findings=findings,
    )
