"""Loan-level record services: stage a batch, then validate and commit it all or nothing.

A commit is an upsert keyed the way the records are: clients by (institution, id kind, id key),
guarantees by (institution, contract number), events by (guarantee, kind, date, amount). Rows go first
into temporary staging tables — by COPY on PostgreSQL, by one bulk insert on SQLite — and each table is
then written by one INSERT … SELECT … ON CONFLICT statement that updates only rows whose values differ.
So sending the same batch again writes nothing, and a stored contract number updates its guarantee.
"""
# ruff: noqa: S608 — the SQL below is assembled from model table and column names only; values are parameters.

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath

import pandas as pd
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Region, User
from core import audit
from core.excel import UploadProblem, UploadRejected
from core.exceptions import AppError
from core.jobs import job_enqueue, job_fail, job_progress, job_running
from core.models import Job
from core.stored_text import Message
from institutions.models import Bank, Institution

from .choices import BatchStatus, Channel
from .excel import BatchRows, read_batch, read_json
from .models import Client, Guarantee, GuaranteeEvent, ImportBatch, MagnitudeRule, ProductLine
from .permissions import may_file_records
from .validation import MagnitudeLimit, ValidationResult, normalise_text, validate_batch

log = logging.getLogger(__name__)

LOOKUP_CHUNK = 5000

CLIENT_COLUMNS = (
    "id_kind",
    "id_key",
    "id_last4",
    "name",
    "client_type",
    "industry",
    "region_id",
    "group_name",
)
# Guarantee columns compared on a re-send (the batch id and timestamps are not data).
GUARANTEE_DATA = (
    "client_id",
    "bank_id",
    "other_lender",
    "loan_amount",
    "guaranteed_amount",
    "start_date",
    "end_date",
    "fee_rate",
    "fee_amount",
    "product_line_id",
    "gov_backed",
    "batch_zdz",
    "agreement_id",
    "reguarantee_provincial_share",
    "national_fund_share",
    "counter_guarantee",
)
STAGE_GUARANTEE_COLUMNS = (
    "contract_no",
    "id_kind",
    "id_key",
    "bank_id",
    "other_lender",
    "loan_amount",
    "guaranteed_amount",
    "start_date",
    "end_date",
    "fee_rate",
    "fee_amount",
    "product_line_id",
    "gov_backed",
    "batch_zdz",
    "reguarantee_provincial_share",
    "national_fund_share",
    "counter_guarantee",
)
EVENT_COLUMNS = ("contract_no", "kind", "occurred_on", "amount", "interest")

# The same DDL on PostgreSQL and SQLite (SQLite reads the types as affinities).
STAGING_TABLES = {
    "stage_client": "id_kind varchar(16), id_key varchar(64), id_last4 varchar(4), name varchar(200), "
    "client_type varchar(24), industry varchar(64), region_id varchar(6), group_name varchar(200)",
    "stage_guarantee": "contract_no varchar(64), id_kind varchar(16), id_key varchar(64), bank_id bigint, "
    "other_lender varchar(200), loan_amount numeric(16,2), guaranteed_amount numeric(16,2), start_date date, "
    "end_date date, fee_rate numeric(9,6), fee_amount numeric(16,2), product_line_id bigint, "
    "gov_backed boolean, batch_zdz boolean, reguarantee_provincial_share numeric(7,4), "
    "national_fund_share numeric(7,4), counter_guarantee varchar(16)",
    "stage_event": "contract_no varchar(64), kind varchar(16), occurred_on date, amount numeric(16,2), "
    "interest numeric(16,2)",
}


NOT_YOURS = gettext_lazy("无权报送该机构的担保业务明细")


