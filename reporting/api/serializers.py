from rest_framework import serializers

from ..models import Filing


class FilingWriteSerializer(serializers.Serializer):
    institution = serializers.CharField(max_length=18, help_text="统一社会信用代码 / credit code")
    period = serializers.RegexField(r"^\d{4}Q[1-4]$", help_text="e.g. 2025Q2")
    values = serializers.DictField(
        child=serializers.JSONField(), required=False, default=dict, help_text="{field code: decimal string}"
    )
    nil_return = serializers.BooleanField(required=False, default=False)


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
