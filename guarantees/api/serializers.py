from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.templatetags.portal import localized

from ..models import ImportBatch


def _row() -> serializers.DictField:
    return serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        help_text="{column code: value}; the codes of the template",
    )


class BatchJSONSerializer(serializers.Serializer):
    institution = serializers.CharField(max_length=18, required=False, help_text=_("统一社会信用代码"))
    guarantees = serializers.ListField(child=_row(), required=False, default=list)
    events = serializers.ListField(child=_row(), required=False, default=list)


class BatchFileSerializer(serializers.Serializer):
    institution = serializers.CharField(max_length=18, required=False)
    file = serializers.FileField(help_text="xlsx (sheets 担保明细, 担保事件) or a CSV file")
    events_file = serializers.FileField(required=False, help_text="the events CSV, when file is a CSV")


class BatchFindingSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=["error", "warning"])
    rule = serializers.CharField()
    sheet = serializers.CharField()
    row = serializers.IntegerField()
    column = serializers.CharField()
    message = serializers.SerializerMethodField(
        help_text="the finding, naming sheet, row and column, in the reader's language"
    )

    def get_message(self, finding: dict) -> str:
        return localized(finding, "message")


class BatchSerializer(serializers.ModelSerializer):
    institution = serializers.CharField(source="institution.credit_code")
    job_status = serializers.CharField(source="job.status", default=None)
    findings = BatchFindingSerializer(many=True)
    error_report = serializers.SerializerMethodField()

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "institution",
            "channel",
            "source_name",
            "status",
            "progress",
            "job_status",
            "guarantee_rows",
            "event_rows",
            "error_count",
            "warning_count",
            "clients_created",
            "clients_updated",
            "guarantees_created",
            "guarantees_updated",
            "events_created",
            "created_at",
            "committed_at",
            "warnings_confirmed_at",
            "findings",
            "error_report",
        ]

    def get_error_report(self, batch: ImportBatch) -> str | None:
        """URL of the workbook with each finding as a comment on its cell (when there are findings on rows)."""
        if not any(f.get("rule") != "file" for f in batch.findings):
            return None
        return reverse("guarantees-api-batch-report", args=[batch.pk])


class BatchListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["staged", "validating", "failed", "committed"], required=False)
