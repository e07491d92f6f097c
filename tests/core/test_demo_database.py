"""`make demo` on a database made under the old migration history: stale migrations are found; an embedded
SQLite demo database is recreated, a server database is never dropped."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from core.management.commands.demo_database import stale_migrations

pytestmark = pytest.mark.django_db


def test_current_history_is_not_stale():
    assert stale_migrations() == []
    call_command("demo_database")  # nothing to do: returns quietly


def test_applied_migrations_missing_on_disk_are_stale(monkeypatch):
    MigrationRecorder(connection).record_applied("reporting", "0101_indicators")
    MigrationRecorder(connection).record_applied("django_celery_beat", "9999_not_ours")  # not a project app
    assert stale_migrations() == ["reporting.0101_indicators"]
    monkeypatch.setattr(connection, "vendor", "postgresql")
    with pytest.raises(CommandError, match="reporting.0101_indicators"):
        call_command("demo_database")
