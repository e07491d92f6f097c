"""Institution registry services: `<entity>_<verb>`, keyword-only, atomic, audited, authority re-checked."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit
from core.identifiers import id_last_four, id_number_hash, is_valid_id_number
from core.permissions import require
from core.scoping import subtree_prefix
from core.stored_text import Message

from .choices import (
    DutyKind,
    InstitutionStatus,
    LicenceStatus,
    ListAction,
    ListBatchStatus,
    NoticeKind,
    NoticeStatus,
    ShareholderKind,
)
from .models import (
    Agreement,
    GovListBatch,
    GovListEntry,
    Institution,
    Licence,
    LicenceDuty,
    Notice,
    NoticeItem,
    ProvinceLicenceSetting,
    StatusChange,
)
from .permissions import (
    may_change_agreements,
    may_change_institution,
    may_confirm_batch,
    may_edit_company_data,
    may_edit_notice,
    may_file_changes,
    may_handle_licences,
    may_keep_licences,
    may_keep_list,
    may_review_changes,
)
from .rules import add_months
from .signals import government_backed_changed, institution_attributes_changed

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.core.files.uploadedfile import UploadedFile
    from django.db import models

    from core.roles import Actor
    from institutions.models import ChangeFiling, Manager, Shareholder

WATCHED_ATTRIBUTES = ("region_id", "ownership")
# Refusals (who may do what: permissions.py).
NOT_YOUR_INSTITUTION = gettext_lazy("无权管理该机构。")
NOT_YOUR_REGION = gettext_lazy("该地区不在您的辖区内。")
NOT_YOUR_NOTICE = gettext_lazy("无权编辑公告。")
LICENCE_AUTHORITY = gettext_lazy("许可证由省级监管部门颁发、注销和吊销。")


def _status_changed(institution: Institution, previous_status: str | None) -> None:
    """Keep the status history: a new status is a change from the day it takes effect; a new day for the
    same status corrects the day of the change that brought it."""
    latest = institution.status_changes.order_by("pk").last()
    if institution.status == previous_status and latest is not None and latest.status == institution.status:
        latest.effective_on = institution.status_changed_on
        latest.save(update_fields=["effective_on"])
    else:
        StatusChange.objects.create(
            institution=institution, status=institution.status, effective_on=institution.status_changed_on
        )


@transaction.atomic
def institution_upsert(*, actor: Actor, credit_code: str, **fields) -> tuple[Institution, bool]:
    """Create the institution with this credit code, or update the fields that differ; audited.
    Returns (institution, created). Re-running with the same values changes nothing. A change of region
    or ownership sends `institution_attributes_changed`. The actor's jurisdiction must hold the
    institution and the region it is (to be) registered in."""
    institution = Institution.objects.select_for_update().filter(credit_code=credit_code).first()
    if institution is not None:
        require(
            actor, may_change_institution, institution, institution.region_id, message=NOT_YOUR_INSTITUTION
        )
    region = fields.get("region") or fields.get("region_id") or (institution.region_id if institution else "")
    require(actor, may_change_institution, None, getattr(region, "code", region), message=NOT_YOUR_REGION)
    if institution is None:
        institution = Institution(credit_code=credit_code, **fields)
        institution.full_clean()
        institution.save()
        if institution.status != InstitutionStatus.OPERATING:  # before its first change, it operated
            _status_changed(institution, previous_status=None)
        audit.record(actor=actor, action=audit.Action.CREATE, instance=institution)
        return institution, True
    before = audit.snapshot(institution)
    previous_status, previous_since = institution.status, institution.status_changed_on
    for name, value in fields.items():
        setattr(institution, name, value)
    if institution.status != previous_status and institution.status_changed_on in (None, previous_since):
        # no date given with the new status: it takes effect today (the completeness board counts a
        # company in the quarters that ended before it stopped operating)
        institution.status_changed_on = timezone.localdate()
    institution.full_clean()
    after = audit.snapshot(institution)
    if after != before:
        institution.save()
        if (institution.status, institution.status_changed_on) != (previous_status, previous_since):
            _status_changed(institution, previous_status)
        audit.record(actor=actor, action=audit.Action.UPDATE, instance=institution, before=before)
        if any(
            before.get(f.removesuffix("_id")) != after.get(f.removesuffix("_id")) for f in WATCHED_ATTRIBUTES
        ):
            institution_attributes_changed.send(sender=Institution, institution_ids=[institution.pk])
    return institution, False


# --- licences --------------------------------------------------------------------------------------


def licence_setting_for(region_code: str, on: dt.date | None = None) -> ProvinceLicenceSetting:
    """The licence setting in force for the region's province (PolicyMissing when there is none)."""
    return ProvinceLicenceSetting.objects.require(on or timezone.localdate(), region_code)


