"""Every write and state transition of the quarterly report (keyword-only, atomic, audited).

Lifecycle: draft → submitted → accepted, or submitted → returned (comments per field) → resubmitted;
after acceptance an amendment opens a new version with a reason. Maker/checker: a filer (or approver)
prepares the draft, only the company approver submits. Transitions are conditional updates, so two
concurrent submits of the same draft produce exactly one submitted version.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit
from core.exceptions import AppError, Bilingual, Text, deferred
from core.memo import per_request
from core.parsing import BadValue, parse_decimal, quote
from core.policy import Governing, governing
from core.stored_text import Message
from institutions.models import Institution

from . import reconciliation, validation
from .choices import Channel, FilingStatus, ReviewParameterKey, Unit
from .fields_file import read_fields
from .models import (
    DueDateSetting,
    FieldDefinition,
    Filing,
    FilingVersion,
    Notification,
    ReconciliationTolerance,
    ReportTemplate,
    ValidationRule,
)
from .periods import Period
from .permissions import (
    may_change_validation_rules,
    may_prepare_filing,
    may_review,
    may_set_due_dates,
    may_set_tolerance,
    may_submit_filing,
)
from .selectors import review_points
from .signals import filing_accepted, filing_submitted

if TYPE_CHECKING:
    from collections.abc import Iterable

    from core.roles import Actor

RULES_V1 = Path(__file__).parent / "data" / "validation_rules_v1.json"
PROHIBITED_BALANCE_RULE = "BND-31"  # guarantees for the controlling shareholder (条例 art. 17)
MAX_DIGITS = 13  # |value| < 10**13 万元: far above any Chinese guarantee company, below DecimalField limits
OPENING_FIELDS = {
    "fin_balance_opening": "fin_balance",
    "compensation_balance_opening": "compensation_receivable",
}


class FilingError(AppError):
    """A refused action on a filing; `findings` carries the validation findings when the refusal is
    about data (API clients get them as `findings` beside the error)."""

    def __init__(
        self,
        message: str,
        *,
        findings: list[validation.Finding] | None = None,
        errors: dict[str, list[str]] | None = None,
        code: str = "invalid",
    ) -> None:
        self.findings = findings or []
        super().__init__(
            message, code=code, errors=errors, extra={"findings": [f.as_dict() for f in self.findings]}
        )


def _errors_by_field(errors: list[dict]) -> dict[str, list[str]]:
    """parse_values' error rows → {field code: [messages in the active language]} for FilingError."""
    out: dict[str, list[str]] = {}
    for e in errors:
        out.setdefault(e["field"], []).append(str(e["message"]))
    return out


# ---------------------------------------------------------------------------------------------- template
@transaction.atomic
def template_load(
    *,
    path: Path,
    version: int,
    name: str,
    effective_from: dt.date,
    effective_to: dt.date | None = None,
    source: str = "",
) -> ReportTemplate:
    """Create or update one template version from a fields file; idempotent. Version 1 is installed by
    migration 0002; later versions add or retire fields through this loader, without code changes."""
    template, _created = ReportTemplate.objects.update_or_create(
        version=version,
        defaults={
            "name": name,
            "effective_from": effective_from,
            "effective_to": effective_to,
            "source": source,
        },
    )
    codes = []
    for row in read_fields(path):
        codes.append(row.pop("code"))
        FieldDefinition.objects.update_or_create(template=template, code=codes[-1], defaults=row)
    template.fields.exclude(code__in=codes).delete()
    return template


def template_for(period: Period) -> ReportTemplate:
    template = ReportTemplate.objects.in_force(period.end)
    if template is None:
        raise FilingError(_("报告期 %(p)s 没有适用的报表模板") % {"p": period})
    return template


def template_fields(template: ReportTemplate) -> list[FieldDefinition]:
    """The template's fields in order (read once per web request: core.memo)."""
    return _template_fields(template.pk)


class FieldHeading(NamedTuple):
    section: str
    code: str
    label_zh: str
    label_en: str
    unit: str


def field_headings(period: Period) -> list[FieldHeading]:
    """The section, code, labels and unit of the fields of the template in force for `period`, in order:
    one query, no model instances (what the aggregate export writes, which counts them)."""
    sql, dates = _headings_statement()
    with connection.cursor() as cur:
        cur.execute(sql, [connection.ops.adapt_datefield_value(period.end)] * dates)
        headings = [FieldHeading(*row) for row in cur.fetchall()]
    if not headings:
        template_fields(template_for(period))  # no template in force: refused as everywhere else
    return headings


