from decimal import Decimal

import pytest

from core.templatetags.portal import money, pct


@pytest.mark.parametrize(("value", "shown"), [
    (Decimal("82000"), "82,000.00"), ("1234567.891", "1,234,567.89"), (Decimal("-5.5"), "-5.50"),
    (None, "—"), ("", "—"), ("abc", "—"),
])
def test_money(value, shown):
    assert money(value) == shown


@pytest.mark.parametrize(("value", "shown"), [
    (Decimal("0.0125"), "1.25%"), ("1", "100.00%"), (Decimal("0.5"), "50.00%"), (None, "—"),
])
def test_pct(value, shown):
    assert pct(value) == shown