@transaction.atomic
def batch_stage(*, actor: User, institution: Institution, channel: str, source_name: str = "") -> ImportBatch:
    """Open a batch for an institution's records (the channel then brings its rows to batch_commit)."""
    if not may_file_records(actor, institution):
        raise AppError(NOT_YOURS, code="forbidden")
    if channel not in Channel.values:
        raise AppError(_("未知的报送渠道“%(channel)s”") % {"channel": channel})
    batch = ImportBatch.objects.create(
        institution=institution, uploaded_by=actor, channel=channel, source_name=source_name[:255]
    )
    audit.record(actor=actor, action=audit.Action.CREATE, instance=batch)
    return batch


def referenced_contracts(events: pd.DataFrame | Iterable[Mapping]) -> set[str]:
    """The contract numbers that event rows name, read as validation reads them."""
    values = (
        events.get("contract_no", [])
        if isinstance(events, pd.DataFrame)
        else [e.get("contract_no") for e in events]
    )
    return {normalise_text(v) for v in values} - {""}


def _stored_contracts(institution: Institution, numbers: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(numbers)
    for i in range(0, len(ordered), LOOKUP_CHUNK):
        found.update(
            Guarantee.objects.filter(
                institution=institution, contract_no__in=ordered[i : i + LOOKUP_CHUNK]
            ).values_list("contract_no", flat=True)
        )
    return found


def batch_check(
    *,
    institution: Institution,
    guarantees: pd.DataFrame | Iterable[Mapping],
    events: pd.DataFrame | Iterable[Mapping],
) -> ValidationResult:
    """Validate rows against what the database knows today (banks, stored contracts, product lines,
    regions, the magnitude rules in force); writes nothing."""
    if not isinstance(events, pd.DataFrame):
        events = list(events)
    today = timezone.localdate()
    return validate_batch(
        guarantees,
        events,
        known_banks=set(Bank.objects.values_list("name", flat=True)),
        known_contracts=_stored_contracts(institution, referenced_contracts(events)),
        product_lines=dict(ProductLine.objects.values_list("name_zh", "code")),
        known_regions=set(Region.objects.values_list("code", flat=True)),
        limits=[
            MagnitudeLimit(column=r.column, limit=r.limit)
            for r in MagnitudeRule.objects.governing(today, institution.region_id).values()
        ],
        hash_key=settings.PII_HASH_KEY.encode(),
    )


def batch_commit(
    *,
    actor: User,
    batch: ImportBatch,
    guarantees: pd.DataFrame | Iterable[Mapping],
    events: pd.DataFrame | Iterable[Mapping],
    confirm_warnings: bool = False,
) -> ValidationResult:
    """Validate the batch's rows and, if there is no error and every warning is confirmed, write them all
    in one transaction; otherwise write nothing. The findings and counts are kept on the batch:

    - errors → status failed (the filer corrects the file and sends a new batch);
    - warnings not yet confirmed → status stays staged: the filer looks at them and confirms;
    - clean, or warnings confirmed → status committed.

    Validation runs again at every call: the database may have changed since a preview.
    """
    institution = batch.institution
    if not may_file_records(actor, institution):
        raise AppError(NOT_YOURS, code="forbidden")
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.STAGED).update(
        status=BatchStatus.VALIDATING, progress=10
    )
    if not claimed:
        batch.refresh_from_db()
        raise AppError(
            _("批次 #%(pk)s 为“%(status)s”，不是待提交状态，不能提交")
            % {"pk": batch.pk, "status": batch.get_status_display()},
            code="conflict",
        )
    try:
        result = batch_check(institution=institution, guarantees=guarantees, events=events)
        ImportBatch.objects.filter(pk=batch.pk).update(progress=50)  # seen by the page while it writes
        summary = {
            "guarantee_rows": len(result.guarantees),
            "event_rows": len(result.events),
            "error_count": len(result.errors),
            "warning_count": len(result.warnings),
            "findings": [f.as_dict() for f in result.findings[: ImportBatch.MAX_FINDINGS]],
            "progress": 50,
        }
        if result.errors:
            _finish(actor=actor, batch=batch, status=BatchStatus.FAILED, fields=summary)
        elif result.warnings and not confirm_warnings:
            _finish(actor=actor, batch=batch, status=BatchStatus.STAGED, fields=summary)
        else:
            with transaction.atomic():
                counts = _write(batch, result)
                now = timezone.now()
                confirmed = (
                    {"warnings_confirmed_by": actor, "warnings_confirmed_at": now} if result.warnings else {}
                )
                fields = {**summary, **counts, **confirmed, "committed_at": now, "progress": 100}
                _finish(actor=actor, batch=batch, status=BatchStatus.COMMITTED, fields=fields)
    except Exception:
        ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.VALIDATING).update(
            status=BatchStatus.FAILED
        )
        raise
    batch.refresh_from_db()
    return result