@functools.cache
def _headings_statement() -> tuple[str, int]:
    """field_headings' statement and how many times it takes the day: built once around the ORM's
    statement of the template in force (the one definition of "in force"), which costs more to build than
    to run, and of which only the day changes."""
    day = dt.date(2000, 1, 1)
    in_force, params = ReportTemplate.objects.in_force_first(day).values("pk")[:1].query.sql_with_params()
    if any(p != connection.ops.adapt_datefield_value(day) for p in params):
        raise TypeError(f"the statement of the template in force takes more than the day: {params}")
    sql = (
        "SELECT section, code, label_zh, label_en, unit FROM reporting_fielddefinition "  # noqa: S608
        f'WHERE template_id = ({in_force}) ORDER BY "order"'
    )
    return sql, len(params)


@per_request
def _template_fields(template_id: int) -> list[FieldDefinition]:
    return list(FieldDefinition.objects.filter(template_id=template_id).order_by("order"))


# ---------------------------------------------------------------------------------------------- rules
@transaction.atomic
def rules_load(*, path: Path = RULES_V1, effective_from: dt.date = dt.date(2019, 1, 1)) -> int:
    """Install the ruleset file (idempotent: existing rules keep their regulator-set severity/active)."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    for row in rows:
        ValidationRule.objects.get_or_create(
            rule_id=row["rule_id"], defaults={**row, "effective_from": effective_from}
        )
    return len(rows)


@per_request
def rule_specs(day: dt.date) -> list[validation.RuleSpec]:
    return [
        validation.RuleSpec(
            rule_id=r.rule_id,
            kind=r.kind,
            fields=tuple(r.fields),
            params=r.params,
            severity=r.severity,
            message_zh=r.message_zh,
            message_en=r.message_en,
            citation=r.citation,
        )
        for r in ValidationRule.objects.in_force(day)
    ]


@transaction.atomic
def rule_update(
    *,
    actor: Actor,
    rule: ValidationRule,
    active: bool | None = None,
    severity: str | None = None,
    note: str = "",
) -> ValidationRule:
    """A regulator switches a rule off/on or changes its severity, without a release; audited."""
    if not may_change_validation_rules(actor):
        raise FilingError(_("只有监管人员可以修改校验规则"), code="forbidden")
    rule = ValidationRule.objects.select_for_update().get(pk=rule.pk)
    before = audit.snapshot(rule)
    if active is not None:
        rule.active = active
    if severity is not None:
        if severity not in (validation.ERROR, validation.WARNING):
            raise FilingError(_("严重程度无效"))
        rule.severity = severity
    rule.save()
    audit.record(actor=actor, action=audit.Action.UPDATE, instance=rule, before=before, note=note)
    return rule


# ---------------------------------------------------------------------------------------------- periods
def due_settings() -> list[DueDateSetting]:
    """Every deadline row, loaded once for a batch over many institutions (pass to `due_setting_for`)."""
    return list(DueDateSetting.objects.all())


def due_setting_for(
    region_code: str, period: Period, settings: list[DueDateSetting] | None = None
) -> DueDateSetting:
    """The deadline setting in force at the period end for a region (its province's, else the national
    row; PolicyMissing when none), from the database or from rows loaded by `due_settings`."""
    if settings is None:
        return DueDateSetting.objects.require(period.end, region_code)
    return governing(DueDateSetting, settings, period.end, region_code).require()


def due_date(region_code: str, period: Period, settings: list[DueDateSetting] | None = None) -> dt.date:
    """Quarter end + the days of the setting in force for the institution's region."""
    return period.end + dt.timedelta(
        days=due_setting_for(region_code, period, settings).days_after_quarter_end
    )


# ---------------------------------------------------------------------------------------------- values
def parse_values(
    raw: dict, fields: list[FieldDefinition], *, where: str = None
) -> tuple[dict[str, str], list[dict]]:
    """Normalise {code: value} from any channel to {code: canonical decimal string}; empty values dropped.

    Errors are dicts {field, message} (plus whatever `where(code)` adds, e.g. sheet/cell); the message is
    deferred: it reads in the language of whoever is shown it.
    Money: finite decimals with at most 2 places; counts: whole numbers ≥ 0.
    """
    by_code = {f.code: f for f in fields}
    values, errors = {}, []

    def err(code: str, message: Text) -> None:
        errors.append({"field": code, "message": message, **(where(code) if where else {})})

    for code, value in raw.items():
        if code not in by_code:
            err(code, deferred(gettext_lazy("未知字段代码 %(code)s（模板中没有此字段）"), code=code))
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        label = f"{by_code[code].label_zh}（{code}）"
        try:
            number = parse_decimal(value, name=code, label=label, max_digits_before_point=MAX_DIGITS)
        except BadValue as exc:
            err(code, exc.text)
            continue
        text = quote(value)
        if by_code[code].unit == Unit.COUNT:
            if number != number.to_integral_value() or number < 0:
                err(
                    code,
                    deferred(
                        gettext_lazy("%(label)s应为非负整数，收到 %(text)s"),
                        label=Bilingual(label, code),
                        text=text,
                    ),
                )
                continue
            values[code] = str(int(number))
        else:
            if number != number.quantize(Decimal("0.01")):
                ratio = 0 < abs(number) < 1  # 0.015: a rate typed into an amount
                message = (
                    gettext_lazy(
                        "%(label)s最多保留两位小数（万元），收到“%(text)s”；看起来像百分比或比率，本栏应填金额"
                    )
                    if ratio
                    else gettext_lazy("%(label)s最多保留两位小数（万元），收到“%(text)s”")
                )
                err(code, deferred(message, label=Bilingual(label, code), text=text))
                continue
            values[code] = str(number.quantize(Decimal("0.01")))
    return values, errors


