"""Compile the translation catalogues (locale/*/LC_MESSAGES/*.po → .mo) in pure Python (Babel), so a fresh
machine needs no GNU gettext (`msgfmt`): `make install` runs it. Fuzzy entries are left out, as msgfmt
does; a catalogue with a syntax error stops the command."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import BaseCommand


def compile_catalogue(po_path: Path, mo_path: Path) -> int:
    """Write `mo_path` from `po_path`; returns the number of translated messages."""
    with po_path.open("rb") as source:
        catalogue = read_po(source, abort_invalid=True)
    mo_path.parent.mkdir(parents=True, exist_ok=True)
    with mo_path.open("wb") as target:
        write_mo(target, catalogue, use_fuzzy=False)
    return sum(1 for m in catalogue if m.id and m.string and not m.fuzzy)


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po to .mo without GNU gettext."

    def add_arguments(self, parser):
        parser.add_argument("--out", help="write the .mo files under this folder instead of beside the .po")

    def handle(self, *args, out=None, verbosity=1, **options):
        for locale_dir in map(Path, settings.LOCALE_PATHS):
            for po in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
                mo = (Path(out) / po.relative_to(locale_dir) if out else po).with_suffix(".mo")
                n = compile_catalogue(po, mo)
                if verbosity:
                    self.stdout.write(f"{po.relative_to(locale_dir)}: {n} messages → {mo}")