def licence_number_validate(
    number: str, region_code: str, on: dt.date | None = None
) -> ProvinceLicenceSetting:
    setting = licence_setting_for(region_code, on)
    if not re.fullmatch(setting.number_pattern, number or ""):
        raise ValidationError(
            {
                "number": _("许可证编号“%(n)s”不符合%(abbr)s的编号格式（首字应为“%(abbr)s”）。")
                % {"n": number, "abbr": setting.abbreviation}
            }
        )
    return setting


def _notice_for(
    *,
    actor: Actor,
    kind: str,
    region_code: str,
    title: str,
    issuing_body: str,
    published_on: dt.date,
    period_label: str = "",
    document_no: str = "",
    body: str = "",
    rows: Iterable,
) -> Notice:
    notice = Notice.objects.create(
        region_id=region_code,
        kind=kind,
        title=title,
        issuing_body=issuing_body,
        published_on=published_on,
        period_label=period_label,
        document_no=document_no,
        body=body,
        created_by=actor if actor else None,
    )
    NoticeItem.objects.bulk_create(
        [
            NoticeItem(
                notice=notice,
                seq=n,
                institution=inst,
                licence=lic,
                institution_name=inst.name,
                licence_number=lic.number if lic else "",
                remark=remark,
            )
            for n, (inst, lic, remark) in enumerate(rows, start=1)
        ]
    )
    audit.record(
        actor=actor,
        action=audit.Action.CREATE,
        instance=notice,
        note=Message("由系统根据许可证或名单变动生成"),
    )
    return notice


def _province_of(licences: Iterable[Licence]) -> str:
    provinces = {lic.institution.region_id[:2] for lic in licences}
    if len(provinces) != 1:
        raise ValidationError(_("一份公告只能包含同一省份的许可证。"))
    return provinces.pop() + "0000"


@transaction.atomic
def licence_issue(
    *,
    actor: Actor,
    institution: Institution,
    number: str,
    issued_on: dt.date,
    business_scope: str = "",
    issuing_authority: str = "",
    with_notice: bool = True,
) -> Licence:
    require(actor, may_handle_licences, institution, message=LICENCE_AUTHORITY)
    if not institution.may_receive_licence:
        raise ValidationError(_("退出中或已注销的机构不能颁发许可证。"))
    setting = licence_number_validate(number, institution.region_id)  # the pattern in force today
    if Licence.objects.filter(number=number).exists():
        raise ValidationError({"number": _("许可证编号%(n)s已存在。") % {"n": number}})
    if Licence.objects.filter(institution=institution, status=LicenceStatus.VALID).exists():
        raise ValidationError(_("该机构已持有有效许可证。"))
    licence = Licence(
        number=number,
        institution=institution,
        issued_on=issued_on,
        business_scope=business_scope,
        issuing_authority=issuing_authority or setting.issuing_authority,
    )
    licence.full_clean()
    licence.save()
    audit.record(actor=actor, action=audit.Action.CREATE, instance=licence)
    if with_notice:
        _notice_for(
            actor=actor,
            kind=NoticeKind.ISSUE,
            region_code=institution.region_id[:2] + "0000",
            issuing_body=licence.issuing_authority,
            title=_("关于颁发融资担保业务经营许可证的公告"),
            published_on=issued_on,
            rows=[(institution, licence, "")],
        )
    return licence