def _dec(values: dict) -> dict[str, Decimal]:
    return {k: Decimal(v) for k, v in values.items() if v not in (None, "")}


def submitted_version(institution_id: int, period: Period) -> FilingVersion | None:
    """The latest submitted version of an institution's filing for a period (what later periods compare with)."""
    return (
        FilingVersion.objects.filter(
            filing__institution_id=institution_id,
            filing__year=period.year,
            filing__quarter=period.quarter,
            submitted_at__isnull=False,
        )
        .order_by("-number")
        .first()
    )


def comparison_values(institution_id: int, period: Period) -> tuple[dict | None, dict | None]:
    """(previous quarter, prior year Q4) submitted values as Decimals, or None where there is none."""
    prev = submitted_version(institution_id, period.previous())
    prior = prev if period.quarter == 1 else submitted_version(institution_id, period.prior_year_end())
    return (prev.decimal_values() if prev else None, prior.decimal_values() if prior else None)


def opening_values(institution_id: int, period: Period) -> dict[str, str]:
    """Year-start balances prefilled from the prior year's Q4 filing (closing → opening)."""
    prior = submitted_version(institution_id, period.prior_year_end())
    if prior is None or prior.nil_return:
        return {code: "0.00" for code in OPENING_FIELDS} if prior is not None else {}
    return {code: prior.values[src] for code, src in OPENING_FIELDS.items() if src in prior.values}


def check(
    *,
    institution_id: int,
    period: Period,
    values: dict[str, str],
    nil_return: bool = False,
    template: ReportTemplate | None = None,
) -> tuple[list[validation.Finding], str]:
    """Findings for values against the rules in force at the period end, and the ruleset version."""
    template = template or template_for(period)
    rules = rule_specs(period.end)
    previous, prior = comparison_values(institution_id, period)
    codes = [f.code for f in template_fields(template)]
    findings = validation.evaluate(
        rules,
        _dec(values),
        quarter=period.quarter,
        template_codes=codes,
        previous=previous,
        prior_year_end=prior,
        nil_return=nil_return,
    )
    if not nil_return:  # the differences from the loan-level records are warnings to explain
        findings += reconcile_values(
            institution_id=institution_id, period=period, values=values, template=template
        )
    return findings, validation.ruleset_version(rules)


def reconcile_values(
    *, institution_id: int, period: Period, values: dict, template: ReportTemplate
) -> list[validation.Finding]:
    from guarantees.selectors import has_records

    if not has_records(institution_id):  # one cheap query for the companies without records
        return []
    institution = Institution.objects.get(pk=institution_id)
    return reconciliation.reconcile(
        institution=institution, period_end=period.end, values=values, fields=template_fields(template)
    ).findings


def derived_values(*, institution: Institution, period: Period, template: ReportTemplate) -> dict[str, str]:
    """The template's fields that the loan-level records determine, as decimal strings (prefill)."""
    from guarantees.selectors import controller_guarantees, derive_report_fields

    derived = derive_report_fields(institution=institution, period_end=period.end)
    derived[reconciliation.CONTROLLER_FIELD] = sum(
        (g.balance for g in controller_guarantees(institution=institution, on=period.end)), Decimal("0.00")
    )
    codes = {f.code for f in template_fields(template)}
    return {code: str(derived[code]) for code in reconciliation.RECONCILED_FIELDS if code in codes}


def _same(a, b) -> bool:
    try:
        return Decimal(a) == Decimal(b)
    except (TypeError, ArithmeticError, ValueError):
        return a == b


def _record_overrides(version: FilingVersion, actor: Actor) -> None:
    """A prefilled value the filer changed is an override, kept on the version with who and when (a
    value changed back to the derived one is no longer an override)."""
    now = timezone.now().isoformat()
    overrides = dict(version.overrides or {})
    for code, source in (version.prefill or {}).items():
        current = version.values.get(code, "")
        if _same(current, source["value"]):
            overrides.pop(code, None)
        elif not (code in overrides and _same(overrides[code]["value"], current)):
            overrides[code] = {
                "derived": source["value"],
                "value": current,
                "by": getattr(actor, "username", ""),
                "at": now,
            }
    version.overrides = overrides


