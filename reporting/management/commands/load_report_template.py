import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reporting.services import template_load


class Command(BaseCommand):
    help = (
        "Install or update a quarterly report template version from a fields file "
        "(code,section,label_zh,label_en,unit,basis,notes_zh,notes_en)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--template-version", type=int, required=True)
        parser.add_argument("--name", default="融资担保公司季度监管报表")
        parser.add_argument(
            "--effective-from", required=True, help="first period end it applies to, YYYY-MM-DD"
        )
        parser.add_argument("--effective-to", default="", help="last period end, YYYY-MM-DD (optional)")
        parser.add_argument("--source", default="")

    def handle(self, *args, **opts):
        path = Path(opts["path"])
        if not path.exists():
            raise CommandError(f"no such file: {path}")
        template = template_load(
            path=path,
            version=opts["template_version"],
            name=opts["name"],
            effective_from=dt.date.fromisoformat(opts["effective_from"]),
            effective_to=dt.date.fromisoformat(opts["effective_to"]) if opts["effective_to"] else None,
            source=opts["source"],
        )
        self.stdout.write(self.style.SUCCESS(f"{template}: {template.fields.count()} fields"))
