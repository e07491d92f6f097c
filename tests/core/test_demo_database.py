"""`make demo` on a database made under an older migration history, or whose tables were made by an
initial migration since regenerated in place (same name, other columns): an embedded SQLite demo database
is recreated, a server database is never dropped."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from core.management.commands.demo_database import stale_migrations, stale_tables

pytestmark = pytest.mark.django_db


def test_current_history_is_not_stale():
    assert stale_migrations() == [] and stale_tables() == []
    call_command("demo_database")  # nothing to do: returns quietly


def test_applied_migrations_missing_on_disk_are_stale(monkeypatch):
    MigrationRecorder(connection).record_applied("reporting", "0101_indicators")
    MigrationRecorder(connection).record_applied("django_celery_beat", "9999_not_ours")  # not a project app
    assert stale_migrations() == ["reporting.0101_indicators"]
    monkeypatch.setattr(connection, "vendor", "postgresql")
    with pytest.raises(CommandError, match="reporting.0101_indicators"):
        call_command("demo_database")


def test_tables_that_differ_from_the_models_are_stale():
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE reporting_duedatesetting RENAME COLUMN region_code TO region_id")
        cursor.execute("DROP TABLE reporting_reviewparameter")
    assert stale_tables() == ["reporting_duedatesetting", "reporting_reviewparameter"]