def risk_score(findings: list[validation.Finding], explanations: dict, points: Governing) -> int:
    """Review-queue order: points per warning, more per unexplained one, per large change (QOQ) and for
    a prohibited balance (BND-31, 条例 art. 17) — the points are policy rows (`selectors.review_points`)."""
    per_warning, unexplained, large_change, prohibited = (
        points.require(key).value
        for key in (
            ReviewParameterKey.WARNING,
            ReviewParameterKey.UNEXPLAINED,
            ReviewParameterKey.QOQ_CHANGE,
            ReviewParameterKey.PROHIBITED_BALANCE,
        )
    )
    score = 0
    for f in findings:
        if f.severity != validation.WARNING:
            continue
        score += per_warning
        if not (explanations.get(f.rule_id) or "").strip():
            score += unexplained
        if f.kind == "qoq_change":
            score += large_change
        if f.rule_id == PROHIBITED_BALANCE_RULE:
            score += prohibited
    return score


# ---------------------------------------------------------------------------------------------- authority
def _require_maker(actor: Actor, institution_id: int) -> None:
    if not may_prepare_filing(actor, institution_id):
        raise FilingError(_("只有本机构填报人员可以填报"), code="forbidden")


def _require_checker(actor: Actor, institution_id: int) -> None:
    if not may_submit_filing(actor, institution_id):
        raise FilingError(
            _("须由本机构审核人报送（填报人编制、审核人报送）"),
            code="forbidden",
        )


def _require_reviewer(actor: Actor, filing: Filing) -> None:
    if not may_review(actor, filing):
        raise FilingError(_("只有辖区监管人员可以审核"), code="forbidden")


# ---------------------------------------------------------------------------------------------- lifecycle
def _company_users(institution_id: int) -> list:
    from accounts.models import User

    return list(User.objects.filter(institution_id=institution_id, is_active=True))


def _filing_for_update(institution: Institution, period: Period, actor: Actor) -> Filing:
    template = template_for(period)
    try:
        with transaction.atomic():
            filing, created = Filing.objects.get_or_create(
                institution=institution,
                year=period.year,
                quarter=period.quarter,
                defaults={"template": template, "due_date": due_date(institution.region_id, period)},
            )
    except IntegrityError:  # created concurrently
        created = False
    filing = Filing.objects.select_for_update().get(
        institution=institution, year=period.year, quarter=period.quarter
    )
    if created:
        audit.record(actor=actor, action=audit.Action.CREATE, instance=filing, note=Message("创建报表"))
    filing.created_now = created  # whether this call created it (the API answers 201 to that call only)
    return filing


@transaction.atomic
def filing_save_draft(
    *,
    actor: Actor,
    institution: Institution,
    period: Period,
    values: dict,
    nil_return: bool = False,
    channel: str = Channel.WEB,
    merge: bool = False,
    explanations: dict | None = None,
) -> tuple[Filing, FilingVersion, list[validation.Finding]]:
    """Create or replace the open draft (merge=True updates only the given fields, for the web form).
    `explanations` ({rule id: text}, the filer's explanations of warnings) are saved with the draft for
    the approver to review and submit. Returns (filing, version, findings). Bad values raise FilingError
    with `errors`; nothing is stored."""
    _require_maker(actor, institution.pk)
    if period.start > timezone.localdate():
        raise FilingError(_("报告期 %(p)s 尚未开始，不能填报") % {"p": period})
    filing = _filing_for_update(institution, period, actor)
    fields = template_fields(filing.template)
    clean, errors = parse_values(values, fields)
    if errors:
        raise FilingError(_("数据格式有误，未保存"), errors=_errors_by_field(errors))
    version = filing.current_version
    if filing.status == FilingStatus.SUBMITTED:
        raise FilingError(_("报表已报送，正在审核中，不能修改"), code="conflict")
    if filing.status == FilingStatus.ACCEPTED:
        raise FilingError(
            _("报表已受理；如需更正请发起更正并说明原因"),
            code="conflict",
        )
    if version is None or version.is_frozen:
        number = (version.number + 1) if version else 1
        base = dict(version.values) if (version and merge) else {}
        if number == 1 and not nil_return:
            base = {**opening_values(institution.pk, period), **base}
        version = FilingVersion.objects.create(
            filing=filing,
            number=number,
            values=base,
            created_by=actor,
            channel=channel,
            reason=version.reason if version else "",
            prefill=dict(version.prefill) if (version and merge) else {},
            overrides=dict(version.overrides) if (version and merge) else {},
        )
        filing.current_version = version
        filing.save(update_fields=["current_version", "updated_at"])
    before = audit.snapshot(version)
    version.values = {**version.values, **clean} if merge else clean
    if merge:
        for code, raw in values.items():  # a field emptied in the form is removed
            if code in version.values and (raw is None or str(raw).strip() == ""):
                version.values.pop(code)
    version.nil_return = nil_return
    if nil_return:
        version.values = {}
    version.channel = channel
    _record_overrides(version, actor)
    if explanations is not None:
        version.explanations = {k: str(v).strip() for k, v in explanations.items() if str(v).strip()}
    version.save()
    audit.record(
        actor=actor,
        action=audit.Action.UPDATE,
        instance=version,
        before=before,
        note=Message("保存草稿（%(c)s）", c=Channel(channel).label),
    )
    findings, _rs = check(
        institution_id=institution.pk,
        period=period,
        values=version.values,
        nil_return=version.nil_return,
        template=filing.template,
    )
    return filing, version, findings


