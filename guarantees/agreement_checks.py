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
from django.utils import translation
from django.utils.translation import gettext_lazy

from core.exceptions import Text, deferred
from institutions.choices import CompensationScope
from institutions.models import Agreement

from .choices import EventKind
from .models import Guarantee, GuaranteeEvent

CENT = Decimal("0.01")
RULES = {
    "AGR-G1": gettext_lazy("期限"),
    "AGR-G2": gettext_lazy("贷款银行"),
    "AGR-G3": gettext_lazy("银行分险比例"),
    "AGR-G4": gettext_lazy("再担保分险比例"),
    "AGR-G5": gettext_lazy("代偿范围"),
    "AGR-G6": gettext_lazy("代偿宽限期"),
    "AGR-G7": gettext_lazy("单户上限"),
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

    def add(rule: str, message: Text) -> None:
        """Both renderings of one gettext message (the API gives both; the page shows the reader's)."""
        texts = []
        for language in ("zh-hans", "en"):
            with translation.override(language):
                texts.append(str(message))
        out.append(GuaranteeFinding(rule, row.guarantee_id, row.contract_no, *texts))

    if not terms.starts_on <= row.start_date <= terms.ends_on:
        add(
            "AGR-G1",
            deferred(
                gettext_lazy("起始日期 %(start)s 不在协议期限 %(starts)s 至 %(ends)s 内"),
                start=row.start_date,
                starts=terms.starts_on,
                ends=terms.ends_on,
            ),
        )
    if row.bank_id != terms.bank_id:
        add("AGR-G2", gettext_lazy("贷款银行不是协议的合作银行"))
    cap = row.loan_amount * (1 - terms.share_bank)
    if row.guaranteed_amount > cap:
        add(
            "AGR-G3",
            deferred(
                gettext_lazy(
                    "担保金额 %(guaranteed)s 万元超过借款金额 %(loan)s 万元扣除银行分担 %(share)s 后的 %(cap)s 万元"
                ),
                guaranteed=row.guaranteed_amount,
                loan=row.loan_amount,
                share=_pct(terms.share_bank),
                cap=f"{cap:z.2f}",
            ),
        )
    if (row.reguarantee_provincial_share, row.national_fund_share) != (
        terms.share_reguarantor,
        terms.share_national_fund,
    ):
        add(
            "AGR-G4",
            deferred(
                gettext_lazy(
                    "再担保分险 %(reguarantee)s、国家基金分险 %(fund)s 与协议约定 %(agreed_reguarantee)s、%(agreed_fund)s 不符"
                ),
                reguarantee=_pct(row.reguarantee_provincial_share),
                fund=_pct(row.national_fund_share),
                agreed_reguarantee=_pct(terms.share_reguarantor),
                agreed_fund=_pct(terms.share_national_fund),
            ),
        )
    if terms.scope == CompensationScope.PRINCIPAL and row.compensation_interest > 0:
        add(
            "AGR-G5",
            deferred(
                gettext_lazy("协议约定仅代偿本金，但代偿了利息 %(interest)s 万元"),
                interest=row.compensation_interest,
            ),
        )
    deadline = row.end_date + dt.timedelta(days=terms.grace_days)
    if row.balance > 0 and row.start_date <= on and on > deadline:
        add(
            "AGR-G6",
            deferred(
                gettext_lazy(
                    "到期日 %(end)s 后已超过宽限期 %(days)s 天，仍有在保余额 %(balance)s 万元未解保或代偿"
                ),
                end=row.end_date,
                days=terms.grace_days,
                balance=row.balance,
            ),
        )
    if terms.single_client_limit is not None and row.balance > 0 and client_total > terms.single_client_limit:
        add(
            "AGR-G7",
            deferred(
                gettext_lazy("该客户在本协议下在保担保金额合计 %(total)s 万元，超过单户上限 %(limit)s 万元"),
                total=client_total,
                limit=terms.single_client_limit,
            ),
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
        return [(rule, str(RULES[rule]), counts[rule]) for rule in RULES if counts[rule]]


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
