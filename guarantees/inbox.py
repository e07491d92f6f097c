"""Work waiting for a company user (core.inbox): its batches with errors to correct or warnings to confirm."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from core.inbox import Task
from core.roles import is_company_user

from .choices import BatchStatus
from .models import ImportBatch


def batches_waiting(user) -> list[Task]:
    """The latest batch of the user's institution, if it failed or waits for its warnings to be
    confirmed (older failed batches were superseded by later ones). One query."""
    if not is_company_user(user):
        return []
    latest = (
        ImportBatch.objects.for_user(user)
        .order_by("-created_at", "-id")
        .only("id", "status", "error_count", "warning_count")
        .first()
    )
    if latest is None:
        return []
    url = reverse("guarantees:batch", args=[latest.pk])
    if latest.status == BatchStatus.FAILED:
        return [
            Task(
                "guarantees.batch_failed",
                _("担保明细批次 #%(id)s 未通过校验，请下载错误报告更正后重新报送") % {"id": latest.pk},
                url,
            )
        ]
    if latest.status == BatchStatus.STAGED and latest.warning_count and not latest.error_count:
        return [
            Task(
                "guarantees.batch_warnings",
                _("担保明细批次 #%(id)s 有 %(n)s 条量级提示待确认")
                % {"id": latest.pk, "n": latest.warning_count},
                url,
            )
        ]
    return []
