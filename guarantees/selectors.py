"""Reads of loan-level records: balances in force on a date, borrowers shared across institutions, and
the quarterly-report fields that follow from the records. Every read starts from `for_user`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import AnonymousUser
from django.db.models import Case, CharField, Count, Max, Q, QuerySet, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.exceptions import AppError
from core.scoping import can_see
from institutions.models import Institution

from .choices import SMALL_MICRO_TYPES, ClientType, EventKind, IdKind
from .excel import error_report
from .identifiers import id_number_hash, is_valid_id_number, masked_id
from .models import Guarantee, GuaranteeEvent, ImportBatch

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
DAYS_PER_YEAR = Decimal(365)
# 单户 thresholds of the report (万元): small/micro ≤ 500万, farm households ≤ 200万, new business ≤ 1000万.
SMALL_MICRO_SINGLE_MAX = Decimal(500)
FARMER_SINGLE_MAX = Decimal(200)
NEW_SINGLE_LE10M = Decimal(1000)

# The report fields report_fields() derives (codes of quarterly_report_fields.csv), in template order.
DERIVED_FIELDS = (
    "fin_balance_opening",
    "fin_new",
    "fin_released",
    "fin_balance",
    "loan_balance",
    "loan_small_micro_le5m",
    "loan_farmer_le2m",
    "fin_inforce_count",
    "fin_inforce_clients",
    "small_micro_balance",
    "farmer_small_micro_balance",
    "farmer_small_micro_clients",
    "new_single_le5m",
    "new_single_le10m",
    "annualized_new_amount",
    "annualized_new_amount_le5m",
    "fee_new_le5m",
    "annualized_new_amount_gt5m",
    "fee_new_gt5m",
    "compensation",
    "compensation_count",
    "compensation_balance_opening",
    "recovery",
    "loss_writeoff",
    "compensation_cumulative",
    "released_cumulative",
    "top1_client_liability",
    "top1_group_liability",
    "top10_clients_liability",
    "batch_zdz_balance",
)


def guarantee_balances(*, user: User | AnonymousUser, on: dt.date) -> QuerySet[Guarantee]:
    """The guarantees `user` may see that are in force on `on`, each annotated with its `balance`."""
    return Guarantee.objects.for_user(user).in_force(on)


def institution_balances(*, user: User | AnonymousUser, on: dt.date) -> QuerySet:
    """Per institution the user may see: balance in force on `on`, guarantees and clients in force
    (rows of institution_id, balance, guarantees, clients; one SQL statement)."""
    return (
        guarantee_balances(user=user, on=on)
        .order_by()
        .values("institution_id")
        .annotate(balance=Sum("balance"), guarantees=Count("id"), clients=Count("client_id", distinct=True))
        .order_by("institution_id")
    )


def shared_borrowers(*, user: User | AnonymousUser, on: dt.date, min_institutions: int = 2) -> QuerySet:
    """Borrowers guaranteed by several institutions on `on`, grouped by credit code or by the keyed hash
    of the ID number (never the number: a person shows as the hash and last four), largest first."""
    return (
        guarantee_balances(user=user, on=on)
        .order_by()
        .values("client__id_kind", "client__id_key")
        .annotate(
            last4=Max("client__id_last4"),
            institutions=Count("institution_id", distinct=True),
            guarantees=Count("id"),
            balance=Sum("balance"),
        )
        .filter(institutions__gte=min_institutions)
        .order_by("-balance", "client__id_key")
    )


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _event_totals(events: QuerySet) -> dict[str, dict]:
    rows = (
        events.order_by()
        .values("kind")
        .annotate(amount=Sum("amount"), interest=Sum("interest"), n=Count("id"))
    )
    totals = {kind: {"amount": ZERO, "interest": ZERO, "n": 0} for kind in EventKind.values}
    totals.update({r["kind"]: r for r in rows})
    return totals


def report_fields(
    *, user: User | AnonymousUser, institution: Institution, period_end: dt.date
) -> dict[str, Decimal | int | None]:
    """The quarterly-report fields that follow from the loan-level records of `institution` for the
    quarter ending `period_end`, keyed by the codes of quarterly_report_fields.csv (DERIVED_FIELDS), plus
    `average_fee_rate` (the indicator of indicators.csv) computed from the records' own fees.

    Every record is a loan guarantee (借款类融资担保), so fin_balance = loan_balance. A guarantee is in
    force on a day when it has started and its balance — guaranteed amount less releases and compensated
    principal dated up to that day — is positive; an unreleased guarantee past its end date stays in
    force (overdue), as in the company's books. Year to date means 1 January to `period_end`.

    - fin_balance, loan_balance: Σ balance in force at period end; fin_inforce_count: those guarantees;
      fin_inforce_clients: their distinct clients. fin_balance_opening: Σ balance in force on 31 Dec of
      the prior year.
    - fin_new: Σ guaranteed amount of guarantees starting in the year to date. fin_released: releases plus
      compensated principal in the year to date (the field "includes compensated and normally repaid");
      released_cumulative: the same up to period end.
    - small_micro_balance: balance of small/micro enterprises and individual businesses (the field
      includes individual businesses); farmer_small_micro_balance / _clients: those and farm households.
      loan_small_micro_le5m: balance of small/micro clients whose total balance is ≤ 500万;
      loan_farmer_le2m: of farm households whose total balance is ≤ 200万.
    - Single exposure of new business (单户): a client's total guaranteed amount of guarantees starting in
      the year to date. new_single_le5m / new_single_le10m: new amount of clients ≤ 500万 / ≤ 1000万.
      annualized_new_amount: Σ amount × term days (end − start) / 365 of the new guarantees, split ≤ /
      > 500万 in annualized_new_amount_le5m / _gt5m with their fees in fee_new_le5m / fee_new_gt5m.
      average_fee_rate = (fee_new_le5m + fee_new_gt5m) / annualized_new_amount from unrounded sums, None
      (undefined) without new business.
    - compensation: principal + interest of compensations in the year to date; compensation_count: their
      number; compensation_cumulative: the same up to period end. recovery and loss_writeoff: recoveries
      and write-offs in the year to date. compensation_balance_opening: compensation − recovery −
      write-off up to 31 Dec of the prior year.
    - top1_client_liability / top10_clients_liability: the largest / ten largest clients' total balance;
      top1_group_liability: the largest balance of a client group (clients sharing a group name; a client
      with none is its own group). These are balances, unweighted: the 计量办法 weights are policy data
      applied by supervision (the same figure whenever the client is above 500万 or not small/micro).
    - batch_zdz_balance: balance of 总对总 batch guarantees.

    Amounts are rounded half up to 2 decimals once, at the end.
    """
    if not can_see(user, institution):
        raise AppError(
            _("无权查看该机构的担保业务明细"),
            code="forbidden",
        )
    return derive_report_fields(institution=institution, period_end=period_end)


def derive_report_fields(*, institution: Institution, period_end: dt.date) -> dict[str, Decimal | int | None]:
    """report_fields without the reader's check, for services and pages that have already scoped the
    institution (a filing found through Filing.objects.for_user, a submission's own checks)."""
    guarantees = Guarantee.objects.filter(institution=institution)
    events = GuaranteeEvent.objects.filter(guarantee__institution=institution)
    year_start = dt.date(period_end.year, 1, 1)
    prior_end = year_start - dt.timedelta(days=1)

    # Balances in force at period end, by client and by group.
    client_balance: dict[int, Decimal] = defaultdict(Decimal)
    group_balance: dict[object, Decimal] = defaultdict(Decimal)
    client_type: dict[int, str] = {}
    balance = zdz = Decimal(0)
    count = 0
    in_force = guarantees.in_force(period_end).values_list(
        "client_id", "client__client_type", "client__group_name", "balance", "batch_zdz"
    )
    for client_id, kind, group, amount, is_zdz in in_force:
        client_balance[client_id] += amount
        group_balance[group or ("client", client_id)] += amount
        client_type[client_id] = kind
        balance += amount
        zdz += amount if is_zdz else 0
        count += 1
    small_micro = [c for c, k in client_type.items() if k in SMALL_MICRO_TYPES]
    farmers = [c for c, k in client_type.items() if k == ClientType.FARMER]
    ranked = sorted(client_balance.values(), reverse=True)

    # New business in the year to date, by client (single exposure).
    new = list(
        guarantees.filter(start_date__range=(year_start, period_end)).values_list(
            "client_id", "guaranteed_amount", "start_date", "end_date", "fee_amount"
        )
    )
    client_new: dict[int, Decimal] = defaultdict(Decimal)
    for client_id, amount, *_rest in new:
        client_new[client_id] += amount
    annualised = {True: Decimal(0), False: Decimal(0)}  # keyed by "single exposure ≤ 500万"
    fees = {True: Decimal(0), False: Decimal(0)}
    for client_id, amount, start, end, fee in new:
        small = client_new[client_id] <= SMALL_MICRO_SINGLE_MAX
        annualised[small] += amount * (end - start).days / DAYS_PER_YEAR
        fees[small] += fee
    annualised_total = annualised[True] + annualised[False]

    ytd = _event_totals(events.filter(occurred_on__range=(year_start, period_end)))
    cumulative = _event_totals(events.filter(occurred_on__lte=period_end))
    before_year = _event_totals(events.filter(occurred_on__lte=prior_end))
    opening = guarantees.in_force(prior_end).aggregate(total=Sum("balance"))["total"] or ZERO
    comp, release, recovery, write_off = (
        EventKind.COMPENSATION,
        EventKind.RELEASE,
        EventKind.RECOVERY,
        EventKind.WRITE_OFF,
    )

    fields: dict[str, Decimal | int | None] = {
        "fin_balance_opening": opening,
        "fin_new": sum((amount for _c, amount, *_r in new), Decimal(0)),
        "fin_released": ytd[release]["amount"] + ytd[comp]["amount"],
        "fin_balance": balance,
        "loan_balance": balance,
        "loan_small_micro_le5m": sum(
            (client_balance[c] for c in small_micro if client_balance[c] <= SMALL_MICRO_SINGLE_MAX),
            Decimal(0),
        ),
        "loan_farmer_le2m": sum(
            (client_balance[c] for c in farmers if client_balance[c] <= FARMER_SINGLE_MAX), Decimal(0)
        ),
        "fin_inforce_count": count,
        "fin_inforce_clients": len(client_balance),
        "small_micro_balance": sum((client_balance[c] for c in small_micro), Decimal(0)),
        "farmer_small_micro_balance": sum((client_balance[c] for c in small_micro + farmers), Decimal(0)),
        "farmer_small_micro_clients": len(small_micro) + len(farmers),
        "new_single_le5m": sum((v for v in client_new.values() if v <= SMALL_MICRO_SINGLE_MAX), Decimal(0)),
        "new_single_le10m": sum((v for v in client_new.values() if v <= NEW_SINGLE_LE10M), Decimal(0)),
        "annualized_new_amount": annualised_total,
        "annualized_new_amount_le5m": annualised[True],
        "fee_new_le5m": fees[True],
        "annualized_new_amount_gt5m": annualised[False],
        "fee_new_gt5m": fees[False],
        "compensation": ytd[comp]["amount"] + ytd[comp]["interest"],
        "compensation_count": ytd[comp]["n"],
        "compensation_balance_opening": before_year[comp]["amount"]
        + before_year[comp]["interest"]
        - before_year[recovery]["amount"]
        - before_year[write_off]["amount"],
        "recovery": ytd[recovery]["amount"],
        "loss_writeoff": ytd[write_off]["amount"],
        "compensation_cumulative": cumulative[comp]["amount"] + cumulative[comp]["interest"],
        "released_cumulative": cumulative[release]["amount"] + cumulative[comp]["amount"],
        "top1_client_liability": ranked[0] if ranked else Decimal(0),
        "top1_group_liability": max(group_balance.values(), default=Decimal(0)),
        "top10_clients_liability": sum(ranked[:10], Decimal(0)),
        "batch_zdz_balance": zdz,
    }
    fields = {k: _money(v) if isinstance(v, Decimal) else v for k, v in fields.items()}
    fields["average_fee_rate"] = (fees[True] + fees[False]) / annualised_total if annualised_total else None
    return fields


def has_records(institution_id: int) -> bool:
    return Guarantee.objects.filter(institution_id=institution_id).exists()


def controller_guarantees(*, institution: Institution, on: dt.date) -> QuerySet[Guarantee]:
    """REL-01 (条例 art. 17 forbids them): the institution's guarantees in force on `on` whose client is
    its controlling shareholder or actual controller — matched by credit code, or for a natural person by
    the keyed hash of the ID number (both sides hashed with settings.PII_HASH_KEY). Callers scope the
    institution first."""
    from institutions.models import Shareholder

    parties = Shareholder.objects.filter(institution=institution).filter(
        Q(is_controlling=True) | Q(is_actual_controller=True)
    )
    match = Q(pk__in=[])
    for kind, key in filter(None, (p.match_key for p in parties)):
        match |= Q(client__id_kind=kind, client__id_key=key)
    return (
        Guarantee.objects.filter(institution=institution)
        .in_force(on)
        .filter(match)
        .select_related("client")
        .order_by("-balance", "contract_no")
    )


def records_fingerprint(institution_id: int) -> tuple:
    """What changes whenever the records that derive the report do (guarantees, their events, the
    shareholders REL-01 matches): a cache key part, three aggregate queries on indexed columns.
    (0, …) when the institution has no records: then one query (events belong to guarantees)."""
    from institutions.models import Shareholder

    g = Guarantee.objects.filter(institution_id=institution_id).aggregate(n=Count("id"), at=Max("updated_at"))
    if not g["n"]:
        return (0, None, 0, None, 0, None)
    e = GuaranteeEvent.objects.filter(guarantee__institution_id=institution_id).aggregate(
        n=Count("id"), last=Max("id")
    )
    s = Shareholder.objects.filter(institution_id=institution_id).aggregate(
        n=Count("id"), at=Max("updated_at")
    )
    return (g["n"], g["at"], e["n"], e["last"], s["n"], s["at"])


# ---------------------------------------------------------------------------------------------- batches
def batches_for(user: User | AnonymousUser) -> QuerySet[ImportBatch]:
    """The batches `user` may see (a company its own), newest first, with what their rows show."""
    return (
        ImportBatch.objects.for_user(user)
        .select_related("institution", "job", "uploaded_by")
        .order_by("-created_at", "-id")
    )


def batch_error_report(batch: ImportBatch) -> bytes:
    """The batch's data in the layout it was sent, each finding a comment on its cell (see excel.py)."""
    from .services import batch_rows

    return error_report(batch_rows(batch), batch.findings)


# ---------------------------------------------------------------------------------------------- records
PAGE_SIZE = 50
SIZE_BANDS = (("le5m", Decimal(500)), ("le10m", Decimal(1000)), ("gt10m", None))  # 万元, by guaranteed amount


@dataclass(frozen=True)
class RecordFilter:
    """What the records list and its export filter on (shared by pages, drill-down links and API)."""

    contract_no: str = ""
    client: str = ""  # name contains
    client_id: int | None = None
    client_type: str = ""
    bank_id: int | None = None
    band: str = ""
    in_force_on: dt.date | None = None
    start_from: dt.date | None = None
    start_to: dt.date | None = None

    @classmethod
    def from_query(cls, query) -> RecordFilter:
        def date(name):
            try:
                return dt.date.fromisoformat(query.get(name, "").strip()) if query.get(name) else None
            except ValueError:
                return None

        def number(name):
            value = (query.get(name) or "").strip()
            return int(value) if value.isdigit() else None

        band = query.get("band", "")
        return cls(
            contract_no=(query.get("contract_no") or "").strip()[:64],
            client=(query.get("client") or "").strip()[:100],
            client_id=number("client_id"),
            client_type=query.get("client_type", "") if query.get("client_type") in ClientType.values else "",
            bank_id=number("bank"),
            band=band if band in dict(SIZE_BANDS) else "",
            in_force_on=date("in_force_on"),
            start_from=date("start_from"),
            start_to=date("start_to"),
        )

    def apply(self, guarantees: QuerySet[Guarantee]) -> QuerySet[Guarantee]:
        if self.contract_no:
            guarantees = guarantees.filter(contract_no__startswith=self.contract_no)
        if self.client:
            guarantees = guarantees.filter(client__name__contains=self.client)
        if self.client_id:
            guarantees = guarantees.filter(client_id=self.client_id)
        if self.client_type:
            guarantees = guarantees.filter(client__client_type=self.client_type)
        if self.bank_id:
            guarantees = guarantees.filter(bank_id=self.bank_id)
        if self.band:
            guarantees = guarantees.filter(band_q(self.band))
        if self.start_from:
            guarantees = guarantees.filter(start_date__gte=self.start_from)
        if self.start_to:
            guarantees = guarantees.filter(start_date__lte=self.start_to)
        if self.in_force_on:
            guarantees = guarantees.in_force(self.in_force_on)
        return guarantees


def band_q(band: str) -> Q:
    if band == "le5m":
        return Q(guaranteed_amount__lte=SIZE_BANDS[0][1])
    if band == "le10m":
        return Q(guaranteed_amount__gt=SIZE_BANDS[0][1], guaranteed_amount__lte=SIZE_BANDS[1][1])
    return Q(guaranteed_amount__gt=SIZE_BANDS[1][1])


@dataclass
class RecordPage:
    rows: list[Guarantee]
    next_cursor: str  # "" on the last page
    first: bool


def records_page(
    *,
    user: User | AnonymousUser,
    institution: Institution,
    filters: RecordFilter,
    after: str = "",
    size: int | None = None,
) -> RecordPage:
    """One page of an institution's guarantees, newest start first, by keyset (start date, id) on the
    index (institution, start_date, id): one query whatever the table's size and however deep the
    page, no COUNT(*). `after` is the previous page's cursor."""
    size = size or PAGE_SIZE
    guarantees = filters.apply(Guarantee.objects.for_user(user).filter(institution=institution))
    cursor = _cursor(after)
    if cursor:
        day, pk = cursor
        # (start_date, id) < (day, pk), written so that start_date <= day bounds the index scan (an OR
        # alone makes PostgreSQL read the index from its start: seconds at 1,000,000 rows)
        guarantees = guarantees.filter(start_date__lte=day).filter(Q(start_date__lt=day) | Q(id__lt=pk))
    rows = list(
        guarantees.select_related("client", "bank", "product_line")
        .with_balance(timezone.localdate())
        .order_by("-start_date", "-id")[: size + 1]
    )
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = f"{rows[-1].start_date.isoformat()}_{rows[-1].pk}" if more else ""
    return RecordPage(rows=rows, next_cursor=next_cursor, first=not cursor)


def _cursor(text: str) -> tuple[dt.date, int] | None:
    day, _, pk = (text or "").partition("_")
    try:
        return dt.date.fromisoformat(day), int(pk)
    except ValueError:
        return None


def records_export_rows(*, user: User | AnonymousUser, institution: Institution, filters: RecordFilter):
    """Rows of the records export, streamed in id order (the person's ID number shows as its last four)."""
    today = timezone.localdate()
    guarantees = (
        filters.apply(Guarantee.objects.for_user(user).filter(institution=institution))
        .select_related("client", "bank", "product_line")
        .with_balance(today)
        .order_by("-start_date", "-id")
    )
    for g in guarantees.iterator(chunk_size=2000):
        c = g.client
        yield [
            g.contract_no,
            c.display_name,
            c.get_client_type_display(),
            c.masked_identifier,
            g.lender_name,
            g.loan_amount,
            g.guaranteed_amount,
            g.balance,
            g.start_date,
            g.end_date,
            g.fee_rate,
            g.fee_amount,
            g.product_line.name_zh,
            _("是") if g.gov_backed else _("否"),
            _("是") if g.batch_zdz else _("否"),
        ]


EXPORT_HEADER = [
    gettext_lazy("担保合同编号"),
    gettext_lazy("客户名称"),
    gettext_lazy("客户类型"),
    gettext_lazy("证件号码"),
    gettext_lazy("贷款银行/债权人"),
    gettext_lazy("借款金额（万元）"),
    gettext_lazy("担保金额（万元）"),
    gettext_lazy("在保余额（万元）"),
    gettext_lazy("起始日期"),
    gettext_lazy("到期日期"),
    gettext_lazy("年化担保费率"),
    gettext_lazy("担保费（万元）"),
    gettext_lazy("业务品种"),
    gettext_lazy("政府性融资担保业务"),
    gettext_lazy("银担“总对总”批量担保"),
]


# ---------------------------------------------------------------------------------------------- portfolio
def month_ends(on: dt.date, months: int = 12) -> list[dt.date]:
    """The last day of each of the `months` months up to `on`'s month (that one ends on `on`)."""
    ends = [on]
    first = on.replace(day=1)
    for _month in range(months - 1):
        first = first - dt.timedelta(days=1)
        ends.append(first)
        first = first.replace(day=1)
    return list(reversed(ends))


def portfolio(*, user: User | AnonymousUser, institution: Institution, on: dt.date) -> dict:
    """The regulator's view of one institution's guarantees in force on `on`: by size band (single
    guarantee ≤ 500万 / ≤ 1000万 / above), by client type, by bank, the ten largest clients and the
    balance in force at each of the last twelve month ends. A constant number of queries."""
    if not can_see(user, institution):
        raise AppError(
            _("无权查看该机构的担保业务明细"),
            code="forbidden",
        )
    base = Guarantee.objects.for_user(user).filter(institution=institution)
    in_force = base.in_force(on).order_by()
    band = Case(
        *[When(band_q(code), then=Value(code)) for code, _limit in SIZE_BANDS[:2]],
        default=Value(SIZE_BANDS[2][0]),
        output_field=CharField(),
    )
    totals = {"count": 0, "balance": ZERO}
    bands = {code: {"count": 0, "balance": ZERO} for code, _ in SIZE_BANDS}
    for row in in_force.annotate(band=band).values("band").annotate(n=Count("id"), total=Sum("balance")):
        bands[row["band"]] = {"count": row["n"], "balance": _money(row["total"])}
        totals["count"] += row["n"]
        totals["balance"] += row["total"]
    totals["balance"] = _money(totals["balance"])
    labels = dict(ClientType.choices)
    types = [
        {"code": r["client__client_type"], "label": labels[r["client__client_type"]], "count": r["n"],
         "balance": _money(r["total"])}
        for r in in_force.values("client__client_type").annotate(n=Count("id"), total=Sum("balance"))
        .order_by("-total")
    ]  # fmt: skip
    banks = [
        {"bank_id": r["bank_id"], "name": r["bank__name"] or r["other_lender"], "count": r["n"],
         "balance": _money(r["total"])}
        for r in in_force.values("bank_id", "bank__name", "other_lender").annotate(n=Count("id"), total=Sum("balance"))
        .order_by("-total", "bank__name")[:15]
    ]  # fmt: skip
    top = list(
        in_force.values("client_id", "client__name", "client__id_kind", "client__id_key", "client__id_last4")
        .annotate(n=Count("id"), total=Sum("balance"))
        .order_by("-total", "client_id")[:10]
    )
    clients = [
        {
            "client_id": r["client_id"],
            "name": _display_name(r["client__name"], r["client__id_kind"]),
            "identifier": masked_id(r["client__id_last4"])
            if r["client__id_kind"] == IdKind.RESIDENT_ID
            else r["client__id_key"],
            "count": r["n"],
            "balance": _money(r["total"]),
        }
        for r in top
    ]
    trend = []
    for day in month_ends(on):
        total = base.in_force(day).aggregate(total=Sum("balance"))["total"] or ZERO
        trend.append({"date": day, "balance": _money(total)})
    return {"on": on, "totals": totals, "bands": bands, "types": types, "banks": banks, "clients": clients,
            "trend": trend}  # fmt: skip


def _display_name(name: str, id_kind: str) -> str:
    return name[:1] + "*" * (len(name) - 1) if id_kind == IdKind.RESIDENT_ID else name


def borrower_groups(
    *, user: User | AnonymousUser, on: dt.date, identifier: str = "", limit: int = 100
) -> list[dict]:
    """Borrowers guaranteed by several institutions the regulator sees (shared_borrowers), each with its
    institutions; `identifier` (a credit code, or an ID number hashed here with the portal's key) narrows
    to one borrower whether or not it is shared."""
    from django.conf import settings

    rows = guarantee_balances(user=user, on=on).order_by()
    if identifier:
        key = identifier.strip().upper()
        if is_valid_id_number(key):
            rows = rows.filter(
                client__id_kind=IdKind.RESIDENT_ID,
                client__id_key=id_number_hash(key, settings.PII_HASH_KEY.encode()),
            )
        else:
            rows = rows.filter(client__id_kind=IdKind.CREDIT_CODE, client__id_key=key)
        groups = list(
            rows.values("client__id_kind", "client__id_key")
            .annotate(last4=Max("client__id_last4"), institutions=Count("institution_id", distinct=True),
                      guarantees=Count("id"), balance=Sum("balance"))
        )  # fmt: skip
    else:
        groups = list(shared_borrowers(user=user, on=on)[:limit])
    keys = [(g["client__id_kind"], g["client__id_key"]) for g in groups]
    per_institution: dict[tuple, list] = defaultdict(list)
    if keys:
        detail = (
            guarantee_balances(user=user, on=on)
            .order_by()
            .filter(client__id_key__in=[k for _kind, k in keys])
            .values("client__id_kind", "client__id_key", "institution_id", "institution__name", "client__name",
                    "client__id_kind", "client_id")
            .annotate(guarantees=Count("id"), balance=Sum("balance"))
            .order_by("-balance")
        )  # fmt: skip
        for d in detail:
            d["name"] = _display_name(d["client__name"], d["client__id_kind"])
            d["balance"] = _money(d["balance"])
            per_institution[(d["client__id_kind"], d["client__id_key"])].append(d)
    result = []
    for g in groups:
        person = g["client__id_kind"] == IdKind.RESIDENT_ID
        members = per_institution[(g["client__id_kind"], g["client__id_key"])]
        result.append(
            {
                "kind": g["client__id_kind"],
                "identifier": masked_id(g["last4"]) if person else g["client__id_key"],
                "name": members[0]["name"] if members else "",
                "institutions": g["institutions"],
                "guarantees": g["guarantees"],
                "balance": _money(g["balance"]),
                "members": members,
            }
        )
    return result
