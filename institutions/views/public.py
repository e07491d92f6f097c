"""The public register, government-backed list and notices (no login), as pages, CSV and JSON."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy

from core.excel import Table, export_response
from core.permissions import public

from .. import selectors
from ..choices import (
    LicenceStatus,
)
from ..models import GovListBatch, GovListEntry
from .common import PAGE_SIZE

# --- public pages (no login) -------------------------------------------------------------------------


def _download(
    request: HttpRequest, rows: list[dict], columns: list[tuple[str, str]], name: str
) -> HttpResponse | None:
    fmt = request.GET.get("format")
    if fmt == "json":
        response = JsonResponse(
            {"count": len(rows), "results": rows},
            encoder=DjangoJSONEncoder,
            json_dumps_params={"ensure_ascii": False, "indent": 1},
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
    if fmt == "csv":
        return export_response(
            f"{name}.csv",
            Table(
                name,
                [str(label) for _key, label in columns],
                ([row[key] for key, _l in columns] for row in rows),
            ),
        )
    return None


REGISTER_COLUMNS = [
    ("institution", gettext_lazy("机构名称")),
    ("credit_code", gettext_lazy("统一社会信用代码")),
    ("licence_number", gettext_lazy("许可证编号")),
    ("region_code", gettext_lazy("注册地代码")),
    ("region", gettext_lazy("注册地")),
    ("licence_status", gettext_lazy("许可证状态")),
    ("institution_status", gettext_lazy("经营状态")),
    ("issued_on", gettext_lazy("发证日期")),
    ("cancelled_on", gettext_lazy("注销日期")),
    ("revoked_on", gettext_lazy("吊销日期")),
]


def _register_row(lic):
    inst = lic.institution
    return {
        "institution": inst.name,
        "credit_code": inst.credit_code,
        "licence_number": lic.number,
        "region_code": inst.region_id,
        "region": inst.region.name,
        "licence_status": lic.get_status_display(),
        "licence_status_code": lic.status,
        "institution_status": inst.get_status_display(),
        "issued_on": lic.issued_on,
        "cancelled_on": lic.cancelled_on,
        "revoked_on": lic.revoked_on,
    }


@public
def public_register(request):
    qs = selectors.public_register()
    q = (request.GET.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(institution__name__icontains=q) | Q(number__icontains=q))
    status = request.GET.get("status")
    if status in LicenceStatus.values:
        qs = qs.filter(status=status)
    download = _download(
        request,
        [_register_row(lic) for lic in qs] if request.GET.get("format") else [],
        REGISTER_COLUMNS,
        "licence-register",
    )
    if download:
        return download
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "institutions/public/register.html",
        {
            "page": page,
            "q": q,
            "status": status,
            "statuses": LicenceStatus.choices,
            "query": urlencode({k: v for k, v in {"q": q, "status": status}.items() if v}),
        },
    )


GOVLIST_COLUMNS = [
    ("institution", gettext_lazy("机构名称")),
    ("credit_code", gettext_lazy("统一社会信用代码")),
    ("region", gettext_lazy("注册地")),
    ("batch", gettext_lazy("纳入批次")),
    ("published_on", gettext_lazy("发布日期")),
    ("capital_replenishment", gettext_lazy("建立资本金持续补充机制")),
    ("risk_compensation", gettext_lazy("建立风险补偿机制")),
    ("national_fund_equity", gettext_lazy("国家融资担保基金股权投资")),
    ("national_fund_reguarantee", gettext_lazy("与国家融资担保基金开展再担保合作")),
]


@public
def public_govlist(request):
    current = selectors.current_government_list(on=timezone.localdate())
    rows = [
        {
            "institution": e.institution.name,
            "credit_code": e.institution.credit_code,
            "region": e.institution.region.name,
            "batch": e.batch.title,
            "published_on": e.batch.published_on,
            "capital_replenishment": e.capital_replenishment,
            "risk_compensation": e.risk_compensation,
            "national_fund_equity": e.national_fund_equity,
            "national_fund_reguarantee": e.national_fund_reguarantee,
        }
        for e in current
    ]
    download = _download(request, rows, GOVLIST_COLUMNS, "government-backed-list")
    if download:
        return download
    # a confirmed batch shows from its publication date on, not before it takes effect
    batches = (
        GovListBatch.objects.for_user(AnonymousUser())
        .filter(published_on__lte=timezone.localdate())
        .prefetch_related(
            Prefetch(
                "entries",
                queryset=GovListEntry.objects.select_related("institution").order_by(
                    "action", "institution__name"
                ),
            )
        )
    )
    return render(request, "institutions/public/govlist.html", {"current": current, "batches": batches})


NOTICE_COLUMNS = [
    ("id", gettext_lazy("编号")),
    ("title", gettext_lazy("标题")),
    ("kind", gettext_lazy("类型")),
    ("issuing_body", gettext_lazy("发布机关")),
    ("published_on", gettext_lazy("公告日期")),
    ("period_label", gettext_lazy("公告期间")),
    ("document_no", gettext_lazy("文号")),
    ("items", gettext_lazy("条目数")),
    ("url", gettext_lazy("网址")),
]


@public
def public_notices(request):
    notices = selectors.public_notices().annotate(n_items=Count("items")).order_by("-published_on", "-id")
    if request.GET.get("format"):
        rows = [
            {
                "id": n.pk,
                "title": n.title,
                "kind": n.get_kind_display(),
                "issuing_body": n.issuing_body,
                "published_on": n.published_on,
                "period_label": n.period_label,
                "document_no": n.document_no,
                "items": n.n_items,
                "url": request.build_absolute_uri(reverse("institutions:public_notice", args=[n.pk])),
            }
            for n in notices
        ]
        download = _download(request, rows, NOTICE_COLUMNS, "notices")
        if download:
            return download
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "institutions/public/notices.html", {"page": page})


ITEM_COLUMNS = [
    ("seq", gettext_lazy("序号")),
    ("institution", gettext_lazy("机构名称")),
    ("licence_number", gettext_lazy("许可证编号")),
    ("remark", gettext_lazy("备注")),
]


@public
def public_notice(request, pk):
    notice = get_object_or_404(selectors.public_notices(), pk=pk)
    items = list(selectors.notice_items(notice))
    rows = [
        {
            "seq": i.seq,
            "institution": i.institution_name,
            "licence_number": i.licence_number,
            "remark": i.remark,
        }
        for i in items
    ]
    download = _download(request, rows, ITEM_COLUMNS, f"notice-{notice.pk}")
    if download:
        return download
    return render(request, "institutions/public/notice.html", {"notice": notice, "items": items})
