from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# (role set, label, url name, icon). Later apps add their entries here; a missing url name is skipped,
# so the menu only ever shows pages that exist.
NAV = [
    ({"regulator", "finance", "filer", "approver", "admin"}, _("工作台"), "home", "speedometer2"),
    ({"regulator", "admin"}, _("机构名录"), "institutions:list", "building"),
    ({"filer", "approver"}, _("本机构"), "institutions:own", "building"),
    (
        {"regulator", "filer", "approver", "admin"},
        _("季度报表"),
        "reporting:filings",
        "file-earmark-spreadsheet",
    ),
    ({"regulator", "admin"}, _("报送进度"), "reporting:completeness", "clipboard-check"),
    ({"regulator", "admin"}, _("审核队列"), "reporting:review_queue", "list-check"),
    ({"regulator", "filer", "approver", "admin"}, _("监管指标"), "supervision:dashboard", "graph-up"),
    ({"regulator", "admin"}, _("风险预警"), "supervision:warnings", "exclamation-triangle"),
    ({"regulator", "admin"}, _("政策阈值"), "supervision:thresholds", "sliders"),
    ({"regulator", "admin"}, _("校验规则"), "reporting:rules", "check2-square"),
    ({"regulator", "filer", "approver", "admin"}, _("消息"), "reporting:notifications", "bell"),
    ({"finance", "regulator", "admin"}, _("政府性机构名单"), "institutions:govlist", "patch-check"),
    ({"regulator", "filer", "approver", "admin"}, _("银担合作"), "institutions:agreements", "bank"),
    ({"regulator", "admin"}, _("公告"), "institutions:notices", "megaphone"),
    ({"admin"}, _("审计日志"), "audit:list", "journal-text"),
]


def navigation(request):
    user = getattr(request, "user", None)
    role = getattr(user, "role", "") if user is not None and user.is_authenticated else ""
    if user is not None and user.is_authenticated and user.is_superuser:
        role = "admin"
    items = []
    for roles, label, name, icon in NAV:
        if role in roles:
            try:
                url = reverse(name)
            except NoReverseMatch:
                continue
            items.append(
                {
                    "label": label,
                    "url": url,
                    "icon": icon,
                    "active": request.path == url or (url != "/" and request.path.startswith(url)),
                }
            )
    return {"nav_items": items, "portal_name": settings.PORTAL_NAME, "otp_required": settings.OTP_REQUIRED}
