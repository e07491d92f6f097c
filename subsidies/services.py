"""Every write of the subsidies app: schemes and their edits, applications from draft to payment, the
award pool and the budget. Keyword-only, atomic, authority checked again here (the pages and API ask
the same rules first), an audit row and an application step in the same transaction.

A transition is one conditional UPDATE (`… WHERE status IN (from) AND revision = r`): of two officers
deciding the same application at once, the second finds no row and gets a conflict, never a second
decision. Approvals of one scheme lock the scheme row first, so the budget cannot be overrun by two
approvals that each fit alone."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from psycopg import errors as psycopg_errors

from core import audit
from core.exceptions import AppError
from core.jobs import job_enqueue, job_progress, job_running
from core.permissions import require
from core.roles import Actor
from core.scoping import can_see, in_subtree
from core.stored_text import Message, show, store
from guarantees.choices import EventKind
from guarantees.models import Guarantee, GuaranteeEvent, ProductLine
from institutions.models import Institution
from institutions.selectors import government_backed_ids

from . import calculations as calc
from . import params as p
from .choices import COMMITTED, EDITABLE, TO_REVIEW, BudgetMode, CompensationMethod, SchemeKind, Status
from .models import Application, ApplicationLine, ApplicationStep, Scheme, SchemeRevision
from .permissions import may_allocate, may_decide, may_edit_scheme, may_prepare, may_review, may_submit

LINE_BATCH = 5000
SCHEME_FIELDS = (
    "code",
    "name",
    "kind",
    "region_code",
    "effective_from",
    "effective_to",
    "source",
    "params",
    "budget",
    "budget_mode",
    "publicity_days",
    "open",
)


def _forbidden(message: str) -> AppError:
    return AppError(message, code="forbidden")


def _invalid(field: str, message: str) -> AppError:
    return AppError(message, errors={field: [message]})


def _require(actor: Actor, rule, *args) -> None:
    try:
        require(actor, rule, *args)
    except PermissionDenied:  # the one application error, for pages and API alike
        raise _forbidden(_("无权执行该操作")) from None


# --- schemes ----------------------------------------------------------------------------------------


def _check_scheme(values: dict) -> None:
    if values.get("kind") not in SchemeKind.values:
        raise _invalid("kind", _("请选择政策类型"))
    if not str(values.get("name") or "").strip():
        raise _invalid("name", _("请填写政策名称"))
    if not str(values.get("source") or "").strip():
        raise _invalid("source", _("请填写政策依据（文件及条款）"))
    start, end = values.get("effective_from"), values.get("effective_to")
    if not isinstance(start, dt.date):
        raise _invalid("effective_from", _("请填写生效日期"))
    if end is not None and end < start:
        raise _invalid("effective_to", _("失效日期早于生效日期"))
    budget = values.get("budget")
    if budget is not None and Decimal(budget) < 0:
        raise _invalid("budget", _("预算不能为负数"))
    if values.get("budget_mode") not in BudgetMode.values:
        raise _invalid("budget_mode", _("请选择超出预算时的处理方式"))
    p.validate(values["kind"], values.get("params"))
    if values["kind"] == SchemeKind.AWARD_POOL and budget is None:
        raise _invalid("budget", _("奖补资金池须填写年度预算（资金池金额）"))


@transaction.atomic
def scheme_create(*, actor: Actor, reason: str = "", **values: Any) -> Scheme:
    values = {k: values[k] for k in SCHEME_FIELDS if k in values}
    values.setdefault("budget_mode", BudgetMode.PRO_RATA)
    values.setdefault("params", {})
    _require(actor, may_edit_scheme, values.get("region_code", ""))
    _check_scheme(values)
    if Scheme.objects.filter(code=values["code"]).exists():
        raise _invalid("code", _("代码已被使用"))
    scheme = Scheme.objects.create(**values)
    SchemeRevision.objects.create(
        scheme=scheme,
        changed_by=actor if getattr(actor, "is_authenticated", False) else None,
        reason=reason or _("新建"),
        changes={k: [None, v] for k, v in audit.snapshot(scheme).items() if k in SCHEME_FIELDS},
    )
    audit.record(actor=actor, action=audit.Action.CREATE, instance=scheme, note=reason)
    return scheme


@transaction.atomic
def scheme_update(*, actor: Actor, scheme: Scheme, reason: str, **changes: Any) -> Scheme:
    """Edit a scheme; the reason is required and the revision keeps the values before and after.
    Decided applications keep the amounts they were decided at (their computation is frozen)."""
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    _require(actor, may_edit_scheme, scheme.region_code)
    if not reason.strip():
        raise _invalid("reason", _("请填写修改原因"))
    if "region_code" in changes and changes["region_code"] != scheme.region_code:
        _require(actor, may_edit_scheme, changes["region_code"])
    before = audit.snapshot(scheme)
    for key, value in changes.items():
        if key in SCHEME_FIELDS and key != "code":
            setattr(scheme, key, value)
    _check_scheme({k: getattr(scheme, k) for k in SCHEME_FIELDS})
    scheme.save()
    diff = audit.diff(before, audit.snapshot(scheme))
    if not diff:
        return scheme
    SchemeRevision.objects.create(
        scheme=scheme,
        changed_by=actor if getattr(actor, "is_authenticated", False) else None,
        reason=reason,
        changes=diff,
    )
    audit.record(actor=actor, action=audit.Action.UPDATE, instance=scheme, before=before, note=reason)
    return scheme


# --- computing an application ------------------------------------------------------------------------


def _period(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def fee_subsidy_facts(
    institution_id: int, year: int, *, client_totals: bool = True, client_types: bool = True
) -> list[tuple]:
    """The guarantees of an institution in force in the year as GuaranteeFacts-ordered tuples (one
    statement, unordered: the explanation is sorted on display). The client's total in the year is
    summed here and only when a line caps it (a window function would make the database sort every row
    by client); the client type is joined only when a line asks for it."""
    start, end = _period(year)
    codes = dict(ProductLine.objects.values_list("id", "code"))
    qs = (
        Guarantee.objects.filter(institution_id=institution_id, start_date__lte=end, end_date__gt=start)
        .order_by()
        .values_list(
            "id",
            "contract_no",
            "guaranteed_amount",
            "fee_rate",
            "start_date",
            "end_date",
            "product_line_id",
            "client__client_type" if client_types else "gov_backed",  # a placeholder column, never read
            "gov_backed",
            "client_id",
        )
    )
    if connection.vendor == "postgresql":
        # psycopg returns Decimal and date as they are: one fetch, without Django's per-row iteration
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    else:
        rows = list(qs)
    totals: dict[int, Decimal] = defaultdict(Decimal)
    if client_totals:
        for row in rows:
            totals[row[9]] += row[2]
    return [
        (*row[:6], codes[row[6]], row[7] if client_types else "", row[8], totals.get(row[9], calc.ZERO))
        for row in rows
    ]


def fee_subsidy_evaluate(*, scheme: Scheme, institution_id: int, year: int, claimed_elsewhere=frozenset()):
    """(line results, amount, capped): the fee subsidy of one institution for one year, not stored."""
    lines = p.fee_lines(scheme.params, year)
    start, end = _period(year)
    on_list = institution_id in government_backed_ids(on=end, institution_ids=[institution_id])
    basis = p.day_basis(scheme.params)
    facts = fee_subsidy_facts(
        institution_id,
        year,
        client_totals=any(line.single_client_max is not None for line in lines),
        client_types=any(line.client_types for line in lines),
    )
    results = calc.fee_subsidy_lines(
        facts,
        lines,
        period_start=start,
        period_end=end,
        day_basis=basis,
        on_govlist=on_list,
        excluded=claimed_elsewhere,
        excluded_reason=Message(EXCLUDED_REASON_MSGID),
    )
    amount, capped = calc.fee_subsidy_total(results, p.institution_cap(scheme.params))
    return results, amount, capped


EXCLUDED_REASON_MSGID = "已在本政策同年度其他申请中申请"
EXCLUDED_REASON = gettext_lazy(EXCLUDED_REASON_MSGID)


def fee_in_sql() -> bool:
    """PostgreSQL computes a fee subsidy where the guarantees are (one grouped statement for the
    amount, INSERT … SELECT for the lines); elsewhere the lines are computed in Python."""
    return connection.vendor == "postgresql"


def _fee_rows_sql(
    lines, *, institution_id: int, year: int, application: Application | None
) -> tuple[str, dict]:
    """The guarantees in force in the year as a CTE `f`: what the judgement reads of each (product line
    id, client type, fee rate, gov flag, the client's total where it passes the lowest cap), its days in
    force and whether another application of the scheme and year claims it."""
    start, end = _period(year)
    caps = [line.single_client_max for line in lines if line.single_client_max is not None]
    params = {
        "inst": institution_id,
        "start": start,
        "end": end,
        "after": end + dt.timedelta(days=1),
        "min_cap": min(caps) if caps else None,
        "scheme": application.scheme_id if application else None,
        "year": year,
        "app": application.pk if application else None,
    }
    joins = []
    client_type = "''"
    if any(line.client_types for line in lines):
        joins.append("JOIN guarantees_client c ON c.id = g.client_id")
        client_type = "c.client_type"
    total = "NULL::numeric"
    if caps:
        joins.append(
            "JOIN (SELECT client_id, SUM(guaranteed_amount) AS total FROM guarantees_guarantee"
            " WHERE institution_id = %(inst)s AND start_date <= %(end)s AND end_date > %(start)s"
            " GROUP BY client_id) t ON t.client_id = g.client_id"
        )
        total = "CASE WHEN t.total > %(min_cap)s THEN t.total END"
    excluded = "FALSE"
    if application is not None:
        excluded = (
            "g.id IN (SELECT l.guarantee_id FROM subsidies_applicationline l WHERE l.scheme_id = %(scheme)s"
            " AND l.year = %(year)s AND l.claimed AND l.application_id <> %(app)s)"
        )
    sql = f"""f AS (
        SELECT g.id, g.contract_no, g.guaranteed_amount AS amount, g.product_line_id AS pl,
               {client_type} AS ct, g.fee_rate AS rate, g.gov_backed AS gov, {total} AS total,
               LEAST(g.end_date, %(after)s) - GREATEST(g.start_date, %(start)s) AS days,
               {excluded} AS excluded
        FROM guarantees_guarantee g {" ".join(joins)}
        WHERE g.institution_id = %(inst)s AND g.start_date <= %(end)s AND g.end_date > %(start)s)"""  # noqa: S608 — fixed fragments; every value a parameter
    return sql, params


def _fee_sum_sql(scheme: Scheme, institution_id: int, year: int, application: Application | None):
    """(FeeTotal, the verdict per group key, product line codes by id, day basis, the CTE and its
    params): one grouped statement, the judgement per group in Python (calculations.fee_subsidy_sum).
    The INSERT … SELECT of the lines runs later in the same transaction: a guarantee committed by
    another transaction in between would find no verdict (not-null error, refused as a conflict)."""
    lines = p.fee_lines(scheme.params, year)
    _start, end = _period(year)
    on_list = institution_id in government_backed_ids(on=end, institution_ids=[institution_id])
    basis = p.day_basis(scheme.params)
    cte, params = _fee_rows_sql(lines, institution_id=institution_id, year=year, application=application)
    codes = dict(ProductLine.objects.values_list("id", "code"))
    sql = (
        f"WITH {cte} SELECT excluded, days > 0, pl, ct, rate, gov, total, COUNT(*), SUM(amount * days)"  # noqa: S608 — no user text in the SQL
        " FROM f GROUP BY 1, 2, 3, 4, 5, 6, 7"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    ineligible = sum(r[7] for r in rows if r[0] or not r[1])
    groups = [
        calc.FeeGroup(
            calc.GuaranteeFacts(0, "", calc.ZERO, rate, end, end, codes[pl], ct, gov, total or calc.ZERO),
            n,
            amount_days,
        )
        for excluded, in_force, pl, ct, rate, gov, total, n, amount_days in rows
        if in_force and not excluded
    ]
    result, verdicts = calc.fee_subsidy_sum(
        groups,
        lines,
        day_basis=basis,
        on_govlist=on_list,
        institution_cap=p.institution_cap(scheme.params),
        ineligible=ineligible,
    )
    return result, verdicts, codes, basis, cte, params


def fee_subsidy_estimate(*, scheme: Scheme, institution_id: int, year: int) -> calc.FeeTotal:
    """The amount and counts of the fee subsidy, not stored and without the lines: one grouped
    statement on PostgreSQL, the Python lines elsewhere (the same amount either way)."""
    if fee_in_sql():
        return _fee_sum_sql(scheme, institution_id, year, None)[0]
    results, amount, capped = fee_subsidy_evaluate(scheme=scheme, institution_id=institution_id, year=year)
    eligible = [r for r in results if r.eligible]
    unrounded = sum((r.amount for r in eligible), calc.ZERO)
    return calc.FeeTotal(len(results), len(eligible), unrounded, amount, capped)


def _fee_insert_sql(
    application: Application, verdicts: dict, codes: dict, basis: int, cte: str, params: dict
):
    """The explanation lines stored by one INSERT … SELECT: each guarantee joined to the verdict of its
    group (judged in Python), its amount computed in the database as calculations.fee_subsidy_line does."""
    ids = {code: pk for pk, code in codes.items()}
    v = list(verdicts.items())
    params = {
        **params,
        "v_pl": [ids[key[0]] for key, _ in v],
        "v_ct": [key[1] for key, _ in v],
        "v_rate": [key[2] for key, _ in v],
        "v_gov": [key[3] for key, _ in v],
        "v_total": [key[4] for key, _ in v],
        "v_ok": [line is not None for _, (line, _r) in v],
        "v_key": [line.key if line else "" for _, (line, _r) in v],
        "v_points": [line.points if line else calc.ZERO for _, (line, _r) in v],
        "v_reason": [store(*reasons) for _, (_l, reasons) in v],
        "app": application.pk,
        "scheme": application.scheme_id,
        "basis": basis,
        "excluded_reason": store(EXCLUDED_REASON),
        "not_in_force": store(calc.NOT_IN_FORCE),
    }
    table = ApplicationLine._meta.db_table
    sql = f"""WITH {cte},
    v AS (SELECT * FROM unnest(%(v_pl)s::bigint[], %(v_ct)s::text[], %(v_rate)s::numeric[], %(v_gov)s::bool[],
                               %(v_total)s::numeric[], %(v_ok)s::bool[], %(v_key)s::text[],
                               %(v_points)s::numeric[], %(v_reason)s::text[])
          AS v(pl, ct, rate, gov, total, ok, key, points, reason)),
    j AS (SELECT f.*, (NOT f.excluded AND f.days > 0) AS judged, v.ok, v.key, v.points, v.reason
          FROM f LEFT JOIN v ON v.pl = f.pl AND v.ct = f.ct AND v.rate = f.rate AND v.gov = f.gov
                              AND v.total = COALESCE(f.total, 0))
    INSERT INTO {table} ({", ".join(LINE_COLUMNS)})
    SELECT %(app)s, %(scheme)s, %(year)s, id, contract_no, judged AND ok, judged AND ok,
           CASE WHEN excluded THEN %(excluded_reason)s WHEN NOT judged THEN %(not_in_force)s ELSE reason END,
           CASE WHEN judged AND ok THEN key ELSE '' END,
           CASE WHEN judged THEN days ELSE 0 END,
           CASE WHEN judged THEN amount ELSE 0 END,
           CASE WHEN judged AND ok THEN points ELSE 0 END,
           CASE WHEN judged AND ok THEN ROUND(amount * points * days, 20) / %(basis)s ELSE 0 END
    FROM j"""  # noqa: S608 — model table and column names only; every value a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _claimed_elsewhere(application: Application) -> set[int]:
    return set(
        ApplicationLine.objects.filter(scheme=application.scheme, year=application.year, claimed=True)
        .exclude(application=application)
        .values_list("guarantee_id", flat=True)
    )


def _stamp_records(institution_id: int, year: int) -> dict:
    start, end = _period(year)
    guarantees = Guarantee.objects.filter(
        institution_id=institution_id, start_date__lte=end, end_date__gt=start
    )
    g = guarantees.aggregate(n=Max("id"), changed=Max("updated_at"))
    e = GuaranteeEvent.objects.filter(
        guarantee__institution_id=institution_id, occurred_on__lte=end
    ).aggregate(changed=Max("created_at"))
    return {
        "records_changed": g["changed"].isoformat() if g["changed"] else None,
        "events_changed": e["changed"].isoformat() if e["changed"] else None,
    }


def data_stamp(application: Application) -> dict:
    """What the amount depends on, now: compared with the stamp frozen at computation, it tells that
    newer data exist (a decided application keeps its amount)."""
    if application.scheme.kind == SchemeKind.AWARD_POOL:
        version = _award_version(application.institution_id, application.year)
        return {"filing_version": version.pk if version else None}
    return _stamp_records(application.institution_id, application.year)


def _award_version(institution_id: int, year: int):
    from reporting.models import FilingVersion

    return (
        FilingVersion.objects.filter(
            filing__institution_id=institution_id, filing__year=year, submitted_at__isnull=False
        )
        .select_related("filing")
        .order_by("-filing__quarter", "-number")
        .first()
    )


def _compute_fee(application: Application) -> tuple[dict, list[ApplicationLine]]:
    if fee_in_sql():
        return _compute_fee_sql(application)
    results, amount, capped = fee_subsidy_evaluate(
        scheme=application.scheme,
        institution_id=application.institution_id,
        year=application.year,
        claimed_elsewhere=_claimed_elsewhere(application),
    )
    lines = [
        ApplicationLine(
            application=application,
            scheme_id=application.scheme_id,
            year=application.year,
            guarantee_id=r.guarantee_id,
            label=r.label,
            eligible=r.eligible,
            claimed=r.eligible,
            reason=store(*r.reasons),
            line_key=r.line_key,
            days=r.days,
            base=r.base,
            rate=r.rate,
            amount=r.amount,
        )
        for r in results
    ]
    eligible = [r for r in results if r.eligible]
    summary = {
        "kind": SchemeKind.FEE_SUBSIDY,
        "guarantees": len(results),
        "eligible": len(eligible),
        "unrounded": str(sum((r.amount for r in eligible), calc.ZERO)),
        "amount": str(amount),
        "capped": capped,
        "day_basis": p.day_basis(application.scheme.params),
    }
    return {"amount": amount, "summary": summary}, lines


def _compute_fee_sql(application: Application):
    """_compute_fee on PostgreSQL: the amount from one grouped statement, the lines stored by
    INSERT … SELECT when _compute stores them (nothing fetched per guarantee)."""
    total, verdicts, codes, basis, cte, params = _fee_sum_sql(
        application.scheme, application.institution_id, application.year, application
    )
    summary = {
        "kind": SchemeKind.FEE_SUBSIDY,
        "guarantees": total.guarantees,
        "eligible": total.eligible,
        "unrounded": str(total.unrounded),
        "amount": str(total.amount),
        "capped": total.capped,
        "day_basis": basis,
    }

    def store() -> None:
        _fee_insert_sql(application, verdicts, codes, basis, cte, params)

    return {"amount": total.amount, "summary": summary}, store


def _compute_risk(application: Application) -> tuple[dict, list[ApplicationLine]]:
    scheme, year = application.scheme, application.year
    start, end = _period(year)
    bands = p.compensation_bands(scheme.params)
    method = p.compensation_method(scheme.params)
    if scheme.params.get("govlist_only") and application.institution_id not in government_backed_ids(
        on=end, institution_ids=[application.institution_id]
    ):
        raise calc.Uncomputable(Message("机构在%(end)s不在政府性融资担保机构名单中", end=end))
    events = GuaranteeEvent.objects.filter(
        guarantee__institution_id=application.institution_id,
        occurred_on__range=(start, end),
        kind__in=(EventKind.RELEASE, EventKind.COMPENSATION),
    )
    if scheme.params.get("gov_backed_only"):
        events = events.filter(guarantee__gov_backed=True)
    per_guarantee: dict[int, dict] = {}
    for gid, contract, kind, amount, interest in events.values_list(
        "guarantee_id", "guarantee__contract_no", "kind", "amount", "interest"
    ).order_by("guarantee_id", "occurred_on", "id"):
        row = per_guarantee.setdefault(
            gid, {"label": contract, "released": calc.ZERO, "compensation": calc.ZERO}
        )
        row["released"] += amount  # a compensated principal also ends the guarantee: released (fin_released)
        if kind == EventKind.COMPENSATION:
            row["compensation"] += amount + interest
    released = sum((r["released"] for r in per_guarantee.values()), calc.ZERO)
    compensation = sum((r["compensation"] for r in per_guarantee.values()), calc.ZERO)
    lines = [
        ApplicationLine(
            application=application,
            scheme_id=scheme.pk,
            year=year,
            guarantee_id=gid,
            label=r["label"],
            eligible=True,
            reason=store(Message("解保") if not r["compensation"] else Message("代偿")),
            base=r["released"],
            amount=r["compensation"],
        )
        for gid, r in per_guarantee.items()
    ]
    result = calc.risk_compensation(released=released, compensation=compensation, bands=bands)
    amount = result.marginal if method == CompensationMethod.MARGINAL else result.whole
    summary = {
        "kind": SchemeKind.RISK_COMPENSATION,
        "released": str(released),
        "compensation": str(compensation),
        "rate": str(result.rate),
        "method": method,
        "marginal": str(result.marginal),
        "whole": str(result.whole),
        "whole_band_share": str(result.whole_band_share),
        "whole_base": str(result.whole_base),
        "slices": [[str(a), str(b), str(s), str(paid)] for a, b, s, paid in result.slices],
        "amount": str(amount),
    }
    return {"amount": amount, "marginal": result.marginal, "whole": result.whole, "summary": summary}, lines


def _compute_award(application: Application) -> tuple[dict, list[ApplicationLine]]:
    version = _award_version(application.institution_id, application.year)
    if version is None:
        raise calc.Uncomputable(Message("%(year)s年度尚无已报送的季度报表，无法测算", year=application.year))
    values = version.decimal_values()
    amount = values.get("annualized_new_amount_le5m") or calc.ZERO
    fees = values.get("fee_new_le5m") or calc.ZERO
    rate = fees / amount if amount > 0 else None
    bands = p.coefficient_bands(application.scheme.params)
    coefficient = calc.award_coefficient(rate, bands) if rate is not None else None
    eligible = coefficient is not None
    reason = ""
    if rate is None:
        reason = store(Message("本年新增小微企业年化担保额为零，费率无法计算"))
    elif not eligible:
        reason = store(Message("年化担保费率%(pct)s高于奖补上限", pct=calc._pct(rate)))
    weighted = amount * coefficient if eligible else calc.ZERO
    line = ApplicationLine(
        application=application,
        scheme_id=application.scheme_id,
        year=application.year,
        label=f"{version.filing.year}年第{version.filing.quarter}季度报表 第{version.number}版",
        eligible=eligible,
        reason=reason,
        base=amount,
        rate=coefficient or calc.ZERO,
        amount=weighted,
    )
    summary = {
        "kind": SchemeKind.AWARD_POOL,
        "filing_version": version.pk,
        "new_amount": str(amount),
        "fees": str(fees),
        "rate": None if rate is None else str(rate),
        "coefficient": None if coefficient is None else str(coefficient),
        "weighted": str(weighted),
    }
    return {"amount": None, "summary": summary}, [line]


COMPUTERS = {
    SchemeKind.FEE_SUBSIDY: _compute_fee,
    SchemeKind.RISK_COMPENSATION: _compute_risk,
    SchemeKind.AWARD_POOL: _compute_award,
}


def _stored_reason(reason) -> str:
    """Why the amount cannot be computed, kept so that each reader sees it in their language."""
    return store(reason, max_length=Application._meta.get_field("uncomputable_reason").max_length)


def _compute(application: Application) -> None:
    """Recompute and freeze: the lines, the amount and the stamp of the data used (in a draft only)."""
    ApplicationLine.objects.filter(application=application).delete()
    application.uncomputable_reason = ""
    application.marginal_amount = application.whole_amount = None
    application.data_stamp = data_stamp(application)
    application.computed_at = timezone.now()
    try:
        result, lines = COMPUTERS[application.scheme.kind](application)
    except calc.Uncomputable as exc:
        application.computed_amount = None
        application.computation = {"kind": application.scheme.kind, "error": str(exc)}
        application.uncomputable_reason = _stored_reason(exc.args[0] if exc.args else str(exc))
        return
    except AppError as exc:  # a scheme parameter missing for the year: said as the reason
        application.computed_amount = None
        application.computation = {"kind": application.scheme.kind, "error": str(exc.message)}
        application.uncomputable_reason = _stored_reason(exc.message)
        return
    application.computed_amount = result["amount"]
    application.marginal_amount = result.get("marginal")
    application.whole_amount = result.get("whole")
    application.computation = result["summary"]
    try:
        with transaction.atomic():
            _store_lines(lines)
    except (IntegrityError, psycopg_errors.IntegrityError):
        raise AppError(
            _("部分担保业务已在本政策同年度的其他申请中申请补贴（同一笔业务不得重复补贴）"),
            code="conflict",
        ) from None


def background_min() -> int:
    """Fee-subsidy applications over this many guarantees in force are computed by a background job
    (settings.SUBSIDY_BACKGROUND_MIN)."""
    return getattr(settings, "SUBSIDY_BACKGROUND_MIN", 20_000)


def _compute_or_queue(application: Application, actor: Actor) -> None:
    """_compute now, or, for a large fee-subsidy application, a job that computes it after this
    transaction commits (core.jobs); meanwhile the draft says it is computing and cannot be submitted."""
    if application.scheme.kind == SchemeKind.FEE_SUBSIDY:
        start, end = _period(application.year)
        n = Guarantee.objects.filter(
            institution_id=application.institution_id, start_date__lte=end, end_date__gt=start
        ).count()
        if n >= background_min():
            from .tasks import compute_application

            ApplicationLine.objects.filter(application=application).delete()
            job = job_enqueue(
                kind="subsidies.compute",
                task=compute_application,
                params={"application": application.pk, "guarantees": n},
                user=_user(actor),
            )
            application.computed_amount = application.marginal_amount = application.whole_amount = None
            application.uncomputable_reason = ""
            application.computed_at = None
            application.computation = {
                "kind": SchemeKind.FEE_SUBSIDY,
                "computing": True,
                "job": job.pk,
                "guarantees": n,
            }
            return
    _compute(application)


def application_compute_job(*, job_id: int) -> None:
    """The background computation of one application (the task subsidies.compute_application): the
    lines, the amount and the stamp, committed with the job. An application no longer a draft, or queued
    again since, is left alone."""
    with job_running(job_id) as job:
        if job is None:
            return
        pk = job.params["application"]
        Application.objects.select_for_update().filter(pk=pk).first()
        application = _locked(Application(pk=pk))
        if application.status not in EDITABLE or application.computation.get("job") != job.pk:
            job.message = store(Message("申请已变化，未测算"))
            return
        try:
            _compute(application)
        except AppError as exc:  # guarantees claimed meanwhile by another application: said as the reason
            application.computed_amount = None
            application.computation = {"kind": application.scheme.kind, "error": str(exc.message)}
            application.uncomputable_reason = _stored_reason(exc.message)
        application.save()
        n = job.params.get("guarantees", 0)
        job_progress(job, done=n, total=n)


LINE_COLUMNS = (
    "application_id",
    "scheme_id",
    "year",
    "guarantee_id",
    "label",
    "eligible",
    "claimed",
    "reason",
    "line_key",
    "days",
    "base",
    "rate",
    "amount",
)


def _store_lines(lines) -> None:
    """The explanation lines: by COPY on PostgreSQL (a 100,000-guarantee application stores 100,000
    lines; bulk INSERTs take several times longer), by bulk_create elsewhere. The partial unique index
    on claimed guarantees checks either way. A callable stores them itself (INSERT … SELECT)."""
    if callable(lines):
        lines()
        return
    if connection.vendor != "postgresql":
        ApplicationLine.objects.bulk_create(lines, batch_size=LINE_BATCH)
        return
    table = ApplicationLine._meta.db_table
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {table} ({', '.join(LINE_COLUMNS)}) FROM STDIN"  # noqa: S608 — model table and column names only
        ) as copy,
    ):
        for line in lines:
            copy.write_row([getattr(line, column) for column in LINE_COLUMNS])


# --- the workflow -----------------------------------------------------------------------------------


def _user(actor: Actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _step(application: Application, actor: Actor, frm: str, to: str, *, amount=None, note: str = "") -> None:
    ApplicationStep.objects.create(  # a system Message kept as msgid + params (shown through stored_text)
        application=application,
        from_status=frm,
        to_status=to,
        actor=_user(actor),
        amount=amount,
        note=store(note),
    )


def _transition(
    application: Application,
    actor: Actor,
    frm: tuple[str, ...],
    to: str,
    *,
    note: str = "",
    amount=None,
    **fields,
) -> Application:
    """The conditional update every transition is: nobody else moved it since we read it."""
    before = audit.snapshot(application)
    updated = Application.objects.filter(
        pk=application.pk, status__in=frm, revision=application.revision
    ).update(status=to, revision=F("revision") + 1, updated_at=timezone.now(), **fields)
    if not updated:
        current = Application.objects.filter(pk=application.pk).values_list("status", flat=True).first()
        raise AppError(
            _("该申请已被他人处理（当前状态：%(status)s），请刷新后查看")
            % {"status": Status(current).label if current else "—"},
            code="conflict",
        )
    application.refresh_from_db()
    _step(application, actor, before["status"], to, amount=amount, note=note)
    audit.record(actor=actor, action=audit.Action.TRANSITION, instance=application, before=before, note=note)
    return application


def _locked(application: Application) -> Application:
    return Application.objects.select_related("scheme", "institution").get(pk=application.pk)


@transaction.atomic
def application_create(
    *, actor: Actor, scheme: Scheme, institution: Institution, year: int, note: str = ""
) -> Application:
    """A draft for the institution under the scheme and year, computed at once."""
    _require(actor, may_prepare, institution.pk)
    if not scheme.open:
        raise _invalid("scheme", _("该政策当前不受理申请"))
    if not scheme.covers_year(year):
        raise _invalid("year", _("该政策不适用于%(year)s年度") % {"year": year})
    if scheme.region_code and not in_subtree(scheme.region_code, institution.region_id):
        raise _invalid("scheme", _("该政策不适用于本机构所在地区"))
    if (
        Application.objects.filter(scheme=scheme, institution=institution, year=year)
        .exclude(status=Status.REJECTED)
        .exists()
    ):
        raise AppError(
            _("本机构已有%(year)s年度该政策的申请") % {"year": year},
            code="conflict",
            errors={"year": [_("本年度已申请")]},
        )
    application = Application.objects.create(
        scheme=scheme, institution=institution, year=year, note=note, prepared_by=_user(actor)
    )
    application = _locked(application)
    _compute_or_queue(application, actor)
    application.save()
    _step(application, actor, "", Status.DRAFT, amount=application.computed_amount, note=note)
    audit.record(actor=actor, action=audit.Action.CREATE, instance=application, note=note)
    return application


@transaction.atomic
def application_recompute(*, actor: Actor, application: Application, note: str | None = None) -> Application:
    """Compute the draft again from the data filed now (the company's answer to a return)."""
    application = _locked(application)
    _require(actor, may_prepare, application.institution_id)
    if application.status not in EDITABLE:
        raise AppError(
            _("已申报的申请不能重新测算"),
            code="conflict",
        )
    before = audit.snapshot(application)
    _compute_or_queue(application, actor)
    if note is not None:
        application.note = note
    application.prepared_by = _user(actor) or application.prepared_by
    application.revision += 1
    application.save()
    audit.record(
        actor=actor, action=audit.Action.UPDATE, instance=application, before=before, note=Message("重新测算")
    )
    return application


@transaction.atomic
def application_submit(*, actor: Actor, application: Application) -> Application:
    """The approver submits the prepared draft (or resubmits after a return)."""
    application = _locked(application)
    _require(actor, may_submit, application.institution_id)
    if application.computation.get("computing"):
        raise AppError(
            _("正在后台测算，完成后才能申报"),
            code="conflict",
        )
    if application.uncomputable_reason:
        raise AppError(
            _("无法测算，不能申报：%(reason)s") % {"reason": show(application.uncomputable_reason)},
            errors={"amount": [show(application.uncomputable_reason)]},
        )
    to = Status.RESUBMITTED if application.status == Status.RETURNED else Status.SUBMITTED
    return _transition(
        application,
        actor,
        EDITABLE,
        to,
        amount=application.computed_amount,
        submitted_by=_user(actor),
        submitted_at=timezone.now(),
    )


def _reason(value: str, field: str, message: str) -> str:
    """A required reason or note: typed text without surrounding spaces; a system Message as it is (its
    audit note is kept as msgid + params, read in each reader's language)."""
    if not (value or "").strip():
        raise _invalid(field, message)
    return value if isinstance(value, Message) else value.strip()


@transaction.atomic
def application_return(*, actor: Actor, application: Application, note: str) -> Application:
    """初审 asks the company for more information."""
    application = _locked(application)
    _require(actor, may_review, application)
    note = _reason(note, "note", _("请填写退回意见"))
    return _transition(application, actor, TO_REVIEW, Status.RETURNED, note=note, return_note=note)


@transaction.atomic
def application_review(*, actor: Actor, application: Application, note: str = "") -> Application:
    """初审 passes the application on to the decision."""
    application = _locked(application)
    _require(actor, may_review, application)
    return _transition(
        application,
        actor,
        TO_REVIEW,
        Status.REVIEWED,
        note=note,
        amount=application.computed_amount,
        reviewed_by=_user(actor),
        reviewed_at=timezone.now(),
        review_note=note,
    )


def _budget_final(application: Application, amount: Decimal, actor: Actor) -> tuple[Decimal, Decimal | None]:
    """The final amount within the budget, scaling the unpaid approvals of the year pro rata when the
    scheme says so (each scaled decision gets a step saying by how much), or refusing."""
    scheme = application.scheme
    if scheme.budget is None:
        return amount, None
    others = Application.objects.filter(scheme=scheme, year=application.year, status__in=COMMITTED).exclude(
        pk=application.pk
    )
    paid = others.filter(status=Status.PAID).aggregate(t=Sum("final_amount"))["t"] or calc.ZERO
    unpaid = list(others.exclude(status=Status.PAID))
    unpaid_asked = sum((a.approved_amount or calc.ZERO for a in unpaid), calc.ZERO)
    factor = calc.pro_rata_factor(budget=scheme.budget - paid, committed=unpaid_asked, requested=amount)
    if factor is None:
        # everything fits at the amounts asked: scaled decisions of the year return to their amounts
        for other in unpaid:
            if other.pro_rata_factor is not None:
                Application.objects.filter(pk=other.pk).update(
                    final_amount=other.approved_amount, pro_rata_factor=None
                )
        return amount, None
    if scheme.budget_mode == BudgetMode.REFUSE:
        remaining = calc.money(scheme.budget - paid - unpaid_asked)
        raise AppError(
            _("超出年度预算：预算剩余%(remaining)s万元，本次核定%(amount)s万元，按政策设定不再核准")
            % {"remaining": remaining, "amount": amount},
            code="conflict",
            errors={"amount": [_("超出预算")]},
        )
    for other in unpaid:
        final = calc.money(other.approved_amount * factor)
        Application.objects.filter(pk=other.pk).update(final_amount=final, pro_rata_factor=factor)
        _step(
            other,
            actor,
            other.status,
            other.status,
            amount=final,
            note=_("预算不足，按比例核减（系数 %(factor)s）") % {"factor": format(factor, ".6f")},
        )
    return calc.money(amount * factor), factor


@transaction.atomic
def application_decide(
    *,
    actor: Actor,
    application: Application,
    approve: bool,
    amount: Decimal | None = None,
    reason: str = "",
) -> Application:
    """复核: approve with an amount (a changed amount needs a reason) or reject with a reason, by a
    finance officer of the scheme's level other than the one who reviewed."""
    application = _locked(application)
    _require(actor, may_decide, application)
    scheme = Scheme.objects.select_for_update().get(
        pk=application.scheme_id
    )  # one approval of a scheme at a time
    application.scheme = scheme
    if application.reviewed_by_id and _user(actor) and application.reviewed_by_id == actor.pk:
        raise _forbidden(_("复核须由初审以外的另一名工作人员进行"))
    if application.status != Status.REVIEWED:
        raise AppError(_("该申请不在待复核状态"), code="conflict")
    now = timezone.now()
    if not approve:
        reason = _reason(reason, "reason", _("请填写不予通过的原因"))
        ApplicationLine.objects.filter(application=application).update(
            claimed=False
        )  # the guarantees are free again
        return _transition(
            application,
            actor,
            (Status.REVIEWED,),
            Status.REJECTED,
            note=reason,
            rejection_reason=reason,
            decided_by=_user(actor),
            decided_at=now,
        )
    expected = (
        application.proposed_amount
        if application.proposed_amount is not None
        else application.computed_amount
    )
    if amount is None:
        amount = expected
    if amount is None:
        raise _invalid("amount", _("尚无测算或分配金额，请填写核定金额"))
    amount = calc.money(Decimal(amount))
    if amount < 0:
        raise _invalid("amount", _("核定金额不能为负数"))
    if expected is not None and amount != expected and not reason.strip():
        raise _invalid(
            "reason",
            _("核定金额与测算金额%(expected)s万元不同，请填写调整原因") % {"expected": expected},
        )
    final, factor = _budget_final(application, amount, actor)
    note = reason.strip()
    if factor is not None:  # the officer's reason as typed, then the system's note in the reader's language
        note = store(note, Message("预算不足，按比例核减（系数 %(factor)s）", factor=f"{factor:.6f}"))
    return _transition(
        application,
        actor,
        (Status.REVIEWED,),
        Status.APPROVED,
        note=note,
        amount=final,
        approved_amount=amount,
        amount_reason=reason.strip(),
        final_amount=final,
        pro_rata_factor=factor,
        decided_by=_user(actor),
        decided_at=now,
    )


def application_decide_many(
    *, actor: Actor, applications: list[Application], reason: str = ""
) -> tuple[list[Application], dict[int, str]]:
    """Batch approval at the computed (or proposed) amounts: each in its own transaction; the refused
    ones come back with their reasons, the others are decided."""
    done, refused = [], {}
    for application in applications:
        try:
            done.append(application_decide(actor=actor, application=application, approve=True, reason=reason))
        except AppError as exc:
            refused[application.pk] = str(exc.message)
    return done, refused


@transaction.atomic
def application_publish(*, actor: Actor, application: Application, on: dt.date | None = None) -> Application:
    """Put an approved application on the publicity list for the scheme's period."""
    application = _locked(application)
    _require(actor, may_decide, application)
    start = on or timezone.localdate()
    end = start + dt.timedelta(days=application.scheme.publicity_days)
    return _transition(
        application,
        actor,
        (Status.APPROVED,),
        Status.PUBLICITY,
        amount=application.final_amount,
        note=Message("公示 %(start)s 至 %(end)s", start=str(start), end=str(end)),
        publicity_from=start,
        publicity_to=end,
    )


@transaction.atomic
def application_pay(
    *, actor: Actor, application: Application, paid_on: dt.date, reference: str
) -> Application:
    """Record the payment (date and reference), once the publicity period has ended."""
    application = _locked(application)
    _require(actor, may_decide, application)
    reference = _reason(reference, "reference", _("请填写拨付凭证号"))
    if not isinstance(paid_on, dt.date):
        raise _invalid("paid_on", _("请填写拨付日期"))
    if application.publicity_to and paid_on < application.publicity_to:
        raise _invalid(
            "paid_on",
            _("公示期至%(publicity_to)s，拨付日期不能早于公示期结束")
            % {"publicity_to": application.publicity_to},
        )
    return _transition(
        application,
        actor,
        (Status.PUBLICITY,),
        Status.PAID,
        amount=application.final_amount,
        note=reference,
        paid_on=paid_on,
        payment_reference=reference,
        paid_by=_user(actor),
    )


@transaction.atomic
def award_allocate(*, actor: Actor, scheme: Scheme, year: int) -> list[calc.AwardShare]:
    """The provincial bureau runs the pool (the scheme's budget) over the reviewed applications of the
    year: each gets its proposed amount, pool × weighted / Σ weighted (schemes.md §2)."""
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    _require(actor, may_allocate, scheme)
    if scheme.kind != SchemeKind.AWARD_POOL:
        raise _invalid("scheme", _("仅奖补资金池政策可分配"))
    applications = list(
        Application.objects.filter(scheme=scheme, year=year, status=Status.REVIEWED).select_related(
            "institution"
        )
    )
    if not applications:
        raise AppError(_("没有已初审的申请可分配"), code="conflict")
    entries = {}
    for a in applications:
        c = a.computation or {}
        rate = c.get("rate")
        entries[a.pk] = (Decimal(c.get("new_amount") or 0), None if rate is None else Decimal(rate))
    shares = calc.award_allocation(scheme.budget, entries, p.coefficient_bands(scheme.params))
    by_id = {a.pk: a for a in applications}
    for share in shares:
        a = by_id[share.key]
        before = audit.snapshot(a)
        Application.objects.filter(pk=a.pk).update(
            proposed_amount=share.award, computed_amount=share.award, revision=F("revision") + 1
        )
        a.refresh_from_db()
        note = Message("资金池%(budget)s万元按加权金额分配", budget=str(scheme.budget))
        _step(a, actor, a.status, a.status, amount=share.award, note=note)
        audit.record(actor=actor, action=audit.Action.UPDATE, instance=a, before=before, note=note)
    return shares


def visible_application(user, pk: int) -> Application:
    """One application the user may see, or not found (its existence is not revealed)."""
    application = (
        Application.objects.for_user(user)
        .select_related("scheme", "institution__region")
        .filter(pk=pk)
        .first()
    )
    if application is None or not can_see(user, application):
        raise AppError(_("未找到，或无权查看"), code="not_found")
    return application
