"""What the government-backed list puts in the work inbox (core.inbox): batches the other side proposed,
for the regulator or the finance bureau to confirm (or send back), and a finance bureau's drafts to
complete and propose. A constant number of queries."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from core.inbox import Task, inbox_source
from core.roles import Role, role_of

from .choices import ListBatchStatus
from .models import GovListBatch


@inbox_source
def govlist_batches(user) -> list[Task]:
    role = role_of(user)
    if role not in (Role.REGULATOR, Role.FINANCE):
        return []
    batches = (
        GovListBatch.objects.for_user(user, "change")
        .filter(status__in=[ListBatchStatus.PROPOSED, ListBatchStatus.DRAFT])
        .select_related("proposed_by")
        .order_by("published_on", "pk")
    )
    mine = [
        b
        for b in batches
        if (b.status == ListBatchStatus.PROPOSED and (b.proposed_by is None or b.proposed_by.role != role))
        or (b.status == ListBatchStatus.DRAFT and role == Role.FINANCE)
    ]
    tasks = []
    for batch in mine:
        url = reverse("institutions:govlist_batch", args=[batch.pk])
        if batch.status == ListBatchStatus.PROPOSED:
            tasks.append(
                Task(
                    "govlist.confirm",
                    _("名单批次“%(t)s”待确认") % {"t": batch.title},
                    url,
                    due=batch.published_on,
                )
            )
        else:
            tasks.append(
                Task(
                    "govlist.draft",
                    _("名单批次“%(t)s”草拟中，待提交确认") % {"t": batch.title},
                    url,
                    due=batch.published_on,
                )
            )
    return tasks
