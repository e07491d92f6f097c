"""Helpers shared by the registry's views."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from core.policy import Governing

from ..choices import RuleCode

PAGE_SIZE = 50


def form_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: on its field where the form has one."""
    if hasattr(exc, "error_dict"):
        for field, errs in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


def reminder_days(applicable: Governing) -> int:
    """Days before an agreement ends from which it is flagged (policy rule; PolicyMissing when none)."""
    return int(applicable.require(RuleCode.AGREEMENT_REMINDER_DAYS).value)
