"""Every UI string has its English translation (zh-hans is the source language)."""

import re
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "locale" / "en" / "LC_MESSAGES" / "django.po"


def _entries():
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        lines = block.strip().split("\n")
        ids = [i for i, line in enumerate(lines) if line.startswith("msgid ")]
        strs = [i for i, line in enumerate(lines) if line.startswith("msgstr")]
        if not ids or not strs:
            continue
        msgid = "".join(re.findall(r'"(.*)"', "\n".join(lines[ids[0] : strs[0]])))
        msgstr = "".join(re.findall(r'"(.*)"', "\n".join(lines[strs[0] :])))
        if msgid:
            yield msgid, msgstr, "#, fuzzy" in block or ", fuzzy" in block


def test_every_string_is_translated_and_none_is_fuzzy():
    entries = list(_entries())
    assert len(entries) > 800
    assert [m for m, s, fuzzy in entries if not s or fuzzy] == []
