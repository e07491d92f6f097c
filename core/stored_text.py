"""System-written texts stored so that each reader sees them in their own language.

A text the system writes when something happens (a subsidy line's reason, a job's result, an audit
note) is kept as its gettext msgid (the Chinese source) and params, and rendered when shown:

    reason = Message("%(label)s：业务品种不符", label=line.label)   # a str: the text in the language now
    line.reason = store(reason, other_reason)                      # kept as msgid + params
    {{ line.reason|in_reader_language }} / show(line.reason)        # gettext(msgid) % params, for the reader

Texts typed by a person stay as typed (a plain str passes through `store` unchanged), and rows written
before this (plain text, or the older "中文 / English" fragments) are shown as they are stored."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import get_language, gettext, override

from .exceptions import Bilingual

MARK = "i18n:"  # prefix of a stored message; no person types it before a JSON list
ZH_SEPARATOR, EN_SEPARATOR = "；", "; "


class Message(str):
    """A system message: a str rendered in the active language (so it works wherever text does), that
    also remembers its msgid and params for `store`. Param values may be Messages or gettext_lazy
    texts themselves (rendered in the reader's language too)."""

    msgid: str
    params: dict

    def __new__(cls, msgid: str, /, **params):
        text = gettext(msgid) % params if params else gettext(msgid)
        self = super().__new__(cls, text)
        self.msgid, self.params = msgid, params
        return self

    def __reduce__(self):  # pickled (Celery, cache) as what it is
        return (_message, (self.msgid, self.params))


def _message(msgid, params):
    return Message(msgid, **params)


def _lazy_msgid(value: Promise) -> str | None:
    args = getattr(value, "_args", ())  # gettext_lazy(msgid): the proxy keeps the msgid
    return args[0] if len(args) == 1 and isinstance(args[0], str) else None


def _encode(value):
    if isinstance(value, Bilingual):  # a name in both languages: both kept
        with override("zh-hans"):
            zh = str(value.zh)
        with override("en"):
            en = str(value.en)
        return {"zh": zh, "en": en}
    if isinstance(value, Message):
        return {"m": value.msgid, "p": {k: _encode(v) for k, v in value.params.items()}}
    if isinstance(value, Promise):
        msgid = _lazy_msgid(value)
        if msgid is not None:
            return {"m": msgid, "p": {}}
        args = getattr(value, "_args", ())  # core.exceptions.deferred(gettext_lazy(msgid), **params)
        if len(args) == 2 and isinstance(args[0], Promise) and isinstance(args[1], dict):
            inner = _lazy_msgid(args[0])
            if inner is not None:
                return {"m": inner, "p": {k: _encode(v) for k, v in args[1].items()}}
        return str(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)  # Decimal and anything else: its text, as "%(x)s" shows it


def is_stored(text) -> bool:
    return isinstance(text, str) and text.startswith(MARK)


def store(*parts, max_length: int | None = None) -> str:
    """The text to keep for `parts` (Messages, gettext_lazy texts or plain str, shown joined by "；").
    Without any message among them it is the plain text, unchanged. When the encoded form would not
    fit `max_length`, the Chinese text, cut to fit (a column's limit must not break the encoding)."""
    parts = [p for p in parts if p not in (None, "")]
    if not any(isinstance(p, Message | Promise) for p in parts):
        text = ZH_SEPARATOR.join(str(p) for p in parts)
        return text[:max_length] if max_length else text
    encoded = MARK + json.dumps([_encode(p) for p in parts], ensure_ascii=False, separators=(",", ":"))
    if max_length and len(encoded) > max_length:
        with override("zh-hans"):
            return show(encoded)[:max_length]
    return encoded


def clip(text: str, limit: int) -> str:
    """`text` within `limit` characters without cutting a stored message in two."""
    if len(text) <= limit:
        return text
    if is_stored(text):
        with override("zh-hans"):
            text = show(text)
    return text[:limit]


def _render(value):
    if isinstance(value, dict) and "m" in value:
        msgid, params = value["m"], {k: _render(v) for k, v in (value.get("p") or {}).items()}
        try:
            return gettext(msgid) % params if params else gettext(msgid)
        except (KeyError, ValueError, TypeError):  # a translation that lost a param: the source
            return msgid % params if params else msgid
    if isinstance(value, dict) and "zh" in value and "en" in value:
        return value["en"] if _english() else value["zh"]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _english() -> bool:
    return (get_language() or "").startswith("en")


def show(text) -> str:
    """A stored text in the reader's language: a stored message rendered now, a plain text (typed by a
    person, or stored before) as it is."""
    if not is_stored(text):
        return "" if text is None else str(text)
    try:
        parts = json.loads(text[len(MARK) :])
    except ValueError:
        return text
    if not isinstance(parts, list):
        return text
    separator = EN_SEPARATOR if _english() else ZH_SEPARATOR
    return separator.join(str(_render(p)) for p in parts)


def legacy(text, separator: str = ZH_SEPARATOR) -> str:
    """Stored text made of fragments written before messages had one language ("中文 / English", joined
    by `separator`) in the reader's one language: the Chinese half, or for English readers the English
    half after the fragment's subject (what precedes "：", e.g. a subsidy line's label, which is policy
    data in one language). A fragment without " / " is shown as it is."""
    english = _english()
    parts = []
    for fragment in str(text or "").split(separator):
        zh, slash, en = fragment.rpartition(" / ")
        if not slash:
            parts.append(fragment)
        elif english:
            subject, colon, _rest = zh.partition("：")
            parts.append(f"{subject}: {en}" if colon else en)
        else:
            parts.append(zh)
    return (EN_SEPARATOR if english and separator == ZH_SEPARATOR else separator).join(parts)
