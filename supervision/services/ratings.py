"""Classification ratings: each year's draft of every institution's rating from the data (every item's
score and where it came from), adjustment of an item only with a reason, confirmation by a second
regulator, the company's objection within the sheet's period, publication of the final list."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit
from core.roles import Role, acts_for, has_role
from core.stored_text import Message
from institutions.choices import NoticeKind
from institutions.models import Institution, Notice, NoticeItem
from reporting.models import Filing, FilingVersion, Notification
from reporting.periods import Period

from .. import rating as calc
from ..models import (
    IndicatorBreach,
    IndicatorRun,
    IndicatorValue,
    InspectionFinding,
    Measure,
    MeasureMessage,
    MessageKind,
    Rating,
    RatingObjection,
    RatingScore,
    RatingSheet,
    RatingStatus,
)

if TYPE_CHECKING:
    from core.roles import Actor

NOT_ALLOWED = gettext_lazy("无权处理该评级")


def sheet_for(region_code: str, year: int) -> RatingSheet:
    """The province's own sheet in force for the year, else the default one."""
    sheets = RatingSheet.objects.filter(region_code__in=[region_code[:2] + "0000", ""], year_from__lte=year)
    sheet = sheets.order_by("-region_code", "-year_from").first()
    if sheet is None:
        raise ValidationError(_("没有适用的评分表"))
    return sheet


def rating_facts(institution_ids: list[int], year: int) -> dict[int, calc.Facts]:
    """The facts of the year for each institution (a fixed number of queries)."""
    facts = {i: calc.Facts() for i in institution_ids}
    last_filing: dict[int, tuple[int, int]] = {}
    for inst, quarter, filing_id in (
        IndicatorRun.objects.filter(institution_id__in=institution_ids, year=year)
        .order_by("quarter")
        .values_list("institution_id", "quarter", "filing_id")
    ):
        facts[inst].quarters.append(str(Period(year, quarter)))
        last_filing[inst] = (quarter, filing_id)
    for inst, code, value in IndicatorValue.objects.filter(
        filing_id__in=[f for _q, f in last_filing.values()]
    ).values_list("institution_id", "code", "value"):
        facts[inst].year_end[code] = value
    rank = {"breach": 0, "warning": 1}
    for inst, quarter, indicator, severity in IndicatorBreach.objects.filter(
        institution_id__in=institution_ids, year=year, severity__in=["breach", "warning"]
    ).values_list("institution_id", "quarter", "indicator", "severity"):
        facts[inst].breaches.setdefault(str(Period(year, quarter)), set()).add(indicator)
        if last_filing.get(inst, (None,))[0] == quarter:
            known = facts[inst].year_end_breaches.get(indicator)
            if known is None or rank[severity] < rank[known]:
                facts[inst].year_end_breaches[indicator] = severity
    for inst, values in Filing.objects.filter(pk__in=[f for _q, f in last_filing.values()]).values_list(
        "institution_id", "current_version__values"
    ):
        raw = (values or {}).get("net_assets")
        facts[inst].net_assets = Decimal(str(raw)) if raw not in (None, "") else None
    for f in Filing.objects.filter(institution_id__in=institution_ids, year=year).only(
        "institution_id", "due_date", "first_submitted_at"
    ):
        facts[f.institution_id].late += f.is_late
    for inst, comments, reason, number in FilingVersion.objects.filter(
        filing__institution_id__in=institution_ids, filing__year=year, submitted_at__isnull=False
    ).values_list("filing__institution_id", "review_comments", "reason", "number"):
        facts[inst].returned += bool(comments)
        facts[inst].amended += bool(number > 1 and reason)
    year_start, year_end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    first_answer: dict[int, dt.datetime] = {}
    for measure_id, created_at in (
        MeasureMessage.objects.filter(
            measure__institution_id__in=institution_ids, kind__in=[MessageKind.PLAN, MessageKind.SUPPLEMENT]
        )
        .order_by("measure_id", "created_at")
        .values_list("measure_id", "created_at")
    ):
        first_answer.setdefault(measure_id, created_at)
    cutoff = min(timezone.localdate(), year_end)
    for m in Measure.objects.filter(
        institution_id__in=institution_ids, issued_at__date__gte=year_start, issued_at__date__lte=year_end
    ).select_related("measure_type"):
        facts[m.institution_id].measures.append(m.measure_type.code)
        answered = first_answer.get(m.pk)
        if (
            m.deadline
            and m.deadline < cutoff
            and (answered is None or timezone.localdate(answered) > m.deadline)
        ):
            facts[m.institution_id].overdue_measures += 1
    for inst in InspectionFinding.objects.filter(
        inspection__institution_id__in=institution_ids, inspection__start_date__year=year
    ).values_list("inspection__institution_id", flat=True):
        facts[inst].findings += 1
    return facts


