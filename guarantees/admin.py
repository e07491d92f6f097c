"""Admin: the product lines and magnitude rules are policy data (edited here, audited); the records
themselves are read only here, since only a batch commit writes them."""

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import AuditedAdmin

from .models import Client, Guarantee, GuaranteeEvent, ImportBatch, MagnitudeRule, ProductLine


@admin.register(ProductLine)
class ProductLineAdmin(AuditedAdmin):
    list_display = ("code", "name_zh", "name_en", "ordering", "source")


@admin.register(MagnitudeRule)
class MagnitudeRuleAdmin(AuditedAdmin):
    list_display = ("column", "region_code", "limit", "effective_from", "effective_to", "source")
    list_filter = ("column",)


class ReadOnlyAdmin(admin.ModelAdmin):
    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self.model.objects.for_user(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Client)
class ClientAdmin(ReadOnlyAdmin):
    list_display = ("display_name", "client_type", "masked_identifier", "institution", "region")
    list_filter = ("client_type", "id_kind")
    # A person's full name and the hash stay out of the admin; search by credit code only.
    fields = (
        "institution",
        "display_name",
        "client_type",
        "masked_identifier",
        "industry",
        "region",
        "group_name",
    )
    readonly_fields = fields
    search_fields = ("=id_key",)

    @admin.display(description=_("客户名称"))
    def display_name(self, obj: Client) -> str:
        return obj.display_name

    @admin.display(description=_("证件"))
    def masked_identifier(self, obj: Client) -> str:
        return obj.masked_identifier


@admin.register(Guarantee)
class GuaranteeAdmin(ReadOnlyAdmin):
    list_display = (
        "contract_no",
        "institution",
        "guaranteed_amount",
        "start_date",
        "end_date",
        "product_line",
    )
    list_filter = ("product_line", "gov_backed", "batch_zdz")
    search_fields = ("=contract_no",)
    list_select_related = ("institution", "product_line")
    exclude = ("client",)


@admin.register(GuaranteeEvent)
class GuaranteeEventAdmin(ReadOnlyAdmin):
    list_display = ("guarantee", "kind", "occurred_on", "amount", "interest")
    list_filter = ("kind",)
    list_select_related = ("guarantee",)


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "institution",
        "channel",
        "status",
        "guarantee_rows",
        "event_rows",
        "error_count",
        "warning_count",
        "created_at",
        "committed_at",
    )
    list_filter = ("status", "channel")
