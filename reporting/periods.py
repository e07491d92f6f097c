"""Quarterly reporting periods: "2025Q2" ⇄ (2025, 2), period ends and Chinese labels."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from core.exceptions import AppError

_PERIOD = re.compile(r"^(\d{4})Q([1-4])$")
FIRST_YEAR = 1900  # a period before it is a typing slip (0000Q1 has no calendar dates at all)


class InvalidPeriod(AppError, ValueError):
    """Text that is not a reporting period: a 400 with the text quoted (still a ValueError for callers
    that catch that)."""


_QUARTER_END = {1: (3, 31), 2: (6, 30), 3: (9, 30), 4: (12, 31)}


@dataclass(frozen=True, order=True)
class Period:
    year: int
    quarter: int

    @classmethod
    def parse(cls, text: str) -> Period:
        from core.parsing import normalize_number_text, quote

        match = _PERIOD.match(normalize_number_text(str(text)).upper())
        if not match or int(match.group(1)) < FIRST_YEAR:
            raise InvalidPeriod(
                _("报告期“%(period)s”无效：应为 YYYYQn（季度 1–4，%(first)s 年及以后），如 2025Q2")
                % {"period": quote(text), "first": FIRST_YEAR},
                errors={"period": [_("报告期“%(period)s”无效") % {"period": quote(text)}]},
            )
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, day: dt.date) -> Period:
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def label(self) -> str:
        from django.utils.translation import gettext

        return gettext("%(year)s年第%(quarter)s季度") % {"year": self.year, "quarter": self.quarter}

    @property
    def end(self) -> dt.date:
        month, day = _QUARTER_END[self.quarter]
        return dt.date(self.year, month, day)

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.quarter * 3 - 2, 1)

    def previous(self) -> Period:
        return Period(self.year, self.quarter - 1) if self.quarter > 1 else Period(self.year - 1, 4)

    def next(self) -> Period:
        return Period(self.year, self.quarter + 1) if self.quarter < 4 else Period(self.year + 1, 1)

    def prior_year_end(self) -> Period:
        """The Q4 whose closing values are this year's opening values."""
        return Period(self.year - 1, 4)
