from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.serializer_fields import StoredTextField
from core.stored_text import show

from ..choices import BudgetMode, SchemeKind
from ..models import Application, ApplicationLine, ApplicationStep, PublicityEntry, Scheme, SchemeRevision


class SchemeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Scheme
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "region_code",
            "effective_from",
            "effective_to",
            "source",
            "params",
            "budget",
            "budget_mode",
            "publicity_days",
            "open",
        ]


class SchemeWriteSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=40, required=False)
    name = serializers.CharField(max_length=200, required=False)
    kind = serializers.ChoiceField(choices=SchemeKind.choices, required=False)
    region_code = serializers.RegexField(r"^[0-9]{6}$", required=False)
    effective_from = serializers.DateField(required=False)
    effective_to = serializers.DateField(required=False, allow_null=True)
    source = serializers.CharField(max_length=300, required=False)
    params = serializers.JSONField(required=False)
    budget = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True)
    budget_mode = serializers.ChoiceField(choices=BudgetMode.choices, required=False)
    publicity_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    open = serializers.BooleanField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, help_text="修改原因（编辑时必填）")


class RevisionSerializer(serializers.ModelSerializer):
    changed_by = serializers.StringRelatedField()

    class Meta:
        model = SchemeRevision
        fields = ["changed_at", "changed_by", "reason", "changes"]


class LineSerializer(serializers.ModelSerializer):
    reason = StoredTextField(fragments=True)

    class Meta:
        model = ApplicationLine
        fields = [
            "label",
            "guarantee",
            "eligible",
            "claimed",
            "reason",
            "line_key",
            "days",
            "base",
            "rate",
            "amount",
        ]


class StepSerializer(serializers.ModelSerializer):
    actor = serializers.StringRelatedField()
    note = StoredTextField()

    class Meta:
        model = ApplicationStep
        fields = ["from_status", "to_status", "actor", "at", "amount", "note"]


class ApplicationSerializer(serializers.ModelSerializer):
    scheme = serializers.SlugRelatedField(slug_field="code", read_only=True)
    institution = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    uncomputable_reason = StoredTextField()

    class Meta:
        model = Application
        fields = [
            "id",
            "scheme",
            "institution",
            "institution_name",
            "year",
            "status",
            "revision",
            "computed_amount",
            "marginal_amount",
            "whole_amount",
            "uncomputable_reason",
            "proposed_amount",
            "approved_amount",
            "amount_reason",
            "pro_rata_factor",
            "final_amount",
            "rejection_reason",
            "return_note",
            "publicity_from",
            "publicity_to",
            "paid_on",
            "payment_reference",
            "computation",
            "data_stamp",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        computation = data.get("computation")
        if isinstance(computation, dict) and "error" in computation:
            # the reason the computation stopped, in the reader's language (stored as a message)
            data["computation"] = {**computation, "error": show(instance.uncomputable_reason)}
        return data


class ApplicationDetailSerializer(ApplicationSerializer):
    steps = StepSerializer(many=True, read_only=True)
    newer_data = serializers.SerializerMethodField()

    class Meta(ApplicationSerializer.Meta):
        fields = [*ApplicationSerializer.Meta.fields, "steps", "newer_data"]

    def get_newer_data(self, obj) -> bool:
        from ..selectors import newer_data

        return newer_data(obj)


class ApplicationCreateSerializer(serializers.Serializer):
    scheme = serializers.SlugField(help_text="scheme code")
    institution = serializers.CharField(max_length=18, help_text=_("统一社会信用代码"))
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class DecideSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class PublishSerializer(serializers.Serializer):
    on = serializers.DateField(required=False, allow_null=True)


class PaySerializer(serializers.Serializer):
    paid_on = serializers.DateField()
    reference = serializers.CharField(max_length=100)


class PublicitySerializer(serializers.ModelSerializer):
    scheme = serializers.SlugRelatedField(slug_field="code", read_only=True)
    scheme_name = serializers.CharField(source="scheme.name")
    institution = serializers.CharField(source="institution.name")
    credit_code = serializers.CharField(source="institution.credit_code")
    amount = serializers.DecimalField(source="final_amount", max_digits=16, decimal_places=2)

    class Meta:
        model = PublicityEntry
        fields = [
            "id",
            "scheme",
            "scheme_name",
            "institution",
            "credit_code",
            "year",
            "amount",
            "status",
            "publicity_from",
            "publicity_to",
            "paid_on",
        ]