def _totals(rating: Rating, scores: list[RatingScore], items: dict, bands) -> None:
    total = sum((s.score for s in scores if s.score is not None), Decimal(0))
    rating.score = calc.q2(total)
    rating.computed_grade = calc.grade_for(rating.score, [(b.grade, b.min_score) for b in bands])
    vetoes = [items[s.item_id] for s in scores if s.vetoed]
    rating.grade = calc.capped(rating.computed_grade, [v.cap for v in vetoes if v.cap])
    rating.capped_by = "、".join(v.name for v in vetoes)[:200]


@transaction.atomic
def ratings_draft(*, actor: Actor, year: int) -> int:
    """Draft (or redraft) the year's rating of every institution in the actor's jurisdiction with computed
    quarters that year; confirmed ratings are kept; scores adjusted by hand keep their adjustment."""
    if actor is not None and not has_role(actor, Role.REGULATOR):
        raise PermissionDenied(NOT_ALLOWED)
    scope = Institution.objects.for_user(actor, "change") if actor is not None else Institution.objects.all()
    ids = sorted(
        set(
            IndicatorRun.objects.filter(year=year, institution__in=scope).values_list(
                "institution_id", flat=True
            )
        )
    )
    kept = set(
        Rating.objects.filter(institution_id__in=ids, year=year)
        .exclude(status=RatingStatus.DRAFT)
        .values_list("institution_id", flat=True)
    )
    ids = [i for i in ids if i not in kept]
    facts = rating_facts(ids, year)
    regions = dict(Institution.objects.filter(pk__in=ids).values_list("pk", "region_id"))
    existing = {r.institution_id: r for r in Rating.objects.filter(institution_id__in=ids, year=year)}
    adjusted = defaultdict(dict)
    for s in RatingScore.objects.filter(rating__in=existing.values(), adjusted_by__isnull=False):
        adjusted[s.rating_id][s.item_id] = s
    RatingScore.objects.filter(rating__in=existing.values()).delete()
    sheets: dict[int, tuple] = {}
    for inst in ids:
        sheet = sheet_for(regions[inst], year)
        if sheet.pk not in sheets:
            sheets[sheet.pk] = (sheet, list(sheet.items.all()), list(sheet.bands.all()))
        sheet, items, bands = sheets[sheet.pk]
        rating = existing.get(inst) or Rating(institution_id=inst, year=year)
        rating.sheet, rating.drafted_by = (
            sheet,
            actor if actor is not None and actor.is_authenticated else None,
        )
        scores = []
        for item in items:
            result = calc.score_item(item.source, item.points, item.params, facts[inst])
            kept_score = adjusted.get(rating.pk, {}).get(item.pk) if rating.pk else None
            scores.append(
                RatingScore(
                    item=item,
                    computed=result.score,
                    score=kept_score.score if kept_score else result.score,
                    vetoed=result.vetoed,
                    basis=result.basis[:500],
                    adjusted_by=kept_score.adjusted_by if kept_score else None,
                    reason=kept_score.reason if kept_score else "",
                )
            )
        _totals(rating, scores, {i.pk: i for i in items}, bands)
        rating.save()
        for s in scores:
            s.rating = rating
        RatingScore.objects.bulk_create(scores)
        audit.record(
            actor=actor,
            action=audit.Action.UPDATE,
            instance=rating,
            note=Message("%(year)s年度评级初稿", year=year),
        )
    return len(ids)


def _check(actor: Actor, rating: Rating) -> None:
    if actor is not None and not (
        has_role(actor, Role.REGULATOR)
        and Rating.objects.for_user(actor, "change").filter(pk=rating.pk).exists()
    ):
        raise PermissionDenied(NOT_ALLOWED)


def _retotal(rating: Rating) -> None:
    scores = list(rating.scores.select_related("item"))
    bands = list(rating.sheet.bands.all())
    _totals(rating, scores, {s.item_id: s.item for s in scores}, bands)
    Rating.objects.filter(pk=rating.pk).update(
        score=rating.score,
        computed_grade=rating.computed_grade,
        grade=rating.grade,
        capped_by=rating.capped_by,
        updated_at=timezone.now(),
    )


@transaction.atomic
def rating_adjust(*, actor: Actor, score: RatingScore, value: Decimal, reason: str) -> Rating:
    """Change one item's score of a draft, with a reason (the computed score stays beside it)."""
    rating = Rating.objects.select_for_update().get(pk=score.rating_id)
    _check(actor, rating)
    if rating.status != RatingStatus.DRAFT:
        raise ValidationError(_("只有草稿可以调整"))
    if not reason.strip():
        raise ValidationError(_("调整评分须说明理由"))
    if score.item.is_veto:
        raise ValidationError(_("否决项不能调整分值"))
    if not (Decimal(0) <= value <= score.item.points):
        raise ValidationError(_("得分须在0至%(points)s之间") % {"points": score.item.points})
    before = audit.snapshot(score)
    RatingScore.objects.filter(pk=score.pk).update(score=value, adjusted_by=actor, reason=reason.strip())
    score.refresh_from_db()
    audit.record(actor=actor, action=audit.Action.UPDATE, instance=score, before=before, note=reason)
    _retotal(rating)
    rating.refresh_from_db()
    return rating


