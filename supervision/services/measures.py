"""Supervisory measures (规程 art. 28): proposal, approval at the level the measure's type requires,
issue as a numbered document, the company's acknowledgement and answer, the regulator's acceptance,
request for more or escalation, reminders around the deadline, closing with a conclusion; on-site
inspections with their findings; the list of companies that did not file (or filed late) for a quarter.

Every transition is a conditional update on the status it leaves and is audited in its transaction."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit
from core.permissions import require
from core.stored_text import Message
from institutions.choices import NoticeKind
from institutions.models import Institution, Notice, NoticeItem
from reporting.models import Notification
from reporting.periods import Period

from ..models import (
    MEASURE_OPEN,
    Inspection,
    InspectionFinding,
    Measure,
    MeasureMessage,
    MeasureStatus,
    MeasureType,
    MessageKind,
    NonFilerEntry,
    NonFilerList,
)
from ..permissions import (
    may_answer_measure,
    may_approve_measure,
    may_handle_measure,
    may_propose_measure,
)

if TYPE_CHECKING:
    from core.roles import Actor

PROVINCE_ABBR = {
    "11": "京", "12": "津", "13": "冀", "14": "晋", "15": "蒙", "21": "辽", "22": "吉", "23": "黑",
    "31": "沪", "32": "苏", "33": "浙", "34": "皖", "35": "闽", "36": "赣", "37": "鲁", "41": "豫",
    "42": "鄂", "43": "湘", "44": "粤", "45": "桂", "46": "琼", "50": "渝", "51": "川", "52": "黔",
    "53": "滇", "54": "藏", "61": "陕", "62": "甘", "63": "青", "64": "宁", "65": "新",
}  # fmt: skip
REMIND_DAYS_BEFORE = 3
# extension → the bytes such a file starts with (checked, so a renamed executable is refused)
EVIDENCE_TYPES = {
    ".pdf": (b"%PDF-",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
    ".zip": (b"PK\x03\x04",),
    ".ofd": (b"PK\x03\x04",),
}
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
NOT_ALLOWED = gettext_lazy("无权处理该监管措施")


def _transition(measure: Measure, *, actor: Actor, frm, note: str = "", **fields) -> Measure:
    """Move the measure from one of the `frm` statuses with `fields` (a conditional update) and audit it."""
    before = audit.snapshot(measure)
    frm = (frm,) if isinstance(frm, str) else tuple(frm)
    updated = Measure.objects.filter(pk=measure.pk, status__in=frm).update(
        updated_at=timezone.now(), **fields
    )
    if not updated:
        raise ValidationError(
            _("当前状态（%(status)s）不能执行该操作") % {"status": measure.get_status_display()}
        )
    measure.refresh_from_db()
    audit.record(actor=actor, action=audit.Action.TRANSITION, instance=measure, before=before, note=note)
    return measure


def _notify(users, title: str, body: str, url: str) -> None:
    Notification.objects.send(users, title=title, body=body, url=url)


def _company_users(measure: Measure):
    from accounts.models import User

    return list(User.objects.filter(institution_id=measure.institution_id, is_active=True))


def _url(measure: Measure) -> str:
    return reverse("supervision:measure_detail", args=[measure.pk])


# --- proposal and approval -----------------------------------------------------------------------


@transaction.atomic
def measure_propose(
    *,
    actor: Actor,
    institution: Institution,
    measure_type: MeasureType,
    facts: str,
    requirements: str = "",
    deadline: dt.date | None = None,
    case=None,
    filing=None,
    escalated_from: Measure | None = None,
) -> Measure:
    """Propose a measure against an institution, from a warning case, a filing, or the institution."""
    require(actor, may_propose_measure, institution, message=NOT_ALLOWED)
    if not facts.strip():
        raise ValidationError(_("请填写事由"))
    if not measure_type.active:
        raise ValidationError(_("该措施类型已停用"))
    for source in (case, filing):
        if source is not None and source.institution_id != institution.pk:
            raise ValidationError(_("来源与机构不一致"))
    measure = Measure.objects.create(
        measure_type=measure_type,
        institution=institution,
        case=case,
        filing=filing,
        escalated_from=escalated_from,
        facts=facts.strip(),
        requirements=requirements.strip(),
        deadline=deadline,
        proposed_by=actor,
    )
    audit.record(actor=actor, action=audit.Action.CREATE, instance=measure)
    return measure


@transaction.atomic
def measure_approve(*, actor: Actor, measure: Measure, note: str = "") -> Measure:
    require(
        actor,
        may_approve_measure,
        measure,
        message=_("无权审批该措施（须由具有相应审批层级的其他监管人员审批）"),
    )
    return _transition(
        measure,
        actor=actor,
        frm=MeasureStatus.PROPOSED,
        note=note,
        status=MeasureStatus.APPROVED,
        approved_by=actor,
        approved_at=timezone.now(),
        approval_note=note,
    )


@transaction.atomic
def measure_reject(*, actor: Actor, measure: Measure, note: str) -> Measure:
    require(actor, may_approve_measure, measure, message=NOT_ALLOWED)
    if not note.strip():
        raise ValidationError(_("不予批准须说明理由"))
    return _transition(
        measure,
        actor=actor,
        frm=MeasureStatus.PROPOSED,
        note=note,
        status=MeasureStatus.REJECTED,
        approved_by=actor,
        approved_at=timezone.now(),
        approval_note=note,
    )


# --- the document ----------------------------------------------------------------------------------


PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")


def render_template(template: str, values: dict[str, str]) -> str:
    """Fill `{{name}}` placeholders (plain substitution: nothing in a template is evaluated); unknown
    placeholders stay as written."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def document_values(measure: Measure, *, number: str, issuing_body: str, day: dt.date) -> dict[str, str]:
    return {
        "机构": measure.institution.name,
        "文号": number,
        "措施": measure.measure_type.name,
        "事由": measure.facts,
        "要求": measure.requirements or "请对上述问题进行整改，并报送整改方案。",
        "依据": measure.measure_type.source,
        "期限": _cn_date(measure.deadline) if measure.deadline else "",
        "机关": issuing_body,
        "日期": _cn_date(day),
    }


