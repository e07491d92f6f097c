from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from .scoping import Scope, ScopedQuerySet, visible_q


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyError(RuntimeError):
    pass


class AuditEventQuerySet(ScopedQuerySet):
    scope = Scope()  # administrators only; everyone else reads history on the record's own page

    def update(self, **kwargs):
        raise AppendOnlyError("audit events are append-only")

    def delete(self):
        raise AppendOnlyError("audit events are append-only")

    def for_object(self, instance):
        return self.filter(
            content_type=ContentType.objects.get_for_model(type(instance)), object_id=str(instance.pk)
        )


class AuditEvent(models.Model):
    """One create, update or state change of a domain record. Append-only: the model refuses updates
    and deletes, and database triggers (PostgreSQL and SQLite, migration 0002) refuse them too."""

    class Action(models.TextChoices):
        CREATE = "create", _("创建")
        UPDATE = "update", _("修改")
        TRANSITION = "transition", _("状态变更")
        DELETE = "delete", _("删除")
        EXPORT = "export", _("导出")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOCKED_OUT = "locked_out", _("账户锁定")
        SECURITY = "security", _("安全操作")

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    action = models.CharField(_("操作"), max_length=16, choices=Action.choices)
    # None for an event about no one record (an export, a failed login for an unknown name)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=300)
    changes = models.JSONField(_("变更内容"), default=dict, help_text="{field: [before, after]}")
    note = models.TextField(_("说明"), blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-at"])]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.get_action_display()} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are append-only")


class JobQuerySet(ScopedQuerySet):
    scope = Scope()

    def for_user(self, user, action="view"):
        """Administrators see every job; anyone else the jobs they started (for either action)."""
        if visible_q(user, self.scope) is None:
            return self
        return self.filter(created_by_id=user.pk) if user.is_authenticated else self.none()


class Job(models.Model):
    """State of one background job, in our own table (not a Celery result backend), so the user who
    started it can watch its progress. The table is also the outbox (core/jobs.py): a job is written
    in the caller's transaction with the name of its Celery task, sent after commit, and sent again by
    the relay while it stays queued. A job may be split into parts (child jobs) whose progress adds up
    in their parent."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("运行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("任务类型"), max_length=64)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    params = models.JSONField(_("参数"), default=dict)
    total = models.PositiveIntegerField(_("总数"), default=0)
    done_count = models.PositiveIntegerField(_("已完成数"), default=0)
    message = models.TextField(_("结果说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    task = models.CharField(_("Celery 任务"), max_length=200, blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="parts",
        verbose_name=_("所属任务"),
    )
    send_attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    send_error = models.TextField(_("最近一次发送错误"), blank=True)
    next_send_at = models.DateTimeField(_("未完成时再次发送于"), null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_send_at"], name="core_job_relay_idx")]
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")

    def __str__(self):
        return f"{self.kind} #{self.pk} {self.status}"

    @property
    def percent(self) -> int:
        return (
            100
            if self.status == self.Status.DONE
            else (self.done_count * 100 // self.total if self.total else 0)
        )
