"""Every environment variable the code reads is named in the README's settings table."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".venv", "tests", "bench", "migrations", "node_modules", ".git", ".lockvenv"}
READS = re.compile(
    r"""(?:\benv(?:\.(?:str|int|bool|list|path|db|float|json|url|tuple|dict))?\(\s*|os\.environ(?:\.get|\.setdefault)?\(\s*|os\.environ\[\s*|os\.getenv\(\s*)["']([A-Z][A-Z0-9_]+)["']"""
)


def variables_read() -> set[str]:
    found = set()
    for path in ROOT.rglob("*.py"):
        if SKIP & set(path.relative_to(ROOT).parts):
            continue
        found |= set(READS.findall(path.read_text(encoding="utf-8")))
    return found


def readme_table() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("| variable | meaning |")
    end = text.index("\n\n", start)
    return text[start:end]


def test_the_scan_finds_the_settings_reads():
    assert {
        "DJANGO_SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "API_TOKEN_HOURS",
        "DJANGO_LOG_LEVEL",
    } <= variables_read()


def test_every_variable_read_is_in_the_readme_table():
    table = readme_table()
    named = set(re.findall(r"`([A-Z][A-Z0-9_]+)(?:=[^`]*)?`", table))
    assert sorted(variables_read() - named) == []