@transaction.atomic
def licence_record(
    *,
    actor: Actor,
    institution: Institution,
    number: str,
    issued_on: dt.date | None,
    business_scope: str = "",
    issuing_authority: str = "",
    status: str = LicenceStatus.VALID,
    ended_on: dt.date | None = None,
    reason: str = "",
    decision_no: str = "",
) -> Licence:
    """Record a licence issued before the portal kept the register, as it stands (the registry import):
    its issue, and any cancellation or revocation, were announced when they happened, so no notice and no
    duties are made. The same authority and number rules as `licence_issue`."""
    require(actor, may_handle_licences, institution, message=LICENCE_AUTHORITY)
    setting = licence_number_validate(number, institution.region_id)
    if Licence.objects.filter(number=number).exists():
        raise ValidationError({"number": _("许可证编号%(n)s已存在。") % {"n": number}})
    cancelled, revoked = status == LicenceStatus.CANCELLED, status == LicenceStatus.REVOKED
    licence = Licence(
        number=number,
        institution=institution,
        issued_on=issued_on,
        business_scope=business_scope,
        issuing_authority=issuing_authority or setting.issuing_authority,
        status=status,
        cancelled_on=ended_on if cancelled else None,
        cancel_reason=reason if cancelled else "",
        revoked_on=ended_on if revoked else None,
        revocation_reason=reason if revoked else "",
        revocation_decision_no=decision_no if revoked else "",
    )
    licence.full_clean()
    licence.save()
    audit.record(actor=actor, action=audit.Action.CREATE, instance=licence, note=Message("登记导入"))
    return licence


@transaction.atomic
def licence_change(*, actor: Actor, licence: Licence, note: str = "", **fields) -> Licence:
    """Change or replace a licence (换发/变更): the number stays; scope, authority, date may change."""
    licence = Licence.objects.select_for_update().select_related("institution").get(pk=licence.pk)
    require(actor, may_handle_licences, licence.institution, message=LICENCE_AUTHORITY)
    if licence.status != LicenceStatus.VALID:
        raise ValidationError(_("只能变更有效的许可证。"))
    allowed = {"business_scope", "issuing_authority", "issued_on"}
    if set(fields) - allowed:
        raise ValidationError(_("许可证编号与持证机构不可变更。"))
    before = audit.snapshot(licence)
    for name, value in fields.items():
        setattr(licence, name, value)
    licence.full_clean()
    licence.save()
    audit.record(actor=actor, action=audit.Action.UPDATE, instance=licence, before=before, note=note)
    return licence


def _lock_valid(actor: Actor, licences: Iterable[Licence]) -> list[Licence]:
    ids = [lic.pk for lic in licences]
    locked = list(
        Licence.objects.select_for_update().filter(pk__in=ids).select_related("institution").order_by("pk")
    )
    by_id = {lic.pk: lic for lic in locked}
    ordered = [by_id[i] for i in ids if i in by_id]
    if not ordered:
        raise ValidationError(_("请至少选择一个许可证。"))
    for lic in ordered:
        require(actor, may_handle_licences, lic.institution, message=LICENCE_AUTHORITY)
        if lic.status != LicenceStatus.VALID:
            raise ValidationError(
                _("许可证%(n)s当前状态为“%(s)s”，不能再操作。")
                % {"n": lic.number, "s": lic.get_status_display()}
            )
    return ordered


