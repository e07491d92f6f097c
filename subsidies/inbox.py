"""The subsidies' tasks in the work inbox (待办): finance — applications to review, decide, publish and
pay; company — applications returned for more information, and drafts its approver may submit. A
constant number of queries per user."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from core.inbox import Task, inbox_source
from core.roles import Role, role_of

from .choices import EDITABLE, Status
from .models import Application


@inbox_source
def finance_tasks(user) -> list[Task]:
    if role_of(user) != Role.FINANCE:
        return []
    from .selectors import finance_queues

    url = reverse("subsidies:index")
    labels = {
        "review": _("补贴申请待初审"),
        "decide": _("补贴申请待复核"),
        "publish": _("补贴待公示"),
        "pay": _("补贴公示期满待拨付"),
    }
    return [
        Task(kind=f"subsidy.{key}", title=labels[key], url=url, count=len(items))
        for key, items in finance_queues(user).items()
        if items
    ]


@inbox_source
def company_tasks(user) -> list[Task]:
    role = role_of(user)
    if role not in (Role.FILER, Role.APPROVER):
        return []
    counts = Application.objects.for_user(user).aggregate(
        returned=Count("id", filter=Q(status=Status.RETURNED)),
        drafts=Count("id", filter=Q(status__in=EDITABLE) & ~Q(status=Status.RETURNED)),
    )
    url = reverse("subsidies:applications")
    tasks = []
    if counts["returned"]:
        tasks.append(
            Task(
                kind="subsidy.returned", title=_("补贴申请被退回，请补充"), url=url, count=counts["returned"]
            )
        )
    if counts["drafts"] and role == Role.APPROVER:
        tasks.append(
            Task(kind="subsidy.submit", title=_("补贴申请草稿待申报"), url=url, count=counts["drafts"])
        )
    return tasks
