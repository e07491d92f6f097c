from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from core.policy import Governing, governing

from .choices import ListAction, ListBatchStatus, NoticeStatus
from .models import GovListEntry, Institution, Licence, Notice, NoticeItem, PolicyRule

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from django.db.models import QuerySet

    from core.roles import Actor


def government_backed_ids(*, on: dt.date, institution_ids: Iterable[int] = None) -> set[int]:
    """Institutions on the government-backed list on `on`: the latest confirmed batch published on or
    before that date that mentions the institution included it (a later removal takes it off)."""
    return government_backed_on(dates=[on], institution_ids=institution_ids)[on]


def government_backed_on(
    *, dates: Iterable[dt.date], institution_ids: Iterable[int] = None
) -> dict[dt.date, set[int]]:
    """`government_backed_ids` for several dates with one query: {date: institution ids}."""
    dates = sorted(set(dates))
    result = {d: set() for d in dates}
    if not dates:
        return result
    entries = GovListEntry.objects.filter(
        batch__status=ListBatchStatus.CONFIRMED, batch__published_on__lte=dates[-1]
    ).order_by("institution_id", "batch__published_on", "batch_id")
    if institution_ids is not None:
        entries = entries.filter(institution_id__in=institution_ids)
    history: dict[int, list] = {}
    for institution_id, published_on, action in entries.values_list(
        "institution_id", "batch__published_on", "action"
    ):
        history.setdefault(institution_id, []).append((published_on, action))
    for institution_id, rows in history.items():
        for d in dates:
            latest = None
            for published_on, action in rows:  # in publication order
                if published_on > d:
                    break
                latest = action
            if latest == ListAction.INCLUDE:
                result[d].add(institution_id)
    return result


def current_government_list(*, on: dt.date) -> list[GovListEntry]:
    """The entries (with the four flags) that put each listed institution on the list on `on`."""
    entries = (
        GovListEntry.objects.for_user(AnonymousUser())
        .filter(batch__published_on__lte=on)
        .select_related("institution__region", "batch")
        .order_by("institution_id", "batch__published_on", "batch_id")
    )
    latest = {}
    for entry in entries:
        latest[entry.institution_id] = entry
    rows = [e for e in latest.values() if e.action == ListAction.INCLUDE]
    return sorted(rows, key=lambda e: (e.institution.region_id, e.institution.name))


def policy_rules() -> list[PolicyRule]:
    """Every rule row, loaded once for a batch over many regions (pass to `rules_for`)."""
    return list(PolicyRule.objects.all())


def rules_for(
    region_code: str, on: dt.date | None = None, rules: list[PolicyRule] | None = None
) -> Governing:
    """{rule code: the rule that governs} for a region on a day (today unless given), from the database
    or from rows loaded by `policy_rules`."""
    on = on or dt.date.today()
    if rules is None:
        return PolicyRule.objects.governing(on, region_code)
    return governing(PolicyRule, rules, on, region_code)


def latest_licence(field: str) -> Subquery:
    return Subquery(Licence.objects.filter(institution=OuterRef("pk")).order_by("-id").values(field)[:1])


SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "region": ("region_id", "name"),
    "-region": ("-region_id", "-name"),
    "paid_in": ("paid_in_capital", "id"),
    "-paid_in": ("-paid_in_capital", "-id"),
    "established": ("established_on", "id"),
    "-established": ("-established_on", "-id"),
    "licence": ("licence_number", "id"),
    "-licence": ("-licence_number", "-id"),
}


def institution_list(
    user: Actor, params: Mapping[str, str], *, today: dt.date | None = None
) -> QuerySet[Institution]:
    """The regulator's filtered, sorted list (a queryset; callers paginate). `params` is a dict of
    GET values: region, level, ownership, kind, status, licence, gov, q, sort."""
    qs = (
        Institution.objects.for_user(user)
        .select_related("region")
        .annotate(licence_number=latest_licence("number"), licence_status=latest_licence("status"))
    )
    region = (params.get("region") or "").strip()
    if region.isdigit() and len(region) == 6:
        from core.scoping import region_subtree_q

        qs = qs.filter(region_subtree_q("region_id", region))
    for field in ("level", "ownership", "kind", "status"):
        if params.get(field):
            qs = qs.filter(**{field: params[field]})
    licence = params.get("licence")
    if licence == "none":
        qs = qs.filter(licence_status__isnull=True)
    elif licence:
        qs = qs.filter(licence_status=licence)
    gov = params.get("gov")
    if gov in ("1", "0"):
        ids = government_backed_ids(on=today or dt.date.today())
        qs = qs.filter(pk__in=ids) if gov == "1" else qs.exclude(pk__in=ids)
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(credit_code__iexact=q.upper())
            | Exists(Licence.objects.filter(institution=OuterRef("pk"), number__icontains=q))
        )
    return qs.order_by(*SORTS.get(params.get("sort") or "", ("region_id", "name", "id")))


def public_register() -> QuerySet[Licence]:
    """Licences with their holders, as the public may read them."""
    return (
        Licence.objects.for_user(AnonymousUser())
        .select_related("institution__region")
        .order_by("institution__region_id", "number")
    )


def public_notices() -> QuerySet[Notice]:
    # a notice dated in the future (a list batch confirmed ahead of its date) is public from that date
    return (
        Notice.objects.for_user(AnonymousUser())
        .filter(status=NoticeStatus.PUBLISHED)
        .exclude(published_on__gt=timezone.localdate())
    )


def notice_items(notice: Notice) -> QuerySet[NoticeItem]:
    return NoticeItem.objects.filter(notice=notice).select_related("licence").order_by("seq")


def controlling_parties(institution_ids: Iterable[int]) -> dict[int, list[dict]]:
    """Controlling shareholders and actual controllers per institution (name and identifier), for later
    checks that a guarantee client is not one of them (条例 art. 17)."""
    from .models import Shareholder

    out: dict[int, list[dict]] = {}
    rows = (
        Shareholder.objects.filter(institution_id__in=institution_ids)
        .filter(Q(is_controlling=True) | Q(is_actual_controller=True))
        .order_by("institution_id", "name")
    )
    for s in rows:
        out.setdefault(s.institution_id, []).append(
            {
                "name": s.name,
                "identifier": s.masked_identifier,
                "controlling": s.is_controlling,
                "actual_controller": s.is_actual_controller,
            }
        )
    return out