def _next_number(province: str, year: int) -> str:
    prefix = f"{PROVINCE_ABBR.get(province, province)}担监措〔{year}〕"
    taken = Measure.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    seq = max((int(n[len(prefix) : -1]) for n in taken if n[len(prefix) : -1].isdigit()), default=0) + 1
    return f"{prefix}{seq}号"


@transaction.atomic
def measure_issue(*, actor: Actor, measure: Measure, issuing_body: str = "") -> Measure:
    """Issue an approved measure: number it, fill its document from the type's template, fix the deadline
    (the type's default from today unless set) and deliver it to the company's users."""
    require(actor, may_handle_measure, measure, message=NOT_ALLOWED)
    if measure.status != MeasureStatus.APPROVED:
        raise ValidationError(_("只有已批准的措施可以下达"))
    today = timezone.localdate()
    if not issuing_body:
        region = getattr(actor, "region", None)
        issuing_body = f"{region.name}地方金融管理局" if region is not None else "地方金融管理局"
    if measure.deadline is None or measure.deadline < today:
        measure.deadline = today + dt.timedelta(days=measure.measure_type.default_days)
    for _attempt in range(5):  # two issues at once take the same number: the unique index refuses one
        number = _next_number(measure.institution.region_id[:2], today.year)
        text = render_template(
            measure.measure_type.template,
            document_values(measure, number=number, issuing_body=issuing_body, day=today),
        )
        try:
            with transaction.atomic():
                _transition(
                    measure,
                    actor=actor,
                    frm=MeasureStatus.APPROVED,
                    status=MeasureStatus.ISSUED,
                    number=number,
                    issued_by=actor,
                    issued_at=timezone.now(),
                    issuing_body=issuing_body,
                    deadline=measure.deadline,
                    document_text=text,
                )
            break
        except IntegrityError:
            continue
    else:
        raise ValidationError(_("文号生成冲突，请重试"))
    _notify(
        _company_users(measure),
        Message("监管措施：%(type)s（%(number)s）", type=measure.measure_type.name, number=measure.number),
        Message("请于%(deadline)s前签收并答复", deadline=str(measure.deadline)),
        _url(measure),
    )
    return measure


