from rest_framework import serializers

from core.parsing import plausible_date

from ..models import (
    Agreement,
    Bank,
    GovListBatch,
    GovListEntry,
    Institution,
    Licence,
    LicenceDuty,
    Notice,
    NoticeItem,
    StatusChange,
)


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatusChange
        fields = ["status", "effective_on"]


class InstitutionSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="credit_code", read_only=True, allow_null=True)
    parent_credit_code = serializers.CharField(write_only=True, required=False, allow_blank=True)
    # the status history, oldest first (the obligation to file follows it quarter by quarter)
    status_changes = StatusChangeSerializer(many=True, read_only=True)

    class Meta:
        model = Institution
        fields = [
            "credit_code",
            "name",
            "kind",
            "parent",
            "parent_credit_code",
            "cross_province_branch",
            "region",
            "level",
            "ownership",
            "registered_capital",
            "paid_in_capital",
            "established_on",
            "legal_representative",
            "address",
            "status",
            "status_changed_on",
            "status_changes",
            "is_reguarantee",
            "credit_reference_access",
            "staff_count",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]
        extra_kwargs = {
            "credit_code": {"validators": []},  # upsert by credit code
            "status_changed_on": {"validators": [plausible_date]},
        }


class LicenceDutySerializer(serializers.ModelSerializer):
    class Meta:
        model = LicenceDuty
        fields = ["id", "kind", "due_on", "done_on", "note"]


class LicenceSerializer(serializers.ModelSerializer):
    institution = serializers.SlugRelatedField(slug_field="credit_code", queryset=Institution.objects.all())
    institution_name = serializers.CharField(source="institution.name", read_only=True)

    class Meta:
        model = Licence
        fields = [
            "id",
            "number",
            "institution",
            "institution_name",
            "issuing_authority",
            "issued_on",
            "business_scope",
            "status",
            "cancelled_on",
            "cancel_reason",
            "revoked_on",
            "revocation_decision_no",
            "revocation_reason",
        ]
        read_only_fields = [
            "status",
            "cancelled_on",
            "cancel_reason",
            "revoked_on",
            "revocation_decision_no",
            "revocation_reason",
        ]
        extra_kwargs = {
            "issuing_authority": {"required": False},
            "issued_on": {"required": True, "validators": [plausible_date]},
        }


class LicenceChangeSerializer(serializers.Serializer):
    issued_on = serializers.DateField(required=False, validators=[plausible_date])
    issuing_authority = serializers.CharField(required=False)
    business_scope = serializers.CharField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CancelSerializer(serializers.Serializer):
    licences = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    reason = serializers.CharField()
    on = serializers.DateField(required=False, allow_null=True, default=None, validators=[plausible_date])
    period_label = serializers.CharField(required=False, allow_blank=True, default="")


class RevokeSerializer(serializers.Serializer):
    licences = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    decision_no = serializers.CharField(required=False, allow_blank=True, default="")
    on = serializers.DateField(validators=[plausible_date])
    reason = serializers.CharField()


class NoticeItemSerializer(serializers.ModelSerializer):
    institution = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)

    class Meta:
        model = NoticeItem
        fields = ["seq", "institution", "institution_name", "licence_number", "remark"]


class NoticeSerializer(serializers.ModelSerializer):
    items = NoticeItemSerializer(many=True, read_only=True)

    class Meta:
        model = Notice
        fields = [
            "id",
            "kind",
            "title",
            "document_no",
            "issuing_body",
            "published_on",
            "period_label",
            "body",
            "status",
            "region",
            "items",
        ]
        read_only_fields = ["kind", "status", "region"]


class BankSerializer(serializers.ModelSerializer):
    class Meta:
        model = Bank
        fields = ["id", "name", "kind", "parent", "region"]


class AgreementSerializer(serializers.ModelSerializer):
    institution = serializers.SlugRelatedField(slug_field="credit_code", queryset=Institution.objects.all())
    findings = serializers.SerializerMethodField()

    class Meta:
        model = Agreement
        fields = [
            "id",
            "institution",
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
            "findings",
        ]
        extra_kwargs = {
            "starts_on": {"validators": [plausible_date]},
            "ends_on": {"validators": [plausible_date]},
        }

    def get_findings(self, obj) -> list[dict]:
        from ..rules import agreement_findings
        from ..selectors import rules_for

        rules = self.context.get("rules")
        return [
            {"code": f.code, "severity": f.severity, "message": f.message, "source": f.source}
            for f in agreement_findings(obj, rules_for(obj.institution.region_id, rules=rules))
        ]

    def validate(self, attrs):
        return attrs


class GovListEntrySerializer(serializers.ModelSerializer):
    institution = serializers.SlugRelatedField(slug_field="credit_code", queryset=Institution.objects.all())

    class Meta:
        model = GovListEntry
        fields = [
            "institution",
            "action",
            "reason",
            "capital_replenishment",
            "risk_compensation",
            "national_fund_equity",
            "national_fund_reguarantee",
        ]
        extra_kwargs = {"action": {"default": GovListEntry._meta.get_field("action").default}}


class GovListBatchSerializer(serializers.ModelSerializer):
    entries = GovListEntrySerializer(many=True, read_only=True)

    class Meta:
        model = GovListBatch
        fields = [
            "id",
            "region",
            "title",
            "published_on",
            "status",
            "note",
            "proposed_by",
            "confirmed_by",
            "confirmed_at",
            "entries",
        ]
        read_only_fields = ["status", "proposed_by", "confirmed_by", "confirmed_at"]