@transaction.atomic
def _finish(*, actor: User, batch: ImportBatch, status: str, fields: dict) -> None:
    """Move the batch out of validation (conditional update) and leave the audit row."""
    before = audit.snapshot(ImportBatch.objects.get(pk=batch.pk))
    before.pop("findings")  # kept on the batch itself; the audit row names status and counts
    if not ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.VALIDATING).update(
        status=status, **fields
    ):
        raise AppError(
            _("批次 #%(pk)s 的状态已被其他操作改变") % {"pk": batch.pk},
            code="conflict",
        )
    batch.refresh_from_db()
    after = audit.snapshot(batch)
    after.pop("findings")
    audit.record(
        actor=actor,
        action=audit.Action.TRANSITION,
        instance=batch,
        changes=audit.diff(before, after),
        note=Message("担保业务明细批次校验/入库"),
    )


# ---------------------------------------------------------------------------------------------- writing
def _write(batch: ImportBatch, result: ValidationResult) -> dict[str, int]:
    institution_id = batch.institution_id
    bank_ids = dict(Bank.objects.values_list("name", "id"))
    line_ids = dict(ProductLine.objects.values_list("code", "id"))
    g = result.guarantees
    guarantee_rows = g.assign(  # object columns: a missing bank stays None, not a float NaN
        bank_id=pd.Series([bank_ids.get(name) for name in g["bank"]], index=g.index, dtype=object),
        product_line_id=pd.Series(
            [line_ids[code] for code in g["product_line"]], index=g.index, dtype=object
        ),
    )
    now = timezone.now()
    with connection.cursor() as cursor:
        # Created and dropped inside the commit's transaction: a rollback removes them too.
        for table, columns in STAGING_TABLES.items():
            cursor.execute(f"CREATE TEMPORARY TABLE {table} ({columns})")
        _stage(cursor, "stage_client", CLIENT_COLUMNS, result.clients)
        _stage(cursor, "stage_guarantee", STAGE_GUARANTEE_COLUMNS, guarantee_rows)
        _stage(cursor, "stage_event", EVENT_COLUMNS, result.events)
        clients = _merge_clients(cursor, institution_id, now)
        guarantees = _merge_guarantees(cursor, institution_id, batch.pk, now)
        events = _merge_events(cursor, institution_id, batch.pk, now)
        for table in STAGING_TABLES:
            cursor.execute(f"DROP TABLE {table}")
    return {
        "clients_created": clients[0],
        "clients_updated": clients[1],
        "guarantees_created": guarantees[0],
        "guarantees_updated": guarantees[1],
        "events_created": events[0],
    }


def _stage(cursor: CursorWrapper, table: str, columns: Sequence[str], frame: pd.DataFrame) -> None:
    rows = frame[list(columns)].astype(object).itertuples(index=False, name=None)
    names = ", ".join(columns)
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})", rows)