def filing_dry_run(
    *,
    actor: Actor,
    institution: Institution,
    period: Period,
    values: dict,
    nil_return: bool = False,
    explanations: dict | None = None,
) -> tuple[dict[str, str], list[validation.Finding], str, list[str]]:
    """What a submission of these values would meet, storing nothing: (canonical values, findings,
    ruleset version, refusals). The findings are those `filing_submit` would store (same `check`, same
    rules, same comparisons); refusals are the reasons it would refuse, each one sentence (empty: it
    would be accepted for review). Bad values raise FilingError with `errors`, as a save would."""
    _require_maker(actor, institution.pk)
    template = template_for(period)
    clean, errors = parse_values(values, template_fields(template))
    if errors:
        raise FilingError(_("数据格式有误，未保存"), errors=_errors_by_field(errors))
    if nil_return:
        clean = {}
    findings, ruleset = check(
        institution_id=institution.pk, period=period, values=clean, nil_return=nil_return, template=template
    )
    refusals = []
    try:
        require_quarter_ended(period)
    except FilingError as exc:
        refusals.append(str(exc.message))
    if validation.blocking(findings):
        refusals.append(str(_("存在校验错误，不能报送")))
    explained = {k: str(v).strip() for k, v in (explanations or {}).items() if str(v).strip()}
    missing = sorted({f.rule_id for f in validation.unexplained(findings, explained)})
    if missing:
        refusals.append(str(_("以下提示须逐条说明原因后方可报送：%(ids)s") % {"ids": ", ".join(missing)}))
    return clean, findings, ruleset, refusals


@transaction.atomic
def filing_prefill(
    *, actor: Actor, institution: Institution, period: Period
) -> tuple[Filing, FilingVersion, list[validation.Finding]]:
    """Fill the open draft with the values derived from the loan-level records (web form, Excel template
    and API alike) and record where each came from; the filer may then change any of them, and the
    change is kept as an override on the version (_record_overrides)."""
    _require_maker(actor, institution.pk)
    from guarantees.selectors import has_records

    if not has_records(institution.pk):
        raise FilingError(
            _("本机构尚无担保业务明细，无法预填"),
            code="conflict",
        )
    values = derived_values(institution=institution, period=period, template=template_for(period))
    filing, version, _findings = filing_save_draft(
        actor=actor, institution=institution, period=period, values=values, channel=Channel.WEB, merge=True
    )
    at = timezone.now()
    source_zh = (
        f"担保业务明细推算（截至 {period.end:%Y-%m-%d}，{timezone.localtime(at):%Y-%m-%d %H:%M} 预填）"
    )
    source_en = (
        f"derived from the loan-level records (as of {period.end:%Y-%m-%d}, prefilled {at:%Y-%m-%d %H:%M})"
    )
    version.prefill = {
        code: {"value": value, "source_zh": source_zh, "source_en": source_en, "at": at.isoformat()}
        for code, value in values.items()
    }
    version.overrides = {k: v for k, v in version.overrides.items() if k not in values}
    version.save(update_fields=["prefill", "overrides"])
    audit.record(
        actor=actor,
        action=audit.Action.UPDATE,
        instance=version,
        note=Message("从担保业务明细预填 %(n)s 个字段", n=len(values)),
    )
    findings, _rs = check(
        institution_id=institution.pk,
        period=period,
        values=version.values,
        nil_return=version.nil_return,
        template=filing.template,
    )
    return filing, version, findings


@transaction.atomic
def filing_amend(*, actor: Actor, filing: Filing, reason: str) -> FilingVersion:
    """After acceptance: open a new version (copy of the accepted one) with a reason; the accepted
    version stays readable."""
    _require_maker(actor, filing.institution_id)
    if not reason.strip():
        raise FilingError(_("更正须填写原因"))
    updated = Filing.objects.filter(pk=filing.pk, status=FilingStatus.ACCEPTED).update(
        status=FilingStatus.DRAFT, updated_at=timezone.now()
    )
    if not updated:
        raise FilingError(_("只有已受理的报表可以更正"), code="conflict")
    filing.refresh_from_db()
    before = audit.snapshot(filing)
    old = filing.current_version
    version = FilingVersion.objects.create(
        filing=filing,
        number=old.number + 1,
        values=dict(old.values),
        nil_return=old.nil_return,
        reason=reason.strip(),
        created_by=actor,
        channel=old.channel,
        prefill=dict(old.prefill),
        overrides=dict(old.overrides),
    )
    filing.current_version = version
    filing.save(update_fields=["current_version", "updated_at"])
    audit.record(
        actor=actor,
        action=audit.Action.TRANSITION,
        instance=filing,
        before={**before, "status": "accepted"},
        note=Message("发起更正：%(r)s", r=reason.strip()),
    )
    return version