# --- the company's side ----------------------------------------------------------------------------


@transaction.atomic
def measure_acknowledge(*, actor: Actor, measure: Measure) -> Measure:
    require(actor, may_answer_measure, measure, message=NOT_ALLOWED)
    return _transition(
        measure,
        actor=actor,
        frm=MeasureStatus.ISSUED,
        status=MeasureStatus.ACKNOWLEDGED,
        acknowledged_by=actor,
        acknowledged_at=timezone.now(),
    )


def check_evidence(evidence) -> None:
    """Evidence files: the listed types (by extension and by their first bytes), at most 20 MB (Django's
    upload limits apply before this)."""
    if evidence is None:
        return
    name = (evidence.name or "").lower()
    ext = next((e for e in EVIDENCE_TYPES if name.endswith(e)), None)
    if ext is None:
        raise ValidationError(_("证明材料仅限 PDF、图片、Word、Excel、OFD 或 ZIP 文件"))
    if evidence.size > EVIDENCE_MAX_BYTES:
        raise ValidationError(_("证明材料不能超过 20 MB"))
    evidence.seek(0)
    head = evidence.read(8)
    evidence.seek(0)
    if not head.startswith(EVIDENCE_TYPES[ext]):
        raise ValidationError(_("文件内容与扩展名不符"))


@transaction.atomic
def measure_answer(*, actor: Actor, measure: Measure, text: str, evidence=None) -> MeasureMessage:
    """The company's rectification plan (or supplement after a request for more), with evidence; an
    issued measure is acknowledged by answering it."""
    require(actor, may_answer_measure, measure, message=NOT_ALLOWED)
    if not text.strip():
        raise ValidationError(_("请填写整改方案"))
    check_evidence(evidence)
    kind = MessageKind.SUPPLEMENT if measure.status == MeasureStatus.MORE_REQUESTED else MessageKind.PLAN
    extra = {}
    if measure.status == MeasureStatus.ISSUED:
        extra = {"acknowledged_by": actor, "acknowledged_at": timezone.now()}
    _transition(
        measure,
        actor=actor,
        frm=(MeasureStatus.ISSUED, MeasureStatus.ACKNOWLEDGED, MeasureStatus.MORE_REQUESTED),
        status=MeasureStatus.ANSWERED,
        **extra,
    )
    message = MeasureMessage(measure=measure, kind=kind, author=actor, text=text.strip())
    if evidence is not None:
        message.evidence.save(evidence.name.rsplit("/", 1)[-1], evidence, save=False)
    message.save()
    users = [u for u in (measure.proposed_by, measure.issued_by) if u is not None]
    _notify(
        list({u.pk: u for u in users}.values()),
        Message("%(i)s已答复监管措施%(number)s", i=measure.institution.name, number=measure.number),
        "",
        _url(measure),
    )
    return message


# --- the regulator's response --------------------------------------------------------------------


@transaction.atomic
def measure_request_more(*, actor: Actor, measure: Measure, text: str) -> Measure:
    require(actor, may_handle_measure, measure, message=NOT_ALLOWED)
    if not text.strip():
        raise ValidationError(_("请说明需补充的内容"))
    _transition(
        measure, actor=actor, frm=MeasureStatus.ANSWERED, note=text, status=MeasureStatus.MORE_REQUESTED
    )
    MeasureMessage.objects.create(measure=measure, kind=MessageKind.REQUEST, author=actor, text=text.strip())
    _notify(
        _company_users(measure),
        Message("监管措施%(number)s：请补充材料", number=measure.number),
        text.strip(),
        _url(measure),
    )
    return measure


