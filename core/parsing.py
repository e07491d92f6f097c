"""The one place that turns what people and clients type into numbers, ids and dates.

Every channel (the web form, the live check, Excel cells, the API, query strings) parses through here,
so the same text means the same number everywhere and bad input is a 400 with a message that quotes the
field and the user's own text — never a 500 (`decimal.Overflow`, `ValueError`) and never a silent
reinterpretation.

Numbers (`parse_decimal`), decided once:
- full-width characters (`１２３４．５６`, `，`, `％`, `－`) and spaces (incl. U+3000, no-break spaces)
  count as their ASCII forms (Unicode NFKC);
- a comma is accepted only as well-formed thousands grouping: `1,234`, `12,345,678.90` (1–3 digits,
  then groups of exactly three, then an optional decimal point). Anything else with a comma is refused
  as ambiguous: `1234,56` (a decimal comma, as many spreadsheets write it — it is never read as 123456),
  `1,2,3,4`, `1.234,56`. The message says to write a decimal point;
- decimal notation, with an optional exponent (`1E+3`, as `str(Decimal)` writes it); `Infinity`, `NaN`
  and hex are refused, and so is a JSON or Excel float that is not finite;
- magnitude is checked before any arithmetic (a huge exponent never reaches the decimal context).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .exceptions import AppError, Bilingual, Text, deferred

_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,9})?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d{1,2}$")
_SPACES = re.compile(r"\s+")
SHOWN = 40  # characters of the user's text quoted in a message


class BadValue(AppError):
    """A value that cannot be read; `text` is a deferred message, so a channel that shows it later (an
    Excel problem) shows it in its reader's language."""

    def __init__(self, text: Text, *, field: str | None = None) -> None:
        self.text, self.field = text, field
        super().__init__(text, errors={field: [text]} if field else None)

    @property
    def zh(self) -> str:
        with translation.override("zh-hans"):
            return str(self.text)

    @property
    def en(self) -> str:
        with translation.override("en"):
            return str(self.text)


def quote(text: object) -> str:
    shown = str(text)
    return shown if len(shown) <= SHOWN else shown[: SHOWN - 1] + "…"


def normalize_number_text(text: str) -> str:
    """Full-width forms as ASCII (NFKC: ．→. ，→, ％→% －→-), the minus sign as '-', spaces removed."""
    text = unicodedata.normalize("NFKC", text).replace("−", "-")
    return _SPACES.sub("", text)


def parse_decimal(
    value: object,
    *,
    name: str = "",
    label: object = None,
    max_digits_before_point: int = 13,
    percent: bool = False,
) -> Decimal:
    """`value` (str, int, float or Decimal) → a finite Decimal, or BadValue naming `name` and quoting the
    original text. With `percent`, a trailing % divides by 100 (`1.5%` → 0.015); without it a % is
    refused ("looks like a percentage"). |value| must be below 10**max_digits_before_point. Messages
    name the field by `label` in Chinese (default: `name`) and by `name` in English."""
    label = label or name or _("数值")
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise BadValue(
            deferred(_("%(label)s 应为数字"), label=Bilingual(label, name or "the value")), field=name or None
        )
    scale = 0
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _bad(_OUT_OF_RANGE, label, name, value)
        number = Decimal(repr(value))
    elif isinstance(value, Decimal | int):
        number = Decimal(value)
    else:
        text = normalize_number_text(value)
        if percent and text.endswith("%"):
            text, scale = text[:-1], 2
        elif text.endswith("%"):
            raise _bad(
                _("%(label)s看起来是百分比，本栏应填数值，不带 %%，收到“%(text)s”"), label, name, value
            )
        if "," in text:
            if _GROUPED.match(text):
                text = text.replace(",", "")
            elif _DECIMAL_COMMA.match(text):
                raise _bad(
                    _(
                        "%(label)s含义不明确：小数请用小数点“.”（如 1234.56），逗号只能作千位分隔符，收到“%(text)s”"
                    ),
                    label,
                    name,
                    value,
                )
            else:
                raise _bad(
                    _("%(label)s千位分隔符位置不对（应每三位一组，如 1,234,567.89），收到“%(text)s”"),
                    label,
                    name,
                    value,
                )
        if not _PLAIN.match(text):
            raise _bad(_("%(label)s应为数字，收到“%(text)s”"), label, name, value)
        number = Decimal(text)
    # the magnitude before any arithmetic: Decimal("1e999999999") is fine, anything done with it overflows
    if not number.is_finite() or (number and number.adjusted() - scale >= max_digits_before_point):
        raise _bad(_OUT_OF_RANGE, label, name, value)
    return number.scaleb(-scale) if scale else number


_OUT_OF_RANGE = _("%(label)s数值超出范围，收到“%(text)s”")


def _bad(message: Text, label: object, name: str, value: object) -> BadValue:
    """The field (by its label in Chinese, its code in English) and the user's own text."""
    return BadValue(
        deferred(message, label=Bilingual(label, name or "value"), text=quote(value)), field=name or None
    )


def parse_id(value: object, *, name: str = "id") -> int:
    """A database id from a form or query string ("12"); anything else is a 400, not a ValueError."""
    text = str(value if value is not None else "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise BadValue(deferred(_("编号“%(text)s”无效（%(name)s）"), text=quote(text), name=name), field=name)
    return int(text)


EARLIEST_DATE = dt.date(1949, 10, 1)  # nothing this portal records predates the People's Republic
FUTURE_YEARS = 5


def plausible_date(day: dt.date | None) -> None:
    """Validator (forms, models and DRF serializers alike) for a date a person typed: refused when
    before 1949-10-01 or more than five years ahead — a year such as 0421 is a typing slip."""
    if day is None:
        return
    latest = dt.date.today().replace(month=12, day=31)
    latest = latest.replace(year=latest.year + FUTURE_YEARS)
    if not (EARLIEST_DATE <= day <= latest):
        raise DjangoValidationError(
            gettext("日期 %(day)s 不合理，应在 %(earliest)s 至 %(latest)s 之间")
            % {"day": day.isoformat(), "earliest": EARLIEST_DATE.isoformat(), "latest": latest.isoformat()},
            code="implausible_date",
        )


def has_nul(data: object) -> bool:
    """Whether a parsed JSON document carries a NUL character in any key or string (PostgreSQL cannot
    store one in text: it would be a database error)."""
    if isinstance(data, str):
        return "\x00" in data
    if isinstance(data, dict):
        return any(has_nul(k) or has_nul(v) for k, v in data.items())
    if isinstance(data, list):
        return any(has_nul(v) for v in data)
    return False