def require_quarter_ended(period: Period, today: dt.date | None = None) -> None:
    """A report can be submitted from the day after its quarter ends (a draft may be prepared earlier)."""
    today = today or timezone.localdate()
    if today <= period.end:
        first = period.end + dt.timedelta(days=1)
        raise FilingError(
            _("%(period)s 季度尚未结束，%(first)s 起方可报送")
            % {"period": period, "first": first.isoformat()},
            errors={"period": [_("%(first)s 起方可报送") % {"first": first.isoformat()}]},
        )


@transaction.atomic
def filing_submit(*, actor: Actor, filing: Filing, explanations: dict | None = None) -> FilingVersion:
    """Submit the open draft: blocking errors refuse it, every warning needs an explanation (keyed by
    rule id). Stores ruleset version, findings, explanations and the values hash; one winner under
    concurrency (conditional update on the unsubmitted version)."""
    _require_checker(actor, filing.institution_id)
    require_quarter_ended(filing.period)
    explanations = {k: str(v).strip() for k, v in (explanations or {}).items() if str(v).strip()}
    filing = Filing.objects.select_related("current_version", "template", "institution").get(pk=filing.pk)
    version = filing.current_version
    if (
        version is None
        or version.is_frozen
        or filing.status not in (FilingStatus.DRAFT, FilingStatus.RETURNED)
    ):
        raise FilingError(_("没有可报送的草稿"), code="conflict")
    findings, ruleset = check(
        institution_id=filing.institution_id,
        period=filing.period,
        values=version.values,
        nil_return=version.nil_return,
        template=filing.template,
    )
    if validation.blocking(findings):
        raise FilingError(_("存在校验错误，不能报送"), findings=findings)
    missing = validation.unexplained(findings, explanations)
    if missing:
        raise FilingError(
            _("以下提示须逐条说明原因后方可报送：%(ids)s")
            % {"ids": ", ".join(sorted({f.rule_id for f in missing}))},
            findings=findings,
            errors={
                f"explanations.{rule_id}": [_("请说明原因")]
                for rule_id in sorted({f.rule_id for f in missing})
            },
        )
    now = timezone.now()
    kept = {f.rule_id: explanations[f.rule_id] for f in findings if f.rule_id in explanations}
    score = risk_score(findings, kept, review_points(filing.institution.region_id, timezone.localdate(now)))
    won = FilingVersion.objects.filter(pk=version.pk, submitted_at__isnull=True).update(
        submitted_at=now,
        submitted_by=actor,
        ruleset_version=ruleset,
        values_hash=version.compute_hash(),
        explanations=kept,
        findings=[f.as_dict() for f in findings],
    )
    if not won:
        raise FilingError(_("该版本已被报送"), code="conflict")
    before = audit.snapshot(filing)
    Filing.objects.filter(pk=filing.pk).update(
        status=FilingStatus.SUBMITTED,
        first_submitted_at=filing.first_submitted_at or now,
        risk_score=score,
        warning_count=len(findings),
        updated_at=now,
    )
    filing.refresh_from_db()
    version.refresh_from_db()
    audit.record(
        actor=actor,
        action=audit.Action.TRANSITION,
        instance=filing,
        before=before,
        note=Message("报送第 %(n)s 版（规则集 %(rs)s）", n=version.number, rs=ruleset),
    )
    filing_submitted.send(sender=Filing, filing=filing, version=version, actor=actor)
    return version


def comment_lines(template: ReportTemplate, comments: dict) -> list[str]:
    """Return comments as people read them: "field label：text", the general comment first and unlabelled
    (never the field codes or the "_" key)."""
    from django.utils.translation import get_language

    english = (get_language() or "").startswith("en")
    labels = {
        f.code: (f.label_en if english else f.label_zh)
        for f in template_fields(template)
        if f.code in comments
    }
    lines = [comments["_"]] if comments.get("_") else []
    return lines + [f"{labels.get(k, k)}：{v}" for k, v in comments.items() if k != "_"]


# A decision ends the review and its claim: the next submission of the filing is free for any reviewer.
REVIEW_DONE = {"review_claimed_by": None, "review_claimed_at": None}