@transaction.atomic
def measure_close(*, actor: Actor, measure: Measure, conclusion: str) -> Measure:
    """Accept the answer (or end a measure that needs none, e.g. a talk held) with a conclusion."""
    require(actor, may_handle_measure, measure, message=NOT_ALLOWED)
    if not conclusion.strip():
        raise ValidationError(_("办结须填写结论"))
    return _transition(
        measure,
        actor=actor,
        frm=MEASURE_OPEN,
        note=conclusion,
        status=MeasureStatus.CLOSED,
        conclusion=conclusion.strip(),
        closed_by=actor,
        closed_at=timezone.now(),
    )


@transaction.atomic
def measure_escalate(
    *, actor: Actor, measure: Measure, measure_type: MeasureType, facts: str, requirements: str = ""
) -> Measure:
    """End an open measure as escalated and propose the stronger one (it needs its own approval)."""
    require(actor, may_handle_measure, measure, message=NOT_ALLOWED)
    if measure_type.order <= measure.measure_type.order:
        raise ValidationError(_("升级须选择更严格的措施"))
    _transition(
        measure,
        actor=actor,
        frm=MEASURE_OPEN,
        note=facts,
        status=MeasureStatus.ESCALATED,
        conclusion=f"升级为{measure_type.name}",
        closed_by=actor,
        closed_at=timezone.now(),
    )
    return measure_propose(
        actor=actor,
        institution=measure.institution,
        measure_type=measure_type,
        facts=facts,
        requirements=requirements,
        case=measure.case,
        filing=measure.filing,
        escalated_from=measure,
    )


@transaction.atomic
def measure_publish_circular(*, actor: Actor, measure: Measure) -> Notice:
    """A risk warning and circular (or another publishable measure) as a public notice."""
    from institutions.services import notice_publish

    require(actor, may_handle_measure, measure, message=NOT_ALLOWED)
    if not measure.measure_type.publishable:
        raise ValidationError(_("该类措施不公开发布"))
    if measure.issued_at is None or measure.notice_id:
        raise ValidationError(_("措施未下达或已发布"))
    notice = Notice.objects.create(
        region_id=getattr(actor, "region_id", None) or measure.institution.region_id[:2] + "0000",
        kind=NoticeKind.CIRCULAR,
        title=f"关于{measure.institution.name}的{measure.measure_type.name}",
        document_no=measure.number,
        issuing_body=measure.issuing_body,
        published_on=timezone.localdate(),
        body=measure.document_text,
        created_by=actor,
    )
    NoticeItem.objects.create(
        notice=notice, seq=1, institution=measure.institution, institution_name=measure.institution.name
    )
    audit.record(actor=actor, action=audit.Action.CREATE, instance=notice)
    notice = notice_publish(actor=actor, notice=notice)
    Measure.objects.filter(pk=measure.pk).update(notice=notice)
    measure.notice = notice
    return notice


# --- reminders -------------------------------------------------------------------------------------


def measures_remind(today: dt.date) -> dict[str, int]:
    """Remind the company (and the handling regulator) REMIND_DAYS_BEFORE days before a deadline and
    once it has passed; each (measure, event) once — the reminder row's unique key decides who sends."""
    sent = {"before": 0, "overdue": 0}
    waiting = (MeasureStatus.ISSUED, MeasureStatus.ACKNOWLEDGED, MeasureStatus.MORE_REQUESTED)
    due = Measure.objects.filter(status__in=waiting, deadline__isnull=False).select_related(
        "measure_type", "institution", "issued_by"
    )
    for measure in due.filter(deadline__lte=today + dt.timedelta(days=REMIND_DAYS_BEFORE)):
        event = "overdue" if today > measure.deadline else "before"
        key = f"{event}:{measure.deadline}"
        try:
            with transaction.atomic():
                MeasureMessage.objects.create(
                    measure=measure,
                    kind=MessageKind.REMINDER,
                    text=f"答复期限{measure.deadline}" + ("已过" if event == "overdue" else "将至"),
                    reminder_key=key,
                )
                title = (
                    f"监管措施{measure.number}已逾期（期限{measure.deadline}），请立即答复"
                    if event == "overdue"
                    else f"监管措施{measure.number}将于{measure.deadline}到期，请按时答复"
                )
                users = _company_users(measure) + (
                    [measure.issued_by] if event == "overdue" and measure.issued_by else []
                )
                _notify(users, title, "", _url(measure))
        except IntegrityError:
            continue
        sent[event] += 1
    return sent


