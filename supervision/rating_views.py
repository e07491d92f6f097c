"""Classification rating pages: the year's list (draft, publish), one rating with every item's score and
where it came from (adjust with a reason, confirm as a second regulator, the company's objection)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import history
from core.roles import acts_for, is_company_user

from .models import GradeBand, Rating, RatingStatus
from .permissions import measure_users
from .services import ratings as svc


def _errors(exc: Exception) -> str:
    return "；".join(getattr(exc, "messages", None) or [str(exc)])


def _year(request) -> int:
    text = request.GET.get("year") or request.POST.get("year") or ""
    return int(text) if text.isdigit() else timezone.localdate().year - 1


@measure_users
def rating_list(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    company = is_company_user(request.user)
    if request.method == "POST" and not company:
        try:
            if request.POST.get("action") == "draft":
                n = svc.ratings_draft(actor=request.user, year=year)
                messages.success(request, _("已生成 %(n)s 家机构的评级初稿。") % {"n": n})
            elif request.POST.get("action") == "publish":
                notice = svc.ratings_publish(actor=request.user, year=year)
                messages.success(request, _("评级结果已公布：%(t)s") % {"t": notice.title})
            else:
                raise ValidationError(_("未知操作"))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _errors(exc))
        return redirect(f"{request.path}?year={year}")
    qs = (
        Rating.objects.for_user(request.user)
        .filter(year=year)
        .select_related("institution", "confirmed_by")
        .order_by("grade", "-score", "institution__name", "pk")
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    counts = {g: 0 for g in "ABCD"}
    for grade in qs.values_list("grade", flat=True):
        counts[grade] += 1
    return render(
        request,
        "supervision/ratings.html",
        {
            "page": page,
            "year": year,
            "years": range(timezone.localdate().year, timezone.localdate().year - 5, -1),
            "counts": counts,
            "company": company,
            "query": f"year={year}",
        },
    )


@measure_users
def rating_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rating = get_object_or_404(
        Rating.objects.for_user(request.user).select_related(
            "institution", "sheet", "confirmed_by", "drafted_by"
        ),
        pk=pk,
    )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "adjust":
                score = rating.scores.select_related("item").get(pk=int(request.POST.get("score", "0") or 0))
                try:
                    value = Decimal(request.POST.get("value", ""))
                except InvalidOperation as exc:
                    raise ValidationError(_("请填写得分")) from exc
                svc.rating_adjust(
                    actor=request.user, score=score, value=value, reason=request.POST.get("reason", "")
                )
                messages.success(request, _("评分已调整。"))
            elif action == "confirm":
                svc.rating_confirm(actor=request.user, rating=rating)
                messages.success(request, _("评级已复核确认，已通知企业。"))
            elif action == "object":
                svc.rating_object(actor=request.user, rating=rating, text=request.POST.get("text", ""))
                messages.success(request, _("异议已提交。"))
            elif action == "resolve":
                objection = rating.objections.get(pk=int(request.POST.get("objection", "0") or 0))
                svc.rating_resolve(
                    actor=request.user, objection=objection, response=request.POST.get("response", "")
                )
                messages.success(request, _("异议已处理。"))
            else:
                raise ValidationError(_("未知操作"))
        except (ValidationError, PermissionDenied, ValueError) as exc:
            messages.error(request, _errors(exc))
        except rating.scores.model.DoesNotExist:
            messages.error(request, _("评分项不存在"))
        return redirect("supervision:rating_detail", pk=rating.pk)
    company = is_company_user(request.user)
    band = GradeBand.objects.filter(sheet=rating.sheet, grade=rating.grade).first()
    return render(
        request,
        "supervision/rating_detail.html",
        {
            "rating": rating,
            "scores": rating.scores.select_related("item", "adjusted_by"),
            "objections": rating.objections.select_related("author", "resolved_by"),
            "band": band,
            "company": company,
            "may_object": acts_for(request.user, rating.institution_id)
            and rating.status == RatingStatus.CONFIRMED
            and rating.objection_until
            and timezone.localdate() <= rating.objection_until,
            "events": [] if company else history(rating),
        },
    )
