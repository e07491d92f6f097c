"""`make demo` recreates a demo database whose tables were made by an initial migration since
regenerated in place (same migration name, other columns), as it does for an older history."""

import pytest
from django.db import connection

from core.management.commands.demo_database import stale_tables

pytestmark = pytest.mark.django_db


def test_tables_that_differ_from_the_models_are_stale():
    assert stale_tables() == []
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE reporting_duedatesetting RENAME COLUMN region_code TO region_id")
        cursor.execute("DROP TABLE reporting_reviewparameter")
    assert stale_tables() == ["reporting_duedatesetting", "reporting_reviewparameter"]