# --- on-site inspection ----------------------------------------------------------------------------


@transaction.atomic
def inspection_create(
    *, actor: Actor, measure: Measure, scope: str, team: str, start_date: dt.date, end_date: dt.date
) -> Inspection:
    require(actor, may_handle_measure, measure, message=NOT_ALLOWED)
    if not measure.measure_type.onsite or measure.issued_at is None:
        raise ValidationError(_("须由已下达的现场检查措施发起"))
    if end_date < start_date:
        raise ValidationError(_("结束日期不能早于开始日期"))
    if not scope.strip() or not team.strip():
        raise ValidationError(_("请填写检查范围和检查组成员"))
    inspection = Inspection.objects.create(
        measure=measure,
        institution=measure.institution,
        scope=scope.strip(),
        team=team.strip(),
        start_date=start_date,
        end_date=end_date,
        created_by=actor,
    )
    audit.record(actor=actor, action=audit.Action.CREATE, instance=inspection)
    return inspection


def _check_inspection(actor: Actor, inspection: Inspection) -> None:
    if (
        actor is not None
        and not Inspection.objects.for_user(actor, "change").filter(pk=inspection.pk).exists()
    ):
        raise PermissionDenied(NOT_ALLOWED)


@transaction.atomic
def inspection_add_finding(
    *, actor: Actor, inspection: Inspection, text: str, measure_type: MeasureType | None = None
) -> InspectionFinding:
    """Record a finding; with a measure type, propose the measure it leads to (linked to the finding)."""
    _check_inspection(actor, inspection)
    if not text.strip():
        raise ValidationError(_("请填写检查发现"))
    measure = None
    if measure_type is not None:
        measure = measure_propose(
            actor=actor,
            institution=inspection.institution,
            measure_type=measure_type,
            facts=f"现场检查发现：{text.strip()}",
        )
    finding = InspectionFinding.objects.create(inspection=inspection, text=text.strip(), measure=measure)
    audit.record(actor=actor, action=audit.Action.CREATE, instance=finding)
    return finding


@transaction.atomic
def inspection_report(*, actor: Actor, inspection: Inspection, report: str) -> Inspection:
    _check_inspection(actor, inspection)
    if not report.strip():
        raise ValidationError(_("请填写检查报告"))
    before = audit.snapshot(inspection)
    Inspection.objects.filter(pk=inspection.pk).update(
        report=report.strip(), reported_at=timezone.now(), updated_at=timezone.now()
    )
    inspection.refresh_from_db()
    audit.record(actor=actor, action=audit.Action.UPDATE, instance=inspection, before=before)
    return inspection


# --- non-filers ------------------------------------------------------------------------------------


@transaction.atomic
def nonfilers_draft(*, actor: Actor, period: Period, measure_type: MeasureType) -> NonFilerList:
    """Draft the list of the actor's jurisdiction for a quarter from the completeness board: every obliged
    institution that did not file, or filed after its due date."""
    from reporting.selectors import completeness

    if actor is None or not actor.region_id:
        raise PermissionDenied(NOT_ALLOWED)
    require(actor, lambda u: may_propose_measure(u, Institution(region_id=u.region_id)), message=NOT_ALLOWED)
    if measure_type.code not in ("inquiry", "talk"):
        raise ValidationError(_("未按时报送机构的措施为询问或约谈"))
    rows = [r for r in completeness(actor, period)["rows"] if r["state"] == "missing" or r["late"]]
    lst = NonFilerList.objects.create(
        region_id=actor.region_id,
        year=period.year,
        quarter=period.quarter,
        measure_type=measure_type,
        created_by=actor,
    )
    NonFilerEntry.objects.bulk_create(
        [
            NonFilerEntry(
                nonfiler_list=lst,
                institution=r["institution"],
                kind=NonFilerEntry.Kind.MISSING if r["state"] == "missing" else NonFilerEntry.Kind.LATE,
            )
            for r in rows
        ]
    )
    audit.record(
        actor=actor,
        action=audit.Action.CREATE,
        instance=lst,
        note=Message("名单共 %(n)s 家机构", n=len(rows)),
    )
    return lst


