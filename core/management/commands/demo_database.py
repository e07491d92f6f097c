"""Before `make demo` migrates: an embedded SQLite database made under an older migration history (the
migrations were reset to one clean initial set while no production data existed) cannot be migrated
forward — nor one made before an initial migration was regenerated in place (same name, other tables).
Such a demo database is deleted so that `migrate` recreates it, and the command says so. It never
touches a server database (PostgreSQL): there it only reports the mismatch and fails."""

from pathlib import Path

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils.translation import gettext as _

PROJECT_APPS = ("core", "accounts", "institutions", "guarantees", "reporting", "supervision", "subsidies")


def stale_migrations() -> list[str]:
    """Applied migrations of the project's apps that no longer exist on disk."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    return sorted(
        f"{app}.{name}"
        for app, name in loader.applied_migrations
        if app in PROJECT_APPS and (app, name) not in loader.disk_migrations
    )


def stale_tables() -> list[str]:
    """Tables that are missing or whose columns differ from the models, in the project's apps whose
    migrations on disk are all applied (an app with pending migrations is left to `migrate`)."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    on_disk: dict[str, set] = {}
    for key in loader.disk_migrations:
        on_disk.setdefault(key[0], set()).add(key)
    migrated = {
        app for app in PROJECT_APPS if on_disk.get(app) and on_disk[app] <= set(loader.applied_migrations)
    }
    out = []
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        for model in apps.get_models():
            meta = model._meta
            if meta.app_label not in migrated or not meta.managed or meta.proxy:
                continue
            if meta.db_table not in existing:
                out.append(meta.db_table)
                continue
            columns = {c.name for c in connection.introspection.get_table_description(cursor, meta.db_table)}
            if columns != {f.column for f in meta.local_concrete_fields}:
                out.append(meta.db_table)
    return sorted(out)


class Command(BaseCommand):
    help = "Recreate the embedded demo database if it was made under an older migration history."

    def handle(self, *args, **options) -> None:
        stale = stale_migrations() or stale_tables()
        if not stale:
            return
        if connection.vendor != "sqlite":
            raise CommandError(
                _("数据库的迁移历史与代码不一致，请重建数据库：%(stale)s") % {"stale": ", ".join(stale)}
            )
        path = Path(connection.settings_dict["NAME"])
        connection.close()
        path.unlink()
        self.stdout.write(
            self.style.WARNING(
                _(
                    "本地演示数据库 %(name)s 来自旧的迁移历史（%(n)s 个迁移或数据表，"
                    "如 %(example)s），已删除并将重建"
                )
                % {"name": path.name, "n": len(stale), "example": stale[0]}
            )
        )