def _upsert(
    cursor: CursorWrapper, *, count_existing: str, upsert: str, count_params: list, params: list, staged: str
) -> tuple[int, int]:
    """Run one merge statement; (rows created, rows updated). Rows whose values did not change are
    neither: the statement's WHERE leaves them alone and the row count does not include them."""
    cursor.execute(f"SELECT count(*) FROM {staged}")
    total = cursor.fetchone()[0]
    cursor.execute(count_existing, count_params)
    existing = cursor.fetchone()[0]
    cursor.execute(upsert, params)
    created = total - existing
    return created, cursor.rowcount - created


def _changed(table: str, columns: Sequence[str]) -> str:
    return " OR ".join(f"{table}.{c} IS DISTINCT FROM excluded.{c}" for c in columns)


def _merge_clients(cursor: CursorWrapper, institution_id: int, now: dt.datetime) -> tuple[int, int]:
    table = Client._meta.db_table
    attributes = ("id_last4", "name", "client_type", "industry", "region_id", "group_name")
    return _upsert(
        cursor,
        staged="stage_client",
        count_existing=f"SELECT count(*) FROM stage_client s JOIN {table} c ON c.institution_id = %s "
        "AND c.id_kind = s.id_kind AND c.id_key = s.id_key",
        count_params=[institution_id],
        upsert=f"""
            INSERT INTO {table} (institution_id, {", ".join(CLIENT_COLUMNS)}, created_at, updated_at)
            SELECT %s, {", ".join(CLIENT_COLUMNS)}, %s, %s FROM stage_client WHERE true
            ON CONFLICT (institution_id, id_kind, id_key) DO UPDATE SET
                {", ".join(f"{c} = excluded.{c}" for c in attributes)}, updated_at = excluded.updated_at
            WHERE {_changed(table, attributes)}""",
        params=[institution_id, now, now],
    )


def _merge_guarantees(
    cursor: CursorWrapper, institution_id: int, batch_id: int, now: dt.datetime
) -> tuple[int, int]:
    table = Guarantee._meta.db_table
    agreements = Guarantee._meta.get_field("agreement").related_model._meta.db_table
    copied = [c for c in STAGE_GUARANTEE_COLUMNS if c not in ("contract_no", "id_kind", "id_key")]
    # The bank–guarantee agreement a loan falls under: the institution's agreement with that bank in force
    # on the start date (the latest such agreement if several overlap).
    agreement = (
        f"(SELECT a.id FROM {agreements} a WHERE a.institution_id = %s AND a.bank_id = s.bank_id "
        "AND a.starts_on <= s.start_date AND s.start_date <= a.ends_on ORDER BY a.starts_on DESC, a.id DESC LIMIT 1)"
    )
    return _upsert(
        cursor,
        staged="stage_guarantee",
        count_existing=f"SELECT count(*) FROM stage_guarantee s JOIN {table} g ON g.institution_id = %s "
        "AND g.contract_no = s.contract_no",
        count_params=[institution_id],
        upsert=f"""
            INSERT INTO {table} (institution_id, contract_no, client_id, {", ".join(copied)}, agreement_id,
                                 import_batch_id, created_at, updated_at)
            SELECT %s, s.contract_no, c.id, {", ".join(f"s.{col}" for col in copied)}, {agreement}, %s, %s, %s
            FROM stage_guarantee s
            JOIN {Client._meta.db_table} c ON c.institution_id = %s AND c.id_kind = s.id_kind AND c.id_key = s.id_key
            WHERE true
            ON CONFLICT (institution_id, contract_no) DO UPDATE SET
                {", ".join(f"{c} = excluded.{c}" for c in GUARANTEE_DATA)},
                import_batch_id = excluded.import_batch_id, updated_at = excluded.updated_at
            WHERE {_changed(table, GUARANTEE_DATA)}""",
        params=[institution_id, institution_id, batch_id, now, now, institution_id],
    )


