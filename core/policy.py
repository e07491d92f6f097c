"""Policy rows: the one shape of effective-dated, regional policy data and the one rule for which rows
are in force ("Policy is data", ARCHITECTURE.md).

A row applies from `effective_from` to `effective_to` (both inclusive; open-ended when empty) to the
GB/T 2260 region `region_code` and every region below it (empty: nationwide), and cites its `source`.
On a day and for a region, the rows in force come most specific region first, then latest start; the
first row of each policy key governs. A required row that is missing raises `PolicyMissing`: a gap in
the policy data is fixed in the data, never filled by a default in code.

The rule is evaluated in SQL (`PolicyQuerySet.in_force`, for one lookup) or in memory over rows loaded
once (`rows_in_force`, for batches over many days and regions); tests/core/test_policy.py holds the two
to the same answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import TimeStampedModel
from .scoping import Scope, ScopedQuerySet


def covering_codes(region_code: str) -> list[str]:
    """The region scopes whose subtree holds `region_code`, least specific first: nationwide (""), its
    province (xx0000), its city (xxxx00), itself — core.scoping's subtree rule read upwards."""
    codes = [""]
    if region_code:
        for code in (region_code[:2] + "0000", region_code[:4] + "00", region_code):
            if code not in codes:
                codes.append(code)
    return codes


class PolicyMissing(ValidationError):
    """No row in force where the policy needs one. A ValidationError, so a form shows it and the API
    answers 400; anywhere else it propagates (a failed page or job), never replaced by a default."""

    def __init__(self, model: type[models.Model], key: str | None, region_code: str, day: dt.date):
        self.model, self.key, self.region_code, self.day = model, key, region_code, day
        name = str(model._meta.verbose_name)
        key_text = f" {key}" if key else ""
        super().__init__(
            gettext("缺少政策数据：%(name)s%(key)s（地区 %(region)s，日期 %(day)s）")
            % {"name": name, "key": key_text, "region": region_code or gettext("全国"), "day": day},
            code="policy_missing",
        )


class Governing(dict):
    """{policy key: the row that governs} on one day for one region (the key is None for a model with
    one policy per region). `require` fails loudly where `get` would return None."""

    def __init__(self, model: type[PolicyRow], rows: Iterable[PolicyRow], day: dt.date, region_code: str):
        super().__init__()
        self.model, self.day, self.region_code = model, day, region_code
        for row in rows:  # in force, in order: the first row of a key governs
            self.setdefault(row.policy_key_value, row)

    def require(self, key: Any = None) -> PolicyRow:
        try:
            return self[key]
        except KeyError:
            raise PolicyMissing(self.model, key, self.region_code, self.day) from None


def rows_in_force(rows: Iterable[PolicyRow], day: dt.date, region_code: str = "") -> list[PolicyRow]:
    """`PolicyQuerySet.in_force` over rows already loaded (a batch over many days and regions)."""
    codes = covering_codes(region_code)
    live = [
        r
        for r in rows
        if r.region_code in codes
        and r.effective_from <= day
        and (r.effective_to is None or day <= r.effective_to)
    ]
    return sorted(live, key=lambda r: (codes.index(r.region_code), r.effective_from, r.pk or 0), reverse=True)


def governing(
    model: type[PolicyRow], rows: Iterable[PolicyRow], day: dt.date, region_code: str = ""
) -> Governing:
    """`PolicyQuerySet.governing` over rows already loaded."""
    return Governing(model, rows_in_force(rows, day, region_code), day, region_code)


class PolicyQuerySet(ScopedQuerySet):
    scope = Scope(everyone=True)  # policy is published to every user

    def in_force(self, day: dt.date, region_code: str = "") -> PolicyQuerySet:
        """The rows in force on `day` for `region_code` ("" asks for nationwide rows only), most specific
        region first, then latest effective_from."""
        codes = covering_codes(region_code)
        specificity = Case(
            *(When(region_code=code, then=Value(i)) for i, code in enumerate(codes)),
            output_field=IntegerField(),
        )
        return (
            self.filter(region_code__in=codes, effective_from__lte=day)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
            .annotate(specificity=specificity)
            .order_by("-specificity", "-effective_from", "-pk")
        )

    def governing(self, day: dt.date, region_code: str = "") -> Governing:
        return Governing(self.model, self.in_force(day, region_code), day, region_code)

    def require(self, day: dt.date, region_code: str = "", key: Any = None) -> PolicyRow:
        """The row of `key` that governs on `day` for `region_code`, or PolicyMissing."""
        rows = self if key is None else self.filter(**{self.model.policy_key: key})
        return rows.governing(day, region_code).require(key)


class PolicyRow(TimeStampedModel):
    """An effective-dated, regional policy row with its source citation."""

    # The field naming one policy (rows with the same value compete for the day and region); None when
    # a model holds one policy per region (a licence or deadline setting).
    policy_key: ClassVar[str | None] = None

    region_code = models.CharField(
        _("适用地区代码"),
        max_length=6,
        blank=True,
        validators=[RegexValidator(r"^[0-9]{6}$", _("地区代码为6位数字（GB/T 2260）"))],
        help_text=_("GB/T 2260 代码；空白为全国，否则含下级地区"),
    )
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(_("失效日期"), null=True, blank=True, help_text=_("空白为长期有效"))
    source = models.CharField(_("依据"), max_length=300)

    objects = PolicyQuerySet.as_manager()

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="%(app_label)s_%(class)s_ends_after_start",
            )
        ]

    @property
    def policy_key_value(self) -> Any:
        return getattr(self, self.policy_key) if self.policy_key else None

    def clean(self) -> None:
        super().clean()
        if self.effective_to and self.effective_from and self.effective_to < self.effective_from:
            raise ValidationError({"effective_to": _("失效日期早于生效日期")})
