from decimal import Decimal

import pytest
from django.utils import translation

from core.templatetags.portal import in_reader_language, money, pct


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("82000"), "82,000.00"),
        ("1234567.891", "1,234,567.89"),
        (Decimal("-5.5"), "-5.50"),
        (Decimal("-0.004"), "0.00"),
        (None, "—"),
        ("", "—"),
        ("abc", "—"),
    ],
)
def test_money(value, shown):
    assert money(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("0.0125"), "1.25%"),
        ("1", "100.00%"),
        (Decimal("0.5"), "50.00%"),
        (Decimal("-0.00004"), "0.00%"),
        (None, "—"),
    ],
)
def test_pct(value, shown):
    assert pct(value) == shown


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (Decimal("0.0145"), "percent", "1.45%"),
        (Decimal("12.511811"), "ratio", "12.51 倍"),
        (Decimal("-0.004"), "wan_yuan", "0.00"),
        (Decimal("548740.97"), "wan_yuan", "548,740.97"),
        (Decimal("1"), "boolean", "是"),
        (None, "percent", "—"),
    ],
)
def test_indicator_values_use_the_same_formats(value, unit, shown):
    from supervision.templatetags.indicator_tags import ind_value

    assert ind_value(value, unit) == shown


REASONS = "一般线：费率2.1%高于2% / fee 2.1% above 2%；农村线：业务品种不符 / product line not covered"


@pytest.mark.parametrize(
    ("language", "text", "shown"),
    [
        ("zh-hans", REASONS, "一般线：费率2.1%高于2%；农村线：业务品种不符"),
        ("en", REASONS, "一般线: fee 2.1% above 2%; 农村线: product line not covered"),
        ("zh-hans", "解保 / released", "解保"),
        ("en", "解保 / released", "released"),
        ("en", "业务明细与合同一致", "业务明细与合同一致"),  # one language already: as it is
        ("zh-hans", None, ""),
    ],
)
def test_bilingual_stored_text_in_the_readers_language(language, text, shown):
    with translation.override(language):
        assert in_reader_language(text) == shown