def _check_list(actor: Actor, lst: NonFilerList) -> None:
    if actor is not None and not NonFilerList.objects.for_user(actor, "change").filter(pk=lst.pk).exists():
        raise PermissionDenied(NOT_ALLOWED)


@transaction.atomic
def nonfilers_review(*, actor: Actor, nonfiler_list: NonFilerList, included_ids) -> NonFilerList:
    """Keep on the draft list only the entries ticked (`included_ids`: entry ids)."""
    _check_list(actor, nonfiler_list)
    if nonfiler_list.status != NonFilerList.Status.DRAFT:
        raise ValidationError(_("名单已发布"))
    included = {int(i) for i in included_ids}
    entries = nonfiler_list.entries.all()
    entries.filter(pk__in=included).update(included=True)
    entries.exclude(pk__in=included).update(included=False)
    audit.record(actor=actor, action=audit.Action.UPDATE, instance=nonfiler_list, note=f"{len(included)}")
    return nonfiler_list


@transaction.atomic
def nonfilers_publish(*, actor: Actor, nonfiler_list: NonFilerList) -> Notice:
    """Publish the reviewed list as a public notice; each listed company gets its own measure (proposed,
    for approval)."""
    from institutions.services import notice_publish

    _check_list(actor, nonfiler_list)
    before = audit.snapshot(nonfiler_list)
    updated = NonFilerList.objects.filter(pk=nonfiler_list.pk, status=NonFilerList.Status.DRAFT).update(
        status=NonFilerList.Status.PUBLISHED, updated_at=timezone.now()
    )
    if not updated:
        raise ValidationError(_("名单已发布"))
    entries = list(nonfiler_list.entries.filter(included=True).select_related("institution"))
    if not entries:
        raise ValidationError(_("名单为空"))
    period = nonfiler_list.period
    region = nonfiler_list.region
    notice = Notice.objects.create(
        region=region,
        kind=NoticeKind.NON_FILERS,
        title=f"关于{period.label}未按时报送监管报表的融资担保公司名单的通报",
        issuing_body=f"{region.name}地方金融管理局",
        published_on=timezone.localdate(),
        body=f"以下融资担保公司未按规定时限报送{period.label}监管报表，现予通报。",
        created_by=actor,
    )
    NoticeItem.objects.bulk_create(
        [
            NoticeItem(
                notice=notice,
                seq=n,
                institution=e.institution,
                institution_name=e.institution.name,
                remark=e.get_kind_display(),
            )
            for n, e in enumerate(entries, 1)
        ]
    )
    audit.record(actor=actor, action=audit.Action.CREATE, instance=notice)
    notice = notice_publish(actor=actor, notice=notice)
    for e in entries:
        e.measure = measure_propose(
            actor=actor,
            institution=e.institution,
            measure_type=nonfiler_list.measure_type,
            facts=f"你公司{e.get_kind_display()}{period.label}监管报表。",
            requirements="请说明未按时报送的原因并报送整改措施。",
        )
    NonFilerEntry.objects.bulk_update(entries, ["measure"])
    nonfiler_list.refresh_from_db()
    nonfiler_list.notice = notice
    nonfiler_list.save(update_fields=["notice"])
    audit.record(actor=actor, action=audit.Action.TRANSITION, instance=nonfiler_list, before=before)
    return notice
