from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from core import audit
from core.admin import AuditedAdmin
from core.stored_text import Message

from .models import ApiKey, Region, User
from .services import enrolment_code_issue


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    """Every change is audited with its field diff (a filer moved to another institution included)."""

    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("角色与辖区", {"fields": ("role", "region", "institution", "phone")}),
    )
    list_display = ("username", "get_full_name", "role", "region", "institution", "is_active")
    list_filter = ("role", "is_active")
    raw_id_fields = ("region", "institution")
    actions = ["issue_enrolment_code"]

    @admin.action(description=_("签发双因素绑定授权码（移除已绑定设备）"))
    def issue_enrolment_code(self, request, queryset):
        for user in queryset:
            code = enrolment_code_issue(actor=request.user, user=user)
            messages.warning(
                request,
                _("%(user)s 的一次性绑定授权码：%(code)s（请线下告知本人；仅显示这一次）")
                % {"user": user.username, "code": code},
            )

    def log_change(self, request, obj, message):
        # The password form of the user admin saves without save_model: audit it here (never the hash).
        entry = super().log_change(request, obj, message)
        if "password" in str(message):
            audit.record_event(
                actor=request.user,
                action=audit.Action.SECURITY,
                what=str(obj),
                instance=obj,
                note=Message("管理后台：修改密码"),
            )
        return entry


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    search_fields = ("code", "name")
    list_filter = ("level",)


@admin.register(ApiKey)
class ApiKeyAdmin(AuditedAdmin):
    list_display = ("name", "prefix", "institution", "scopes", "created_by", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "user", "created_by", "last_used_at")
    raw_id_fields = ("institution",)

    def has_add_permission(self, request):
        return False  # created on the keys page, where the key is shown once