@transaction.atomic
def licences_cancel(
    *,
    actor: Actor,
    licences: Iterable[Licence],
    reason: str,
    on: dt.date | None = None,
    period_label: str = "",
    title: str = "",
) -> Notice:
    """注销 one or more licences (e.g. on the companies' application); one draft notice lists them all."""
    if not reason.strip():
        raise ValidationError({"reason": _("请填写注销原因。")})
    ordered = _lock_valid(actor, licences)
    province = _province_of(ordered)
    setting = licence_setting_for(province, on)
    for lic in ordered:
        before = audit.snapshot(lic)
        lic.status, lic.cancelled_on, lic.cancel_reason = LicenceStatus.CANCELLED, on, reason
        lic.save(update_fields=["status", "cancelled_on", "cancel_reason", "updated_at"])
        audit.record(actor=actor, action=audit.Action.TRANSITION, instance=lic, before=before, note=reason)
    return _notice_for(
        actor=actor,
        kind=NoticeKind.CANCEL,
        region_code=province,
        issuing_body=setting.issuing_authority,
        title=title or _("关于注销部分融资担保机构融资担保业务经营许可证的公告"),
        published_on=on,
        period_label=period_label,
        body=_(
            "%(reason)s，依据《中华人民共和国行政许可法》《融资担保公司监督管理条例》《融资担保业务经营许可证管理办法》等规定，注销下列机构的融资担保业务经营许可证。"
        )
        % {"reason": reason},
        rows=[(lic.institution, lic, "") for lic in ordered],
    )


@transaction.atomic
def licences_revoke(
    *, actor: Actor, licences: Iterable[Licence], decision_no: str, on: dt.date, reason: str, title: str = ""
) -> Notice:
    """吊销 one or more licences; computes each holder's duties from the province's settings."""
    if on is None:
        raise ValidationError({"on": _("请填写吊销决定日期。")})
    if not reason.strip():
        raise ValidationError({"reason": _("请填写吊销原因。")})
    ordered = _lock_valid(actor, licences)
    province = _province_of(ordered)
    setting = licence_setting_for(province, on)
    deadlines = {
        DutyKind.ANNOUNCE: on + dt.timedelta(days=setting.announce_days),
        DutyKind.RETURN_LICENCE: on + dt.timedelta(days=setting.return_days),
        DutyKind.MARKET_REGULATOR: on + dt.timedelta(days=setting.market_regulator_days),
        DutyKind.RECONSIDERATION: on + dt.timedelta(days=setting.reconsideration_days),
        DutyKind.LAWSUIT: add_months(on, setting.lawsuit_months),
    }
    notes = {DutyKind.RECONSIDERATION: setting.reconsideration_body, DutyKind.LAWSUIT: setting.court}
    for lic in ordered:
        before = audit.snapshot(lic)
        lic.status, lic.revoked_on = LicenceStatus.REVOKED, on
        lic.revocation_decision_no, lic.revocation_reason = decision_no, reason
        lic.save(
            update_fields=[
                "status",
                "revoked_on",
                "revocation_decision_no",
                "revocation_reason",
                "updated_at",
            ]
        )
        audit.record(actor=actor, action=audit.Action.TRANSITION, instance=lic, before=before, note=reason)
        LicenceDuty.objects.bulk_create(
            [
                LicenceDuty(licence=lic, kind=kind, due_on=due, note=notes.get(kind, ""))
                for kind, due in deadlines.items()
            ]
        )
    body = _(
        "%(reason)s，决定吊销下列机构的融资担保业务经营许可证。上述公司自即日起停止新增融资担保业务，"
        "于%(a)s日内在媒体公告吊销事项，%(r)s日内向属地金融局交回许可证，%(m)s日内向属地市场监管部门申请变更或注销登记。"
        "如有异议，可于%(d)s日内向%(body)s申请行政复议，或于%(mo)s个月内向%(court)s提起行政诉讼；复议和诉讼期间不停止执行。"
    ) % {
        "reason": reason,
        "a": setting.announce_days,
        "r": setting.return_days,
        "m": setting.market_regulator_days,
        "d": setting.reconsideration_days,
        "body": setting.reconsideration_body,
        "mo": setting.lawsuit_months,
        "court": setting.court,
    }
    return _notice_for(
        actor=actor,
        kind=NoticeKind.REVOKE,
        region_code=province,
        issuing_body=setting.issuing_authority,
        title=title or _("关于吊销部分融资担保机构融资担保业务经营许可证的公告"),
        published_on=on,
        document_no=decision_no,
        body=body,
        rows=[(lic.institution, lic, "") for lic in ordered],
    )


