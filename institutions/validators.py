"""Unified social credit code (统一社会信用代码), GB 32100-2015."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    return (
        len(code) == 18 and all(c in CHARSET for c in code) and credit_code_check_char(code[:17]) == code[17]
    )


def validate_credit_code(value: str) -> None:
    if not is_valid_credit_code(value or ""):
        raise ValidationError(
            _("统一社会信用代码“%(value)s”无效：应为18位且校验位符合GB 32100-2015。"),
            code="invalid_credit_code",
            params={"value": value},
        )