def _merge_events(
    cursor: CursorWrapper, institution_id: int, batch_id: int, now: dt.datetime
) -> tuple[int, int]:
    table = GuaranteeEvent._meta.db_table
    guarantees = Guarantee._meta.db_table
    return _upsert(
        cursor,
        staged="stage_event",
        count_existing=f"""
            SELECT count(*) FROM stage_event s
            JOIN {guarantees} g ON g.institution_id = %s AND g.contract_no = s.contract_no
            JOIN {table} e ON e.guarantee_id = g.id AND e.kind = s.kind AND e.occurred_on = s.occurred_on
                AND e.amount = s.amount""",
        count_params=[institution_id],
        upsert=f"""
            INSERT INTO {table} (guarantee_id, kind, occurred_on, amount, interest, import_batch_id, created_at)
            SELECT g.id, s.kind, s.occurred_on, s.amount, s.interest, %s, %s
            FROM stage_event s JOIN {guarantees} g ON g.institution_id = %s AND g.contract_no = s.contract_no
            WHERE true
            ON CONFLICT (guarantee_id, kind, occurred_on, amount) DO UPDATE SET
                interest = excluded.interest, import_batch_id = excluded.import_batch_id
            WHERE {table}.interest IS DISTINCT FROM excluded.interest""",
        params=[batch_id, now, institution_id],
    )


# ---------------------------------------------------------------------------------------------- channels
SOURCE_BUNDLE = ".files.zip"  # several CSV files of one batch, kept together


@transaction.atomic
def batch_submit(
    *,
    actor: User,
    institution: Institution,
    channel: str,
    files: Sequence[tuple[bytes, str]] = (),
    payload: Mapping | None = None,
) -> ImportBatch:
    """Open a batch from an upload (`files`: one workbook, or CSV files) or the API's JSON (`payload` with
    the arrays `guarantees` and `events`), keep what was sent, and queue the job that reads, validates
    and commits it (core.jobs: sent after this transaction commits; with no broker it runs at once)."""
    from .tasks import process_batch

    if not files and payload is None:
        raise AppError(_("没有收到文件或数据"))
    if files:
        if len(files) == 1:
            content, name = files[0]
        else:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
                for i, (data, filename) in enumerate(files):
                    bundle.writestr(f"{i}/{PurePosixPath(filename).name or 'file'}", data)
            content, name = buffer.getvalue(), "csv" + SOURCE_BUNDLE
        source_name = " + ".join(PurePosixPath(f).name for _, f in files)
    else:
        content = json.dumps(
            {k: list(payload.get(k) or []) for k in ("guarantees", "events")}, ensure_ascii=False, default=str
        ).encode()
        name, source_name = "batch.json", ""
    batch = batch_stage(actor=actor, institution=institution, channel=channel, source_name=source_name)
    batch.source_file.save(
        f"batch-{batch.pk}-{PurePosixPath(name).name}"[-120:], ContentFile(content), save=False
    )
    batch.job = job_enqueue(
        kind="guarantees.batch",
        task=process_batch,
        params={"batch": batch.pk, "actor": actor.pk, "confirm": False},
        user=actor,
    )
    batch.save(update_fields=["source_file", "job"])
    return batch


@transaction.atomic
def batch_confirm(*, actor: User, batch: ImportBatch) -> ImportBatch:
    """The filer has looked at the batch's warnings (amounts that look like 元, rates like percentages)
    and confirms them: the batch is validated again and committed if there is still no error."""
    if not may_file_records(actor, batch.institution):
        raise AppError(NOT_YOURS, code="forbidden")
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != BatchStatus.STAGED or not batch.warning_count or batch.error_count:
        raise AppError(
            _("批次 #%(pk)s 没有待确认的提示") % {"pk": batch.pk},
            code="conflict",
        )
    if (
        batch.job_id
        and Job.objects.filter(pk=batch.job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).exists()
    ):
        raise AppError(
            _("批次 #%(pk)s 正在处理中") % {"pk": batch.pk},
            code="conflict",
        )
    from .tasks import process_batch

    batch.job = job_enqueue(
        kind="guarantees.batch",
        task=process_batch,
        params={"batch": batch.pk, "actor": actor.pk, "confirm": True},
        user=actor,
    )
    batch.save(update_fields=["job"])
    audit.record(
        actor=actor,
        action=audit.Action.TRANSITION,
        instance=batch,
        note=Message("确认担保业务明细批次的量级提示"),
    )
    return batch


