from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.openapi import ErrorSerializer

from ..models import Filing
from ..periods import Period


class PeriodField(serializers.CharField):
    """A reporting period written as 2025Q2, validated to a Period."""

    default_error_messages = {
        "invalid": _("报告期格式应为 YYYYQn，如 2025Q2"),
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(help_text="e.g. 2025Q2", **kwargs)

    def to_internal_value(self, data: object) -> Period:
        try:
            return Period.parse(super().to_internal_value(data))
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value: Period) -> str:
        return str(value)


class FilingQuerySerializer(serializers.Serializer):
    period = PeriodField(required=False)


class FilingWriteSerializer(serializers.Serializer):
    institution = serializers.CharField(max_length=18, help_text=_("统一社会信用代码"))
    period = PeriodField()
    values = serializers.DictField(
        child=serializers.JSONField(), required=False, default=dict, help_text="{field code: decimal string}"
    )
    nil_return = serializers.BooleanField(required=False, default=False)


class CheckSerializer(FilingWriteSerializer):
    """A dry run: the values a submission would carry, and the explanations it would give."""

    explanations = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000),
        required=False,
        default=dict,
        help_text="{rule id: explanation}",
    )


class SubmitSerializer(serializers.Serializer):
    explanations = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000),
        required=False,
        default=dict,
        help_text="{rule id: explanation}",
    )


class FilingSerializer(serializers.ModelSerializer):
    institution = serializers.CharField(source="institution.credit_code")
    institution_name = serializers.CharField(source="institution.name")
    period = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField()
    values = serializers.SerializerMethodField()
    nil_return = serializers.SerializerMethodField()
    submitted_at = serializers.SerializerMethodField()
    ruleset_version = serializers.SerializerMethodField()
    values_hash = serializers.SerializerMethodField()
    template_version = serializers.IntegerField(source="template.version")

    class Meta:
        model = Filing
        fields = [
            "id",
            "institution",
            "institution_name",
            "period",
            "status",
            "template_version",
            "version",
            "nil_return",
            "values",
            "submitted_at",
            "ruleset_version",
            "values_hash",
            "due_date",
        ]

    def get_period(self, obj) -> str:
        return str(obj.period)

    def _v(self, obj):
        return obj.current_version

    def get_version(self, obj) -> int | None:
        return self._v(obj).number if self._v(obj) else None

    def get_values(self, obj) -> dict[str, str]:
        return self._v(obj).values if self._v(obj) else {}

    def get_nil_return(self, obj) -> bool:
        return bool(self._v(obj) and self._v(obj).nil_return)

    def get_submitted_at(self, obj) -> str | None:
        v = self._v(obj)
        return v.submitted_at.isoformat() if v and v.submitted_at else None

    def get_ruleset_version(self, obj) -> str:
        return self._v(obj).ruleset_version if self._v(obj) else ""

    def get_values_hash(self, obj) -> str:
        return self._v(obj).values_hash if self._v(obj) else ""


class FindingSerializer(serializers.Serializer):
    rule_id = serializers.CharField()
    severity = serializers.CharField(help_text="error | warning")
    kind = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())
    message_zh = serializers.CharField()
    message_en = serializers.CharField()
    citation = serializers.CharField()
    values = serializers.DictField(help_text="the values the rule compared")


class FilingResultSerializer(FilingSerializer):
    """A filing with the findings of its current values (context["findings"]: validation.Finding list)."""

    findings = serializers.SerializerMethodField()

    class Meta(FilingSerializer.Meta):
        fields = [*FilingSerializer.Meta.fields, "findings"]

    @extend_schema_field(FindingSerializer(many=True))
    def get_findings(self, obj: Filing) -> list[dict]:
        return [f.as_dict() for f in self.context["findings"]]


class FilingDetailSerializer(FilingResultSerializer):
    """GET of one filing: also the explanations given on submission and the reviewer's comments."""

    explanations = serializers.SerializerMethodField(help_text="{rule id: explanation}")
    review_comments = serializers.SerializerMethodField(help_text="{field code: comment}")

    prefill = serializers.SerializerMethodField(help_text="{field code: {value, source_zh, source_en, at}}")
    overrides = serializers.SerializerMethodField(help_text="{field code: {derived, value, by, at}}")

    class Meta(FilingResultSerializer.Meta):
        fields = [
            *FilingResultSerializer.Meta.fields,
            "explanations",
            "review_comments",
            "prefill",
            "overrides",
        ]

    def get_prefill(self, obj: Filing) -> dict:
        return self._v(obj).prefill if self._v(obj) else {}

    def get_overrides(self, obj: Filing) -> dict:
        return self._v(obj).overrides if self._v(obj) else {}

    def get_explanations(self, obj: Filing) -> dict[str, str]:
        return self._v(obj).explanations if self._v(obj) else {}

    def get_review_comments(self, obj: Filing) -> dict[str, str]:
        return self._v(obj).review_comments if self._v(obj) else {}


class FilingErrorSerializer(ErrorSerializer):
    """The error body of a refused filing action, with the validation findings behind the refusal."""

    findings = FindingSerializer(
        many=True,
        required=False,
        help_text="the findings behind a refusal about the data (absent when the input itself is malformed)",
    )


class CheckResultSerializer(serializers.Serializer):
    """What a submission of the values would meet, nothing stored: the same findings `submit` stores."""

    institution = serializers.CharField(help_text=_("统一社会信用代码"))
    period = serializers.CharField(help_text="e.g. 2025Q2")
    values = serializers.DictField(child=serializers.CharField(), help_text="{field code: canonical decimal}")
    nil_return = serializers.BooleanField()
    ruleset_version = serializers.CharField()
    findings = FindingSerializer(many=True)
    submittable = serializers.BooleanField(help_text="whether a submission would be accepted for review")
    refusals = serializers.ListField(
        child=serializers.CharField(), help_text="why a submission would be refused (empty when submittable)"
    )


class PrefillSerializer(serializers.Serializer):
    institution = serializers.CharField(max_length=18, help_text=_("统一社会信用代码"))
    period = PeriodField()


class ReconciliationLineSerializer(serializers.Serializer):
    code = serializers.CharField()
    label_zh = serializers.CharField()
    label_en = serializers.CharField()
    unit = serializers.CharField()
    filed = serializers.CharField(allow_null=True, help_text="decimal string; null when not filed")
    derived = serializers.CharField(help_text="derived from the loan-level records")
    difference = serializers.CharField(allow_null=True, help_text="filed − derived")
    tolerance = serializers.CharField()
    within = serializers.BooleanField(allow_null=True)


class ControllerGuaranteeSerializer(serializers.Serializer):
    contract_no = serializers.CharField()
    client = serializers.CharField(source="client.display_name")
    client_identifier = serializers.CharField(source="client.masked_identifier")
    balance = serializers.DecimalField(max_digits=18, decimal_places=2)
    start_date = serializers.DateField()


class ReconciliationSerializer(serializers.Serializer):
    filing = serializers.IntegerField()
    institution = serializers.CharField(help_text="credit code")
    period = serializers.CharField()
    version = serializers.IntegerField(allow_null=True)
    period_end = serializers.DateField()
    has_records = serializers.BooleanField()
    lines = ReconciliationLineSerializer(many=True)
    findings = FindingSerializer(many=True)
    explanations = serializers.DictField(child=serializers.CharField())
    controller_guarantees = ControllerGuaranteeSerializer(many=True)