@transaction.atomic
def licence_duty_complete(*, actor: Actor, duty: LicenceDuty, done_on: dt.date) -> LicenceDuty:
    duty = LicenceDuty.objects.select_for_update().select_related("licence__institution").get(pk=duty.pk)
    require(actor, may_keep_licences, duty.licence.institution, message=NOT_YOUR_INSTITUTION)
    before = audit.snapshot(duty)
    duty.done_on = done_on
    duty.save(update_fields=["done_on"])
    audit.record(actor=actor, action=audit.Action.UPDATE, instance=duty, before=before)
    return duty


# --- notices ---------------------------------------------------------------------------------------


@transaction.atomic
def notice_update(*, actor: Actor, notice: Notice, **fields) -> Notice:
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    require(actor, may_edit_notice, notice, message=NOT_YOUR_NOTICE)
    if notice.status != NoticeStatus.DRAFT:
        raise ValidationError(_("已发布的公告不能修改。"))
    allowed = {"title", "document_no", "issuing_body", "published_on", "period_label", "body"}
    before = audit.snapshot(notice)
    for name, value in fields.items():
        if name not in allowed:
            raise ValidationError(_("字段%(f)s不可修改。") % {"f": name})
        setattr(notice, name, value)
    notice.full_clean()
    notice.save()
    audit.record(actor=actor, action=audit.Action.UPDATE, instance=notice, before=before)
    return notice


@transaction.atomic
def notice_publish(*, actor: Actor, notice: Notice) -> Notice:
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    require(actor, may_edit_notice, notice, message=NOT_YOUR_NOTICE)
    if notice.status != NoticeStatus.DRAFT:
        raise ValidationError(_("公告已发布，不能重复发布。"))
    if not notice.published_on and not notice.period_label:
        raise ValidationError({"published_on": _("请填写公告日期或公告期间。")})
    before = audit.snapshot(notice)
    notice.status, notice.published_at = NoticeStatus.PUBLISHED, timezone.now()
    notice.save(update_fields=["status", "published_at", "updated_at"])
    audit.record(actor=actor, action=audit.Action.TRANSITION, instance=notice, before=before)
    return notice


# --- government-backed list ------------------------------------------------------------------------


@transaction.atomic
def govlist_batch_create(
    *, actor: Actor, region_code: str, title: str, published_on: dt.date | None = None, note: str = ""
) -> GovListBatch:
    require(actor, may_keep_list, region_code, message=NOT_YOUR_REGION)
    batch = GovListBatch(region_id=region_code, title=title, published_on=published_on, note=note)
    batch.full_clean()
    batch.save()
    audit.record(actor=actor, action=audit.Action.CREATE, instance=batch)
    return batch


def _editable_batch(actor: Actor, batch: GovListBatch) -> GovListBatch:
    batch = GovListBatch.objects.select_for_update().get(pk=batch.pk)
    require(actor, may_keep_list, batch.region_id, message=NOT_YOUR_REGION)
    if batch.status != ListBatchStatus.DRAFT:
        raise ValidationError(_("只有草拟中的批次可以修改。"))
    return batch


@transaction.atomic
def govlist_entry_set(
    *,
    actor: Actor,
    batch: GovListBatch,
    institution: Institution,
    action: str,
    reason: str = "",
    capital_replenishment: bool | None = False,
    risk_compensation: bool | None = False,
    national_fund_equity: bool | None = False,
    national_fund_reguarantee: bool | None = False,
) -> GovListEntry:
    """Include (with the four flags) or remove (with a reason) one institution in a draft batch."""
    batch = _editable_batch(actor, batch)
    if not institution.region_id.startswith(subtree_prefix(batch.region_id)):
        raise ValidationError(_("机构不在名单所属地区。"))
    if action == ListAction.REMOVE and not reason.strip():
        raise ValidationError({"reason": _("移出名单须填写理由。")})
    if action == ListAction.INCLUDE and not reason.strip() and _licence_revoked(institution):
        raise ValidationError({"reason": _("该机构的经营许可证已被吊销，纳入名单须填写理由。")})
    entry = GovListEntry.objects.filter(batch=batch, institution=institution).first()
    before = audit.snapshot(entry) if entry else None
    entry = entry or GovListEntry(batch=batch, institution=institution)
    entry.action, entry.reason = action, reason
    entry.capital_replenishment, entry.risk_compensation = capital_replenishment, risk_compensation
    entry.national_fund_equity, entry.national_fund_reguarantee = (
        national_fund_equity,
        national_fund_reguarantee,
    )
    entry.full_clean()
    entry.save()
    audit.record(
        actor=actor,
        action=audit.Action.UPDATE if before else audit.Action.CREATE,
        instance=entry,
        before=before,
    )
    return entry


