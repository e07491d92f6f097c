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


# A conversion specification as Python's % operator reads it: %(name)s, %s, %.2f, %%.
_SPEC = re.compile(r"%(?:\((\w+)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?([diouxXeEfFgGcrsa%])")


def _placeholders(text: str) -> tuple[list[str], list[str]]:
    """(sorted named placeholders, unnamed conversions in order) of a python-format string."""
    named, unnamed = [], []
    for name, conversion in _SPEC.findall(text):
        if conversion == "%":
            continue
        (named if name else unnamed).append(name or conversion)
    return sorted(set(named)), unnamed


def format_mismatches(catalogue) -> list[tuple[str, str]]:
    """Entries whose msgstr does not take exactly the placeholders of its msgid: a named one the
    msgstr lacks is lost to the reader, one the msgid lacks raises KeyError when the code fills in
    only the msgid's params (msgfmt --check-format refuses both)."""
    named = re.compile(r"%\((\w+)\)")
    wrong = []
    for message in catalogue:
        if not message.id or not isinstance(message.id, str) or not message.string:
            continue
        if "python-format" in message.flags:
            differs = _placeholders(message.id) != _placeholders(message.string)
        else:  # an entry without the flag still may not change its named placeholders
            differs = set(named.findall(message.id)) != set(named.findall(message.string))
        if differs:
            wrong.append((message.id, message.string))
    return wrong


def test_every_translation_takes_the_placeholders_of_its_source():
    from babel.messages.pofile import read_po

    with PO.open("rb") as po:
        catalogue = read_po(po)
    assert len(catalogue) > 800
    assert format_mismatches(catalogue) == []


def test_the_placeholder_check_finds_a_translation_that_renames_a_param():
    from babel.messages.catalog import Catalog

    catalogue = Catalog(locale="en")
    catalogue.add("%(label)s 应为数字", "%(name)s must be a number", flags=["python-format"])
    catalogue.add("共 %(n)s 行，%(m)s 列", "%(n)s rows", flags=["python-format"])
    catalogue.add("完成 %d%%", "%d%% done", flags=["python-format"])
    catalogue.add("%(a)s 与 %(b)s", "%(b)s and %(a)s", flags=["python-format"])
    catalogue.add("第 %s 行", "row", flags=["python-format"])
    assert format_mismatches(catalogue) == [
        ("%(label)s 应为数字", "%(name)s must be a number"),
        ("共 %(n)s 行，%(m)s 列", "%(n)s rows"),
        ("第 %s 行", "row"),
    ]