@transaction.atomic
def filing_return(*, actor: Actor, filing: Filing, comments: dict, note: str = "") -> Filing:
    """Return a submitted filing with comments per field (key "_" for a general comment)."""
    _require_reviewer(actor, filing)
    _require_claim(actor, filing)
    comments = {k: str(v).strip() for k, v in comments.items() if str(v).strip()}
    if note.strip():
        comments["_"] = note.strip()
    if not comments:
        raise FilingError(_("退回须填写意见"))
    codes = set(filing.template.fields.values_list("code", flat=True)) | {"_"}
    unknown = sorted(set(comments) - codes)
    if unknown:
        raise FilingError(_("未知字段：%(c)s") % {"c": ", ".join(unknown)})
    before = audit.snapshot(filing)
    now = timezone.now()
    if not Filing.objects.filter(pk=filing.pk, status=FilingStatus.SUBMITTED).update(
        status=FilingStatus.RETURNED, updated_at=now, **REVIEW_DONE
    ):
        raise FilingError(_("只有已报送的报表可以退回"), code="conflict")
    FilingVersion.objects.filter(pk=filing.current_version_id).update(
        review_comments=comments, reviewed_at=now, reviewed_by=actor
    )
    filing.refresh_from_db()
    labelled = comment_lines(filing.template, comments)
    audit.record(
        actor=actor,
        action=audit.Action.TRANSITION,
        instance=filing,
        before=before,
        note=Message("退回修改：%(c)s", c="；".join(labelled)),
    )
    Notification.objects.send(
        _company_users(filing.institution_id),
        title=Message("%(p)s 季度报表被退回", p=filing.period.label),
        body="\n".join(labelled),
        url=f"/reporting/filings/{filing.pk}/",
    )
    return filing


@transaction.atomic
def filing_accept(*, actor: Actor, filing: Filing, note: str = "") -> Filing:
    _require_reviewer(actor, filing)
    _require_claim(actor, filing)
    before = audit.snapshot(filing)
    now = timezone.now()
    if not Filing.objects.filter(pk=filing.pk, status=FilingStatus.SUBMITTED).update(
        status=FilingStatus.ACCEPTED, accepted_at=now, updated_at=now, **REVIEW_DONE
    ):
        raise FilingError(_("只有已报送的报表可以受理"), code="conflict")
    FilingVersion.objects.filter(pk=filing.current_version_id).update(reviewed_at=now, reviewed_by=actor)
    filing.refresh_from_db()
    audit.record(
        actor=actor, action=audit.Action.TRANSITION, instance=filing, before=before, note=note or _("受理")
    )
    filing_accepted.send(sender=Filing, filing=filing, version=filing.current_version, actor=actor)
    return filing


@transaction.atomic
def due_setting_save(
    *,
    actor: Actor,
    region_code: str | None,
    days_after_quarter_end: int,
    remind_days_before: int,
    overdue_days_after: int,
    effective_from: dt.date,
    source: str = "",
) -> DueDateSetting:
    """A provincial regulator (or an administrator) sets the province's deadline and reminder days;
    a new row with its effective date, audited."""
    from accounts.models import Region

    if region_code is None:
        if not may_set_due_dates(actor, None):
            raise FilingError(
                _("只有系统管理员可以修改全国默认期限"),
                code="forbidden",
            )
    else:
        province = region_code[:2] + "0000"
        if not may_set_due_dates(actor, province):
            raise FilingError(
                _("只有省级监管部门可以设置本省报送期限"),
                code="forbidden",
            )
        region_code = province
        if not Region.objects.filter(code=province).exists():
            raise FilingError(_("地区不存在"))
    if not (
        1 <= days_after_quarter_end <= 90 and 0 <= remind_days_before <= 30 and 0 <= overdue_days_after <= 30
    ):
        raise FilingError(_("天数超出范围（报送期限1–90天，提醒0–30天）"))
    setting, created = DueDateSetting.objects.update_or_create(
        region_code=region_code or "",
        effective_from=effective_from,
        defaults={
            "days_after_quarter_end": days_after_quarter_end,
            "remind_days_before": remind_days_before,
            "overdue_days_after": overdue_days_after,
            "source": source,
        },
    )
    audit.record(
        actor=actor,
        action=audit.Action.CREATE if created else audit.Action.UPDATE,
        instance=setting,
        note=source,
    )
    return setting