def _licence_revoked(institution: Institution) -> bool:
    """No licence in force and one revoked: including such an institution needs a stated reason."""
    licences = list(Licence.objects.filter(institution=institution).values_list("status", flat=True))
    return LicenceStatus.VALID not in licences and LicenceStatus.REVOKED in licences


@transaction.atomic
def govlist_batch_update(
    *, actor: Actor, batch: GovListBatch, title: str, published_on: dt.date | None, note: str = ""
) -> GovListBatch:
    """A draft batch's name, publication date and note stay editable until it is proposed (a batch created
    without a date gets one later)."""
    batch = _editable_batch(actor, batch)
    before = audit.snapshot(batch)
    batch.title, batch.published_on, batch.note = title, published_on, note
    batch.full_clean()
    batch.save(update_fields=["title", "published_on", "note", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, instance=batch, before=before)
    return batch


@transaction.atomic
def govlist_batch_send_back(*, actor: Actor, batch: GovListBatch, reason: str) -> GovListBatch:
    """The other side sends a proposed batch back to draft with its reason (instead of confirming it);
    the proposer then corrects and proposes it again."""
    batch = GovListBatch.objects.select_for_update().get(pk=batch.pk)
    require(actor, may_keep_list, batch.region_id, message=NOT_YOUR_REGION)
    if batch.status != ListBatchStatus.PROPOSED:
        raise ValidationError(_("只有待确认的批次可以退回。"))
    require(actor, may_confirm_batch, batch, message=_("须由另一方（财政部门或监管部门）退回。"))
    if not reason.strip():
        raise ValidationError({"reason": _("退回须填写理由。")})
    before = audit.snapshot(batch)
    batch.status = ListBatchStatus.DRAFT
    batch.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        action=audit.Action.TRANSITION,
        instance=batch,
        before=before,
        note=Message("退回修改：%(r)s", r=reason.strip()),
    )
    return batch


@transaction.atomic
def govlist_batch_propose(*, actor: Actor, batch: GovListBatch) -> GovListBatch:
    batch = _editable_batch(actor, batch)
    if not batch.entries.exists():
        raise ValidationError(_("批次没有任何条目。"))
    if not batch.published_on:
        raise ValidationError({"published_on": _("请填写发布日期。")})
    before = audit.snapshot(batch)
    batch.status, batch.proposed_by, batch.proposed_at = ListBatchStatus.PROPOSED, actor, timezone.now()
    batch.save(update_fields=["status", "proposed_by", "proposed_at", "updated_at"])
    audit.record(actor=actor, action=audit.Action.TRANSITION, instance=batch, before=before)
    return batch


