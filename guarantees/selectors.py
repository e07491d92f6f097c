"""Reads of loan-level records: balances in force on a date, borrowers shared across institutions, and
the quarterly-report fields that follow from the records. Every read starts from `for_user`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Max, Q, QuerySet, Sum

from accounts.models import User
from core.exceptions import AppError, bilingual
from core.scoping import can_see
from institutions.models import Institution

from .choices import SMALL_MICRO_TYPES, ClientType, EventKind
from .models import Guarantee, GuaranteeEvent

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
            bilingual("无权查看该机构的担保业务明细", "not allowed to read this institution's records"),
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
    (0, …) when the institution has no records."""
    from institutions.models import Shareholder

    g = Guarantee.objects.filter(institution_id=institution_id).aggregate(n=Count("id"), at=Max("updated_at"))
    e = GuaranteeEvent.objects.filter(guarantee__institution_id=institution_id).aggregate(
        n=Count("id"), last=Max("id")
    )
    s = Shareholder.objects.filter(institution_id=institution_id).aggregate(
        n=Count("id"), at=Max("updated_at")
    )
    return (g["n"], g["at"], e["n"], e["last"], s["n"], s["at"])