def batch_rows(batch: ImportBatch) -> BatchRows:
    """The rows the batch brought, read again from what was sent (through the guarded reader)."""
    with batch.source_file.open("rb") as stored:
        content = stored.read()
    name = batch.source_file.name
    if name.endswith(".json"):
        return read_json(content)
    if name.endswith(SOURCE_BUNDLE):
        with zipfile.ZipFile(io.BytesIO(content)) as bundle:
            files = [(bundle.read(i), i.filename.split("/", 1)[-1]) for i in bundle.infolist()]
        return read_batch(files)
    return read_batch([(content, batch.source_name or PurePosixPath(name).name)])


def batch_process(*, job_id: int) -> None:
    """The background job of a batch: read what was sent, validate, commit (batch_commit). A file that
    cannot be read fails the batch with the reader's problems as findings. Running it again after it
    finished changes nothing (the batch is no longer staged)."""
    job = Job.objects.get(pk=job_id)
    batch = ImportBatch.objects.select_related("institution").get(pk=job.params["batch"])
    actor = User.objects.get(pk=job.params.get("actor") or batch.uploaded_by_id)
    rows_read = 0
    now = timezone.now()
    lease = dt.timedelta(seconds=settings.JOB_LONGEST_TASK_SECONDS)
    # A delivery that took the batch and then died (its lease ran out): the commit is one transaction, so
    # nothing was written; the batch is staged again and this delivery does the work.
    stale = job.heartbeat_at is None or job.heartbeat_at < now - lease
    if job.status == Job.Status.QUEUED and batch.status == BatchStatus.VALIDATING and stale:
        ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.VALIDATING).update(
            status=BatchStatus.STAGED
        )
        batch.status = BatchStatus.STAGED
    # the lease: the relay does not send the job again while this delivery works on it
    Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(heartbeat_at=now, next_send_at=now + lease)
    if batch.status == BatchStatus.STAGED and job.status == Job.Status.QUEUED:
        try:
            try:
                rows = batch_rows(batch)
            except UploadRejected as rejected:
                _fail_unreadable(actor=actor, batch=batch, problems=rejected.problems)
            else:
                rows_read = rows.row_count
                ImportBatch.objects.filter(pk=batch.pk).update(progress=5)
                batch_commit(
                    actor=actor,
                    batch=batch,
                    guarantees=rows.guarantees,
                    events=rows.events,
                    confirm_warnings=bool(job.params.get("confirm")),
                )
        except Exception as exc:  # the batch is failed by batch_commit; the job says why
            log.exception("guarantee batch %s failed", batch.pk)
            job_fail(job_id, f"{type(exc).__name__}: {exc}")
            return
    with job_running(job_id) as running:
        if running is not None:
            job_progress(running, done=rows_read, total=rows_read)


def _fail_unreadable(*, actor: User, batch: ImportBatch, problems: Sequence[UploadProblem]) -> None:
    if not ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.STAGED).update(
        status=BatchStatus.VALIDATING
    ):
        return
    findings = [
        {
            "severity": "error",
            "rule": "file",
            "sheet": p.sheet,
            "row": p.row or 0,
            "column": p.column,
            "message": p.message_zh,
            "message_en": p.message_en,
        }
        for p in problems[: ImportBatch.MAX_FINDINGS]
    ]
    _finish(
        actor=actor,
        batch=batch,
        status=BatchStatus.FAILED,
        fields={"findings": findings, "error_count": len(problems), "warning_count": 0, "progress": 100},
    )