@transaction.atomic
def govlist_batch_confirm(*, actor: Actor, batch: GovListBatch) -> GovListBatch:
    """The other side confirms (finance bureau ↔ regulator): the batch takes effect on its publication
    date, a public notice lists the changes and `government_backed_changed` is sent."""
    batch = GovListBatch.objects.select_for_update().get(pk=batch.pk)
    require(actor, may_keep_list, batch.region_id, message=NOT_YOUR_REGION)
    if batch.status != ListBatchStatus.PROPOSED:
        raise ValidationError(_("只有待确认的批次可以确认。"))
    require(
        actor,
        may_confirm_batch,
        batch,
        message=_("须由另一方（财政部门或监管部门）确认。"),
    )
    before = audit.snapshot(batch)
    batch.status, batch.confirmed_by, batch.confirmed_at = ListBatchStatus.CONFIRMED, actor, timezone.now()
    batch.save(update_fields=["status", "confirmed_by", "confirmed_at", "updated_at"])
    audit.record(actor=actor, action=audit.Action.TRANSITION, instance=batch, before=before)
    entries = list(batch.entries.select_related("institution").order_by("action", "institution__name"))
    licences = {
        lic.institution_id: lic
        for lic in Licence.objects.filter(
            institution__in=[e.institution_id for e in entries], status=LicenceStatus.VALID
        )
    }
    notice = _notice_for(
        actor=actor,
        kind=NoticeKind.LIST_CHANGE,
        region_code=batch.region_id,
        issuing_body=str(_("财政部门、地方金融监管部门")),
        title=batch.title,
        published_on=batch.published_on,
        body=batch.note,
        rows=[
            (
                e.institution,
                licences.get(e.institution_id),
                f"{e.get_action_display()}{('：' + e.reason) if e.reason else ''}",
            )
            for e in entries
        ],
    )
    before_publish = audit.snapshot(notice)
    notice.status, notice.published_at = NoticeStatus.PUBLISHED, timezone.now()
    notice.save(update_fields=["status", "published_at"])
    audit.record(
        actor=actor,
        action=audit.Action.TRANSITION,
        instance=notice,
        before=before_publish,
        note=Message("名单批次确认后自动发布"),
    )
    ids = [e.institution_id for e in entries]
    on = batch.published_on
    government_backed_changed.send(sender=GovListBatch, institution_ids=ids, on=on)
    return batch


# --- banks and agreements --------------------------------------------------------------------------

AGREEMENT_FIELDS = (
    "bank",
    "starts_on",
    "ends_on",
    "credit_line",
    "share_bank",
    "share_guarantor",
    "share_reguarantor",
    "share_national_fund",
    "share_gov_fund",
    "margin_ratio",
    "grace_days",
    "compensation_scope",
    "head_to_head",
    "compensation_rate_cap",
    "single_client_limit",
)


@transaction.atomic
def agreement_save(
    *, actor: Actor, institution: Institution, agreement: Agreement | None = None, **fields
) -> Agreement:
    """Create or update an agreement (regulator of the institution, or the company itself)."""
    require(actor, may_change_agreements, institution, message=NOT_YOUR_INSTITUTION)
    if agreement is not None:
        agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if agreement.institution_id != institution.pk:
            raise PermissionDenied(_("协议不属于该机构。"))
        before = audit.snapshot(agreement)
    else:
        agreement, before = Agreement(institution=institution), None
    for name, value in fields.items():
        if name not in AGREEMENT_FIELDS:
            raise ValidationError(_("字段%(f)s不可修改。") % {"f": name})
        setattr(agreement, name, value)
    agreement.full_clean()
    agreement.save()
    audit.record(
        actor=actor,
        action=audit.Action.UPDATE if before else audit.Action.CREATE,
        instance=agreement,
        before=before,
    )
    return agreement


# --- shareholders, managers, change filings --------------------------------------------------------


@transaction.atomic
def shareholder_save(*, actor: Actor, institution: Institution, name: str, **fields) -> Shareholder:
    from .models import Shareholder

    require(actor, may_edit_company_data, institution, message=NOT_YOUR_INSTITUTION)
    row = Shareholder.objects.select_for_update().filter(institution=institution, name=name).first()
    before = audit.snapshot(row) if row else None
    row = row or Shareholder(institution=institution, name=name)
    given = "identifier" in fields  # absent: the stored identifier stays
    identifier = (fields.pop("identifier", None) or "").strip().upper()
    for key, value in fields.items():
        setattr(row, key, value)
    if row.kind == ShareholderKind.PERSON:
        if given and identifier:  # kept only as the keyed hash and the last four (core.identifiers)
            if not is_valid_id_number(identifier):
                raise ValidationError({"identifier": _("身份证号码无效（GB 11643 校验位不符）。")})
            row.id_hash = id_number_hash(identifier, settings.PII_HASH_KEY.encode())
            row.id_last4 = id_last_four(identifier)
        row.identifier = ""
    elif given or row.id_hash:
        row.identifier, row.id_hash, row.id_last4 = (identifier if given else ""), "", ""
    row.full_clean()
    others = Shareholder.objects.filter(institution=institution).exclude(pk=row.pk)
    if row.is_controlling and others.filter(is_controlling=True).exists():
        raise ValidationError({"is_controlling": _("已登记其他控股股东。")})
    total = sum((s.share_ratio for s in others), row.share_ratio)
    if total > 1:
        raise ValidationError({"share_ratio": _("持股比例合计超过100%。")})
    row.save()
    audit.record(
        actor=actor,
        action=audit.Action.UPDATE if before else audit.Action.CREATE,
        instance=row,
        before=before,
    )
    return row


