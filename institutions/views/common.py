"""Helpers shared by the registry's views."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from ..choices import RuleCode

PAGE_SIZE = 50


def form_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: on its field where the form has one."""
    if hasattr(exc, "error_dict"):
        for field, errs in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


def reminder_days(applicable: dict) -> int:
    """Days before an agreement ends from which it is flagged (policy rule; 0 when none applies)."""
    rule = applicable.get(RuleCode.AGREEMENT_REMINDER_DAYS)
    return int(rule.value) if rule is not None and rule.value is not None else 0
