"""Warning cases: opened, escalated and proposed for closing from stored breaches; who handles them;
their transitions."""

from __future__ import annotations

import enum
from collections import defaultdict
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.permissions import require
from core.roles import Role
from reporting.models import Filing
from reporting.periods import Period

from .. import indicators as ind
from ..models import (
    SEVERITY_RANK,
    CloseReason,
    IndicatorBreach,
    IndicatorRun,
    Severity,
    WarningCase,
    WarningCaseQuarter,
    WarningStatus,
)
from ..permissions import may_handle_warning

if TYPE_CHECKING:
    from collections.abc import Iterable

    from core.roles import Actor

CASE_SEVERITIES = (Severity.BREACH, Severity.WARNING)
IN_LIST_MAX = 10_000  # ids per IN (...) list: SQLite and psycopg bound the parameters of a statement


def cells_for(indicator_code: str, values: dict) -> dict:
    """The report cells behind an indicator: {field code: value string or None}."""
    return {c: values.get(c) for c in ind.INDICATORS[indicator_code].inputs}


def warning_cases_sync_many(institution_ids: Iterable[int]) -> None:
    """Open, extend, escalate, reopen and propose closing warning cases of the institutions from their
    stored breaches; idempotent; a fixed number of queries whatever the number of institutions.

    One case per institution × rule spans every quarter the rule is breached (a `WarningCaseQuarter`
    each). Its level is the number of consecutive breached quarters ending with the latest; a later
    quarter judged compliant with the rule proposes closing; a closed case reopens when the rule is
    breached in a quarter after the one it was closed at. Escalations and reopenings are audited."""
    institution_ids = list(institution_ids)
    breaches: dict[tuple[int, int], dict] = defaultdict(dict)  # (institution, threshold) -> {period: b}
    for b in (
        IndicatorBreach.objects.filter(institution_id__in=institution_ids, severity__in=CASE_SEVERITIES)
        .order_by()
        .values(
            "institution_id", "threshold_id", "year", "quarter", "filing_id", "severity", "value", "indicator"
        )
    ):
        breaches[(b["institution_id"], b["threshold_id"])][Period(b["year"], b["quarter"])] = b
    runs: dict[int, dict] = defaultdict(dict)  # institution -> {period: (filing, compliant thresholds)}
    for institution_id, year, quarter, filing_id, compliant in (
        IndicatorRun.objects.filter(institution_id__in=institution_ids)
        .order_by()
        .values_list("institution_id", "year", "quarter", "filing_id", "compliant_thresholds")
    ):
        runs[institution_id][Period(year, quarter)] = (filing_id, compliant or [])
    last_run = {i: max(periods) for i, periods in runs.items()}
    cases = {
        (c.institution_id, c.threshold_id): c
        for c in WarningCase.objects.filter(institution_id__in=institution_ids).order_by()
    }
    stored_quarters: dict[int, dict] = defaultdict(dict)  # case -> {period: row}
    for row in WarningCaseQuarter.objects.filter(case__institution_id__in=institution_ids).order_by():
        stored_quarters[row.case_id][row.period] = row

    def proposer(institution_id, tid, latest, case_filing_id, breached):
        """The filing that proposes closing the case, or None while it stands."""
        inst_runs = runs[institution_id]
        if not breached:
            run = inst_runs.get(latest)
            return run[0] if run else case_filing_id
        last = last_run.get(institution_id)
        if last is None or latest >= last:
            return None  # no later quarter judged
        later = [p for p, (_f, compliant) in inst_runs.items() if p > latest and tid in compliant]
        return inst_runs[min(later)][0] if later else None

    new_cases, changed_cases, changed_fields = [], [], set()
    events: list[tuple[WarningCase, dict, str]] = []  # (case, changes, note) to audit
    wanted_quarters: dict[tuple[int, int], dict] = {}  # (institution, threshold) -> {period: fields}
    case_of: dict[tuple[int, int], WarningCase] = {}

    wanted_fields: dict[tuple[int, int], dict] = {}  # (institution, threshold) -> case fields
    new_case = _fast_constructor(WarningCase)

    def update(case, fields):
        changed = _case_changes(case, fields)
        if changed:
            changed_cases.append(case)
            changed_fields.update(changed)

    for (institution_id, tid), periods in breaches.items():
        levels = {}
        for period in sorted(periods):
            prev = period.previous()
            levels[period] = levels.get(prev, 0) + 1 if prev in periods else 1
        latest = max(periods)
        first = min(periods)
        b = periods[latest]
        wanted_quarters[(institution_id, tid)] = {
            p: {
                "filing_id": x["filing_id"],
                "severity": x["severity"],
                "level": levels[p],
                "value": x["value"],
            }
            for p, x in periods.items()
        }
        by = proposer(institution_id, tid, latest, b["filing_id"], True)
        fields = {
            "filing_id": b["filing_id"],
            "year": latest.year,
            "quarter": latest.quarter,
            "first_year": first.year,
            "first_quarter": first.quarter,
            "severity": b["severity"],
            "severity_rank": SEVERITY_RANK[b["severity"]],
            "level": levels[latest],
            "value": b["value"],
            "cells": (b["indicator"], b["filing_id"]),  # replaced by the cells below
            "close_proposed": by is not None,
            "close_proposed_by_id": by,
        }
        wanted_fields[(institution_id, tid)] = fields
    # the report cells of a case come from its latest filing's current version, read (and decoded)
    # once per such filing only
    latest_filings = {f["cells"][1] for f in wanted_fields.values()}
    filing_values = {}
    ids = sorted(latest_filings)
    for start in range(0, len(ids), IN_LIST_MAX):
        filing_values.update(
            Filing.objects.filter(pk__in=ids[start : start + IN_LIST_MAX])
            .order_by()
            .values_list("pk", "current_version__values")
        )
    for (institution_id, tid), fields in wanted_fields.items():
        indicator, filing_id = fields["cells"]
        fields["cells"] = cells_for(indicator, filing_values[filing_id])
        latest = Period(fields["year"], fields["quarter"])
        case = cases.pop((institution_id, tid), None)
        if case is None:
            case_of[(institution_id, tid)] = new_case(
                institution_id=institution_id, threshold_id=tid, max_level=fields["level"], **fields
            )
            new_cases.append(case_of[(institution_id, tid)])
            continue
        case_of[(institution_id, tid)] = case
        if (
            case.status == WarningStatus.CLOSED
            and case.closed_year
            and latest > Period(case.closed_year, case.closed_quarter)
        ):
            events.append(
                (
                    case,
                    {
                        "status": [case.status, WarningStatus.OPEN],
                        "year": [case.year, latest.year],
                        "quarter": [case.quarter, latest.quarter],
                    },
                    _("%(latest)s再次触发，预警重新开启") % {"latest": latest},
                )
            )
            fields.update(
                status=WarningStatus.OPEN,
                reopened_count=case.reopened_count + 1,
                closed_at=None,
                closed_by_id=None,
                closed_year=None,
                closed_quarter=None,
                close_reason="",
            )
        elif fields["level"] > case.max_level:
            events.append(
                (
                    case,
                    {"level": [case.max_level, fields["level"]]},
                    _("连续%(n)s个季度触发，预警升级") % {"n": fields["level"]},
                )
            )
        if fields["level"] > case.max_level:
            fields["max_level"] = fields["level"]
        update(case, fields)
    if new_cases:
        owners = case_owners({c.institution_id for c in new_cases})
        for case in new_cases:
            case.assigned_to_id = owners[case.institution_id]
    _bulk_insert(WarningCase, new_cases)
    for (institution_id, tid), case in cases.items():  # breach went away (amended filing, changed rule)
        by = proposer(institution_id, tid, case.period, case.filing_id, False)
        update(case, {"close_proposed": by is not None, "close_proposed_by_id": by})
        wanted_quarters[(institution_id, tid)] = {}
        case_of[(institution_id, tid)] = case
    if changed_cases:
        now = timezone.now()
        for case in changed_cases:
            case.updated_at = now  # bulk_update does not apply auto_now
        # fields a case did not change are written back with the value just read
        WarningCase.objects.bulk_update(
            changed_cases, [k.removesuffix("_id") for k in sorted(changed_fields)] + ["updated_at"]
        )
    _sync_quarters(case_of, wanted_quarters, stored_quarters)
    if events:
        _audit_system_events(events)


