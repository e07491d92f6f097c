"""Audit events about no one record (exports, failed logins, security steps): new actions, and the
record columns may be empty. SQLite rebuilds the table to make a column nullable, which drops its
append-only triggers (migration 0002): they are created again."""

import django.db.models.deletion
from django.db import migrations, models

SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS core_auditevent_no_update BEFORE UPDATE ON core_auditevent
       BEGIN SELECT RAISE(ABORT, 'core_auditevent is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS core_auditevent_no_delete BEFORE DELETE ON core_auditevent
       BEGIN SELECT RAISE(ABORT, 'core_auditevent is append-only'); END""",
]


def sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_TRIGGERS:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0003_job_relay_schedule"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("create", "创建"),
                    ("update", "修改"),
                    ("transition", "状态变更"),
                    ("delete", "删除"),
                    ("export", "导出"),
                    ("login_failed", "登录失败"),
                    ("locked_out", "账户锁定"),
                    ("security", "安全操作"),
                ],
                max_length=16,
                verbose_name="操作",
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="content_type",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="contenttypes.contenttype",
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="object_id",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(sqlite_triggers, migrations.RunPython.noop),
    ]
