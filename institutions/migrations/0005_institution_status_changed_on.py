import datetime as dt

from django.db import migrations, models
from django.utils import timezone


def fill_status_changed_on(apps, schema_editor):
    """For companies no longer operating, the day they stopped: the last audited change of their status
    (local date), else the latest cancellation or revocation of their licences; unknown otherwise (such
    a company stays off every quarter's board, as before)."""
    Institution = apps.get_model("institutions", "Institution")
    Licence = apps.get_model("institutions", "Licence")
    AuditEvent = apps.get_model("core", "AuditEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    leavers = Institution.objects.exclude(status="operating").filter(status_changed_on__isnull=True)
    if not leavers.exists():
        return
    content_type = ContentType.objects.filter(app_label="institutions", model="institution").first()
    for institution in leavers.iterator():
        on = None
        if content_type is not None:
            for at, changes in (
                AuditEvent.objects.filter(content_type=content_type, object_id=str(institution.pk))
                .order_by("-at")
                .values_list("at", "changes")
            ):
                if "status" in (changes or {}):
                    on = timezone.localtime(at).date() if timezone.is_aware(at) else at.date()
                    break
        if on is None:
            dates = [
                d
                for pair in Licence.objects.filter(institution=institution).values_list(
                    "cancelled_on", "revoked_on"
                )
                for d in pair
                if isinstance(d, dt.date)
            ]
            on = max(dates) if dates else None
        if on is not None:
            Institution.objects.filter(pk=institution.pk).update(status_changed_on=on)


class Migration(migrations.Migration):
    dependencies = [
        ("institutions", "0004_shareholder_id_hash"),
        ("core", "0004_audit_events_without_a_record"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="institution",
            name="status_changed_on",
            field=models.DateField(
                blank=True,
                help_text="当前经营状态的起始日期；注销、退出或暂停业务前结束的季度仍须报送",
                null=True,
                verbose_name="状态变更日期",
            ),
        ),
        migrations.RunPython(fill_status_changed_on, migrations.RunPython.noop),
    ]