def _sync_quarters(case_of: dict, wanted_quarters: dict, stored_quarters: dict) -> None:
    """Make each case's quarter rows the quarters its rule is breached in, marking the others cleared
    (one insert and one update at most)."""
    to_create, to_update = [], []
    for key, wanted in wanted_quarters.items():
        case = case_of[key]
        stored = stored_quarters.get(case.pk, {})
        for period, fields in wanted.items():
            row = stored.get(period)
            fields = {**fields, "cleared": False}
            if row is None:
                to_create.append(
                    {"case_id": case.pk, "year": period.year, "quarter": period.quarter, **fields}
                )
            elif any(getattr(row, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(row, k, v)
                to_update.append(row)
        for period, row in stored.items():  # no longer breached: kept, marked cleared
            if period not in wanted and not row.cleared:
                row.cleared = True
                to_update.append(row)
    if to_create and connection.vendor == "postgresql":  # rows, not instances: one per breached quarter
        columns = list(to_create[0])
        qn = connection.ops.quote_name
        table, names = qn(WarningCaseQuarter._meta.db_table), ", ".join(qn(c) for c in columns)
        with connection.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in to_create:
                copy.write_row([row[c] for c in columns])
    else:
        WarningCaseQuarter.objects.bulk_create([WarningCaseQuarter(**row) for row in to_create])
    if to_update:
        WarningCaseQuarter.objects.bulk_update(to_update, ["filing", "severity", "level", "value", "cleared"])


def _fast_constructor(model: type[models.Model]):
    """A constructor of new instances from keyword values, the other fields at their defaults, through
    the model's positional `__init__`: a first recompute opens tens of thousands of cases, and the
    keyword form costs more per instance than writing it."""
    fields = model._meta.concrete_fields
    names = {f.attname for f in fields}
    plain = {f.attname: f.get_default() for f in fields if not callable(f.default)}
    computed = [f for f in fields if callable(f.default)]

    def construct(**values):
        unknown = values.keys() - names
        if unknown:
            raise TypeError(f"unknown fields of {model.__name__}: {sorted(unknown)}")
        row = {**plain, **{f.attname: f.get_default() for f in computed if f.attname not in values}}
        row.update(values)
        return model(*(row[f.attname] for f in fields))

    return construct


def _bulk_insert(model: type[models.Model], objs: list[models.Model]) -> None:
    """`bulk_create` of new rows (their ids set); on PostgreSQL by COPY, ids drawn from the table's
    sequence first: a first recompute opens tens of thousands of cases and quarters, and bulk_create's
    per-field preparation costs more than the database does."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs)
        return
    from psycopg.types.json import Jsonb

    meta, qn = model._meta, connection.ops.quote_name
    fields = meta.concrete_fields
    stamped = [
        f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    now = timezone.now()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cur.fetchall(), strict=True):
            obj.pk = pk
            for name in stamped:  # what pre_save does for auto_now(_add) fields
                setattr(obj, name, now)
            obj._state.adding, obj._state.db = False, connection.alias

        def plain(v):
            return v.value if isinstance(v, enum.Enum) else v  # a choice member: its value

        # each field's conversion chosen once, not per cell
        cells = [(f.attname, Jsonb if isinstance(f, models.JSONField) else plain) for f in fields]
        columns = ", ".join(qn(f.column) for f in fields)
        with cur.copy(f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row([convert(getattr(obj, name)) for name, convert in cells])


def _audit_system_events(events) -> None:
    """Audit rows of what the system did to cases (escalation, reopening), in one insert."""
    from django.contrib.contenttypes.models import ContentType

    from core.middleware import current_request_id
    from core.models import AuditEvent

    content_type = ContentType.objects.get_for_model(WarningCase)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=None,
                actor_label="系统",
                request_id=current_request_id(),
                action=audit.Action.TRANSITION,
                content_type=content_type,
                object_id=str(case.pk),
                object_repr=f"{case.institution_id} {case.threshold_id}",
                changes=changes,
                note=note,
            )
            for case, changes, note in events
        ]
    )


def jurisdiction_chain(region_code: str) -> list[str]:
    """The region and the regions above it, nearest first (county → city → province)."""
    return list(dict.fromkeys([region_code, region_code[:4] + "00", region_code[:2] + "0000"]))


def case_regulators(region_code: str) -> list:
    """Active regulators whose jurisdiction covers `region_code`, nearest jurisdiction first."""
    from accounts.models import User

    chain = jurisdiction_chain(region_code)
    users = User.objects.filter(role=Role.REGULATOR, is_active=True, region_id__in=chain)
    return sorted(users, key=lambda u: (chain.index(u.region_id), u.username))


def case_owners(institution_ids: Iterable[int]) -> dict[int, int | None]:
    """Who a new warning case goes to: a regulator of the institution's own region, else of the nearest
    region above it (first by username); two queries for any number of institutions."""
    from accounts.models import User
    from institutions.models import Institution

    chains = {
        pk: jurisdiction_chain(code)
        for pk, code in Institution.objects.filter(pk__in=list(institution_ids)).values_list(
            "pk", "region_id"
        )
    }
    first: dict[str, int] = {}
    for region_id, pk in (
        User.objects.filter(
            role=Role.REGULATOR,
            is_active=True,
            region_id__in={c for chain in chains.values() for c in chain},
        )
        .order_by("username")
        .values_list("region_id", "pk")
    ):
        first.setdefault(region_id, pk)
    return {i: next((first[c] for c in chain if c in first), None) for i, chain in chains.items()}


def _case_changes(case: WarningCase, fields: dict) -> list[str]:
    """Apply `fields` to the case (a closed case keeps its closing proposal); the names changed."""
    if fields.get("status", case.status) == WarningStatus.CLOSED:
        fields = {k: v for k, v in fields.items() if not k.startswith("close_proposed")}
    changed = [k for k, v in fields.items() if getattr(case, k) != v]
    for k in changed:
        setattr(case, k, fields[k])
    return changed


# --- warning case transitions -----------------------------------------------------------------------


def _check_case_authority(actor: Actor, case: WarningCase) -> None:
    require(actor, may_handle_warning, case, message=_("无权处理该预警"))


@transaction.atomic
def warning_case_acknowledge(*, actor: Actor, case: WarningCase, note: str = "") -> WarningCase:
    _check_case_authority(actor, case)
    before = audit.snapshot(case)
    updated = WarningCase.objects.filter(pk=case.pk, status=WarningStatus.OPEN).update(
        status=WarningStatus.ACKNOWLEDGED, assigned_to=actor, updated_at=timezone.now()
    )
    if not updated:
        raise ValidationError(_("只有待处理的预警可以确认"))
    case.refresh_from_db()
    audit.record(actor=actor, action=audit.Action.TRANSITION, instance=case, before=before, note=note)
    return case


@transaction.atomic
def warning_case_assign(*, actor: Actor, case: WarningCase, assignee: Actor, note: str = "") -> WarningCase:
    """Hand an open or acknowledged case to another regulator whose jurisdiction covers the institution (转办)."""
    _check_case_authority(actor, case)
    if assignee.pk not in {u.pk for u in case_regulators(case.institution.region_id)}:
        raise ValidationError(_("承办人须为辖区覆盖该机构的监管人员"))
    before = audit.snapshot(case)
    updated = (
        WarningCase.objects.filter(pk=case.pk)
        .exclude(status=WarningStatus.CLOSED)
        .update(assigned_to=assignee, updated_at=timezone.now())
    )
    if not updated:
        raise ValidationError(_("预警已关闭"))
    case.refresh_from_db()
    audit.record(actor=actor, action=audit.Action.UPDATE, instance=case, before=before, note=note)
    return case


@transaction.atomic
def warning_case_close(
    *, actor: Actor, case: WarningCase, note: str, reason: str = CloseReason.OTHER
) -> WarningCase:
    """Close with a reason (and a note); the case reopens if its rule is breached after its latest quarter."""
    _check_case_authority(actor, case)
    if not note.strip():
        raise ValidationError(_("关闭预警须填写处理说明"))
    if reason not in CloseReason.values:
        raise ValidationError(_("请选择关闭原因"))
    before = audit.snapshot(case)
    now = timezone.now()
    updated = (
        WarningCase.objects.filter(pk=case.pk)
        .exclude(status=WarningStatus.CLOSED)
        .update(
            status=WarningStatus.CLOSED,
            note=note.strip(),
            close_reason=reason,
            closed_year=F("year"),
            closed_quarter=F("quarter"),
            closed_at=now,
            closed_by=actor,
            updated_at=now,
        )
    )
    if not updated:
        raise ValidationError(_("预警已关闭"))
    case.refresh_from_db()
    audit.record(actor=actor, action=audit.Action.TRANSITION, instance=case, before=before, note=note)
    return case


def _bulk_cases(actor: Actor, case_ids: Iterable[int]) -> list[WarningCase]:
    """The open cases among `case_ids` the actor may handle, locked; PermissionDenied if any other is asked."""
    ids = {int(i) for i in case_ids}
    if not ids:
        raise ValidationError(_("请选择预警"))
    rows = list(
        WarningCase.objects.for_user(actor, "change")
        .filter(pk__in=ids)
        .select_related("institution")
        .select_for_update(of=("self",))
        .order_by("pk")
        if actor is not None
        else WarningCase.objects.filter(pk__in=ids).select_for_update().order_by("pk")
    )
    if len(rows) != len(ids):
        raise PermissionDenied(_("无权处理所选的部分预警"))
    return rows


@transaction.atomic
def warning_cases_bulk_assign(
    *, actor: Actor, case_ids: Iterable[int], assignee: Actor, note: str = ""
) -> int:
    """Hand the selected open cases to one regulator covering each institution; all or none."""
    cases = [c for c in _bulk_cases(actor, case_ids) if c.status != WarningStatus.CLOSED]
    regions = {c.institution.region_id for c in cases} if cases else set()
    for region in regions:
        if assignee.pk not in {u.pk for u in case_regulators(region)}:
            raise ValidationError(_("承办人须为辖区覆盖所选机构的监管人员"))
    befores = {c.pk: audit.snapshot(c) for c in cases}
    WarningCase.objects.filter(pk__in=[c.pk for c in cases]).update(
        assigned_to=assignee, updated_at=timezone.now()
    )
    for case in cases:
        case.assigned_to = assignee
        audit.record(
            actor=actor, action=audit.Action.UPDATE, instance=case, before=befores[case.pk], note=note
        )
    return len(cases)


@transaction.atomic
def warning_cases_bulk_close(*, actor: Actor, case_ids: Iterable[int], reason: str, note: str) -> int:
    """Close the selected open cases with one reason and note; all or none."""
    if not note.strip():
        raise ValidationError(_("关闭预警须填写处理说明"))
    if reason not in CloseReason.values:
        raise ValidationError(_("请选择关闭原因"))
    cases = [c for c in _bulk_cases(actor, case_ids) if c.status != WarningStatus.CLOSED]
    now = timezone.now()
    for case in cases:
        before = audit.snapshot(case)
        case.status, case.note, case.close_reason = WarningStatus.CLOSED, note.strip(), reason
        case.closed_year, case.closed_quarter = case.year, case.quarter
        case.closed_at, case.closed_by, case.updated_at = now, actor, now
        audit.record(actor=actor, action=audit.Action.TRANSITION, instance=case, before=before, note=note)
    WarningCase.objects.bulk_update(
        cases,
        [
            "status",
            "note",
            "close_reason",
            "closed_year",
            "closed_quarter",
            "closed_at",
            "closed_by",
            "updated_at",
        ],
    )
    return len(cases)
