"""What supervision puts in the work inbox (core.inbox): the warning cases a regulator handles, and the
open cases of its jurisdiction nobody has taken yet. A constant number of queries."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from core.inbox import Task, inbox_source
from core.roles import Role, role_of

from .models import WarningCase, WarningStatus


@inbox_source
def warning_cases(user) -> list[Task]:
    if role_of(user) != Role.REGULATOR:
        return []
    counts = (
        WarningCase.objects.for_user(user)
        .exclude(status=WarningStatus.CLOSED)
        .aggregate(
            mine=Count("pk", filter=Q(assigned_to=user)),
            unassigned=Count("pk", filter=Q(assigned_to__isnull=True, status=WarningStatus.OPEN)),
        )
    )
    url = reverse("supervision:warnings")
    tasks = []
    if counts["mine"]:
        tasks.append(
            Task(
                "warning.assigned",
                _("%(n)s 件预警由您承办") % {"n": counts["mine"]},
                f"{url}?mine=1",
                count=counts["mine"],
            )
        )
    if counts["unassigned"]:
        tasks.append(
            Task(
                "warning.open",
                _("%(n)s 件预警待确认承办") % {"n": counts["unassigned"]},
                f"{url}?status=open",
                count=counts["unassigned"],
            )
        )
    return tasks