@transaction.atomic
def rating_confirm(*, actor: Actor, rating: Rating) -> Rating:
    """A second regulator confirms: not the one who drafted it, nor one who adjusted it. The company is
    told and may object until the sheet's objection period ends."""
    _check(actor, rating)
    adjusters = set(rating.scores.exclude(adjusted_by=None).values_list("adjusted_by", flat=True))
    if actor is not None and (actor.pk == rating.drafted_by_id or actor.pk in adjusters):
        raise PermissionDenied(_("评级须由起草、调整人以外的监管人员复核确认"))
    until = timezone.localdate() + dt.timedelta(days=rating.sheet.objection_days)
    before = audit.snapshot(rating)
    updated = Rating.objects.filter(pk=rating.pk, status=RatingStatus.DRAFT).update(
        status=RatingStatus.CONFIRMED,
        confirmed_by=actor,
        confirmed_at=timezone.now(),
        objection_until=until,
        updated_at=timezone.now(),
    )
    if not updated:
        raise ValidationError(_("评级已确认"))
    rating.refresh_from_db()
    audit.record(actor=actor, action=audit.Action.TRANSITION, instance=rating, before=before)
    from django.urls import reverse

    from accounts.models import User

    Notification.objects.send(
        User.objects.filter(institution_id=rating.institution_id, is_active=True),
        title=Message(
            "%(year)s年度分类评级结果：%(grade)s级，如有异议请于%(until)s前提出",
            year=rating.year,
            grade=rating.grade,
            until=str(until),
        ),
        url=reverse("supervision:rating_detail", args=[rating.pk]),
    )
    return rating


@transaction.atomic
def rating_object(*, actor: Actor, rating: Rating, text: str) -> RatingObjection:
    if actor is not None and not acts_for(actor, rating.institution_id):
        raise PermissionDenied(NOT_ALLOWED)
    if rating.status != RatingStatus.CONFIRMED or rating.objection_until is None:
        raise ValidationError(_("该评级当前不能提出异议"))
    if timezone.localdate() > rating.objection_until:
        raise ValidationError(_("异议期已于%(date)s截止") % {"date": rating.objection_until})
    if not text.strip():
        raise ValidationError(_("请填写异议内容"))
    objection = RatingObjection.objects.create(rating=rating, author=actor, text=text.strip())
    audit.record(actor=actor, action=audit.Action.CREATE, instance=objection)
    return objection


@transaction.atomic
def rating_resolve(*, actor: Actor, objection: RatingObjection, response: str) -> RatingObjection:
    _check(actor, objection.rating)
    if not response.strip():
        raise ValidationError(_("请填写处理意见"))
    updated = RatingObjection.objects.filter(pk=objection.pk, resolved_at__isnull=True).update(
        response=response.strip(), resolved_by=actor, resolved_at=timezone.now(), updated_at=timezone.now()
    )
    if not updated:
        raise ValidationError(_("异议已处理"))
    objection.refresh_from_db()
    audit.record(actor=actor, action=audit.Action.TRANSITION, instance=objection)
    return objection


@transaction.atomic
def ratings_publish(*, actor: Actor, year: int) -> Notice:
    """Publish the final list of the actor's jurisdiction: confirmed ratings whose objection period has
    ended and whose objections are all answered, as a public notice."""
    if actor is None or not actor.region_id or not has_role(actor, Role.REGULATOR):
        raise PermissionDenied(NOT_ALLOWED)
    from institutions.services import notice_publish

    today = timezone.localdate()
    ready = (
        Rating.objects.for_user(actor, "change")
        .filter(year=year, status=RatingStatus.CONFIRMED, objection_until__lt=today)
        .exclude(Q(objections__resolved_at__isnull=True) & Q(objections__isnull=False))
        .select_related("institution")
        .order_by("grade", "institution__name")
        .distinct()
    )
    ratings = list(ready)
    if not ratings:
        raise ValidationError(_("没有可公布的评级（须已确认、异议期届满且异议已处理）"))
    region = actor.region
    notice = Notice.objects.create(
        region=region,
        kind=NoticeKind.RATINGS,
        title=f"{region.name}融资担保公司{year}年度分类评级结果",
        issuing_body=f"{region.name}地方金融管理局",
        published_on=today,
        body=f"根据{year}年度监管评价，现将融资担保公司分类评级结果公布如下。",
        created_by=actor,
    )
    NoticeItem.objects.bulk_create(
        [
            NoticeItem(
                notice=notice,
                seq=n,
                institution=r.institution,
                institution_name=r.institution.name,
                remark=r.grade,
            )
            for n, r in enumerate(ratings, 1)
        ]
    )
    audit.record(actor=actor, action=audit.Action.CREATE, instance=notice)
    notice = notice_publish(actor=actor, notice=notice)
    Rating.objects.filter(pk__in=[r.pk for r in ratings]).update(
        status=RatingStatus.PUBLISHED, published_at=timezone.now(), updated_at=timezone.now()
    )
    return notice