@transaction.atomic
def manager_save(
    *, actor: Actor, institution: Institution, name: str, role: str, title: str, since: dt.date | None = None
) -> Manager:
    from .models import Manager

    require(actor, may_edit_company_data, institution, message=NOT_YOUR_INSTITUTION)
    row = Manager(institution=institution, name=name, role=role, title=title, since=since)
    row.full_clean()
    row.save()
    audit.record(actor=actor, action=audit.Action.CREATE, instance=row)
    return row


@transaction.atomic
def registry_row_delete(*, actor: Actor, row: models.Model) -> None:
    """Remove a shareholder or manager row (recorded in the institution's audit trail)."""
    require(actor, may_edit_company_data, row.institution, message=NOT_YOUR_INSTITUTION)
    audit.record(
        actor=actor,
        action=audit.Action.DELETE,
        instance=row,
        before=audit.snapshot(row),
        changes={k: [v, None] for k, v in audit.snapshot(row).items()},
    )
    row.delete()


def change_filing_due(changed_on: dt.date, region_code: str) -> dt.date:
    from .choices import RuleCode
    from .selectors import rules_for

    rule = rules_for(region_code, changed_on).require(RuleCode.CHANGE_FILING_DAYS)
    return changed_on + dt.timedelta(days=int(rule.value))


@transaction.atomic
def change_filing_submit(
    *,
    actor: Actor,
    institution: Institution,
    item: str,
    description: str,
    changed_on: dt.date,
    document: UploadedFile | None = None,
    filed_on: dt.date | None = None,
) -> ChangeFiling:
    """The company files a change of a registered item; the due date comes from the policy row."""
    from .models import ChangeFiling

    require(
        actor,
        may_file_changes,
        institution,
        message=_("只有本机构人员可以报备变更。"),
    )
    filed_on = filed_on or timezone.localdate()
    if changed_on > filed_on:
        raise ValidationError({"changed_on": _("变更日期不能晚于报备日期。")})
    filing = ChangeFiling(
        institution=institution,
        item=item,
        description=description,
        changed_on=changed_on,
        due_on=change_filing_due(changed_on, institution.region_id),
        filed_on=filed_on,
        filed_by=actor if actor else None,
    )
    if document is not None:
        filing.document = document
    filing.full_clean()
    filing.save()
    audit.record(actor=actor, action=audit.Action.CREATE, instance=filing)
    return filing


@transaction.atomic
def change_filing_review(
    *, actor: Actor, filing: ChangeFiling, acknowledge: bool, note: str = ""
) -> ChangeFiling:
    from .choices import ChangeFilingStatus
    from .models import ChangeFiling

    filing = ChangeFiling.objects.select_for_update().select_related("institution").get(pk=filing.pk)
    require(actor, may_review_changes, filing.institution, message=NOT_YOUR_INSTITUTION)
    if filing.status != ChangeFilingStatus.FILED:
        raise ValidationError(_("该备案已处理。"))
    if not acknowledge and not note.strip():
        raise ValidationError({"note": _("退回须说明理由。")})
    before = audit.snapshot(filing)
    filing.status = ChangeFilingStatus.ACKNOWLEDGED if acknowledge else ChangeFilingStatus.RETURNED
    filing.reviewed_by, filing.reviewed_at, filing.review_note = actor, timezone.now(), note
    filing.save()
    audit.record(actor=actor, action=audit.Action.TRANSITION, instance=filing, before=before, note=note)
    return filing