@transaction.atomic
def tolerance_save(
    *,
    actor: Actor,
    region_code: str | None,
    field_code: str,
    absolute: Decimal,
    relative: Decimal,
    effective_from: dt.date,
    source: str,
) -> ReconciliationTolerance:
    """A provincial regulator (or an administrator, for the nationwide rows) sets how far a filed figure
    may lie from the records: a new effective-dated row (or the row of that start date replaced), audited."""
    province = None if region_code is None else region_code[:2] + "0000"
    if not may_set_tolerance(actor, province):
        raise FilingError(
            _("只有省级监管部门可以设置本省核对容差"),
            code="forbidden",
        )
    errors = {}
    if field_code and field_code not in reconciliation.RECONCILED_FIELDS:
        errors["field_code"] = [_("该字段不与担保业务明细核对：%(c)s") % {"c": field_code}]
    if absolute is None or absolute < 0:
        errors["absolute"] = [_("绝对容差须为不小于 0 的数")]
    if relative is None or not (0 <= relative <= 1):
        errors["relative"] = [_("相对容差须在 0 至 1 之间（小数）")]
    if not source.strip():
        errors["source"] = [_("请填写依据")]
    if errors:
        raise FilingError(_("核对容差未保存"), errors=errors)
    before = None
    row = ReconciliationTolerance.objects.filter(
        field_code=field_code, region_code=province or "", effective_from=effective_from
    ).first()
    if row:
        before = audit.snapshot(row)
    else:
        row = ReconciliationTolerance(
            field_code=field_code, region_code=province or "", effective_from=effective_from
        )
    row.absolute, row.relative, row.source = absolute, relative, source.strip()[:300]
    row.full_clean()
    row.save()
    audit.record(
        actor=actor,
        action=audit.Action.UPDATE if before else audit.Action.CREATE,
        instance=row,
        before=before,
    )
    return row


def filings_accept_bulk(*, actor: Actor, filings: Iterable[Filing], note: str = "") -> tuple[list, list]:
    """Accept in one action each filing whose findings at submission are all explained (no blocking error,
    no warning without its explanation); each in its own transaction, so one refusal (decided by someone
    else meanwhile, not the actor's jurisdiction) leaves the others accepted. Returns (accepted, skipped)."""
    accepted, skipped = [], []
    for filing in filings:
        version = filing.current_version
        findings = [validation.Finding(**f) for f in (version.findings if version else [])]
        if (
            version is None
            or validation.blocking(findings)
            or validation.unexplained(findings, version.explanations)
        ):
            skipped.append(filing)
            continue
        try:
            accepted.append(filing_accept(actor=actor, filing=filing, note=note))
        except FilingError:
            skipped.append(filing)
    return accepted, skipped


def filings_return_bulk(*, actor: Actor, filings: Iterable[Filing], reason: str) -> tuple[list, list]:
    """Return several filings with one reason (the general comment of each). Returns (returned, skipped)."""
    if not reason.strip():
        raise FilingError(_("退回须填写意见"))
    returned, skipped = [], []
    for filing in filings:
        try:
            returned.append(filing_return(actor=actor, filing=filing, comments={}, note=reason))
        except FilingError:
            skipped.append(filing)
    return returned, skipped


# ---------------------------------------------------------------------------------------------- review claims
def review_claim(*, actor: Actor, filing: Filing) -> Filing:
    """Opening a submitted filing to review claims it for `actor`, or keeps the actor's claim alive; a claim
    held by someone else and still active is left alone (one conditional update: no check-then-act).
    Returns the filing as stored (`claim_holder()` tells who reviews it)."""
    _require_reviewer(actor, filing)
    now = timezone.now()
    lapsed = now - dt.timedelta(minutes=settings.REVIEW_CLAIM_IDLE_MINUTES)
    free = Q(review_claimed_by__isnull=True) | Q(review_claimed_by=actor) | Q(review_claimed_at__lt=lapsed)
    Filing.objects.filter(free, pk=filing.pk, status=FilingStatus.SUBMITTED).update(
        review_claimed_by=actor, review_claimed_at=now
    )
    return Filing.objects.select_related("review_claimed_by").get(pk=filing.pk)


@transaction.atomic
def review_hand_over(*, actor: Actor, filing: Filing, to) -> Filing:
    """The claimant (or anyone once the claim lapsed) hands the review to another regulator of the
    jurisdiction."""
    _require_reviewer(actor, filing)
    _require_reviewer(to, filing)
    filing = Filing.objects.select_for_update().get(pk=filing.pk)
    holder = filing.claim_holder()
    if holder is not None and holder.pk != actor.pk:
        raise FilingError(_("该报表正由 %(u)s 审核。") % {"u": holder}, code="conflict")
    before = audit.snapshot(filing)
    filing.review_claimed_by, filing.review_claimed_at = to, timezone.now()
    filing.save(update_fields=["review_claimed_by", "review_claimed_at", "updated_at"])
    audit.record(
        actor=actor,
        action=audit.Action.UPDATE,
        instance=filing,
        before=before,
        note=Message("转交 %(u)s 审核", u=to),
    )
    return filing


def _require_claim(actor: Actor, filing: Filing) -> None:
    """Accept or return: refused while another regulator's claim is active (their review is not wasted)."""
    holder = Filing.objects.select_related("review_claimed_by").get(pk=filing.pk).claim_holder()
    if holder is not None and actor is not None and holder.pk != actor.pk:
        raise FilingError(_("该报表正由 %(u)s 审核。") % {"u": holder}, code="conflict")
