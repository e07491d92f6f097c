"""A scheme's amount parameters (`Scheme.params`, JSON) read and checked per scheme kind. Numbers are
decimal strings; every error names the parameter, in Chinese and English. No expression a user writes
is ever evaluated: the parameters only fill in the formulas of calculations.py.

fee_subsidy:        {"day_basis": 365, "institution_cap": null | "万元", "yearly_points": {"2025": "0.005"},
                     "lines": [{"key", "label", "points" (null: the year's yearly_points), "fee_rate_max",
                                "product_lines": [], "client_types": [], "single_client_max": null,
                                "gov_backed_only": false, "govlist_only": false}]}
award_pool:         {"bands": [{"rate_max", "coefficient"}], "eligible_fee_max"} — the pool is the budget
risk_compensation:  {"bands": [{"upper", "share", "upper_inclusive"}], "method": "marginal" | "whole",
                     "gov_backed_only": true, "govlist_only": true}
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from core.exceptions import AppError
from core.stored_text import Message

from .calculations import CoefficientBand, CompensationBand, FeeLine
from .choices import CompensationMethod, SchemeKind


def _invalid(path: str, problem: str) -> AppError:
    # a Message: stored as an application's reason, it shows in each reader's language
    message = Message("补贴参数 %(path)s：%(problem)s", path=path, problem=problem)
    return AppError(message, errors={"params": [message]})


def _dec(value: Any, path: str, *, minimum: Decimal = Decimal(0), maximum: Decimal | None = None) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _invalid(path, Message("“%(value)s”不是数字", value=value)) from None
    if not number.is_finite() or number < minimum or (maximum is not None and number > maximum):
        bound = f"{minimum}–{maximum}" if maximum is not None else f"≥ {minimum}"
        raise _invalid(path, Message("应在 %(bound)s 之间", bound=bound))
    return number


def _list(params: dict, key: str) -> list:
    value = params.get(key)
    if not isinstance(value, list) or not value:
        raise _invalid(key, Message("至少需要一项"))
    return value


def fee_lines(params: dict, year: int | None = None) -> list[FeeLine]:
    """The lines of a fee-subsidy scheme; with `year`, a line without its own points takes the year's
    `yearly_points` (a missing year is an error naming it: the bureau has not set that year's rate)."""
    lines = []
    for i, raw in enumerate(_list(params, "lines")):
        path = f"lines[{i}]"
        if not isinstance(raw, dict):
            raise _invalid(path, Message("应为对象"))
        points = raw.get("points")
        if points in (None, ""):
            yearly = params.get("yearly_points") or {}
            if year is None:
                points = Decimal(0)
            elif str(year) not in yearly:
                raise _invalid("yearly_points", Message("未设定%(year)s年度的补贴比例", year=year))
            else:
                points = _dec(yearly[str(year)], f"yearly_points.{year}", maximum=Decimal("0.1"))
        else:
            points = _dec(points, f"{path}.points", maximum=Decimal("0.1"))
        cap = raw.get("single_client_max")
        lines.append(
            FeeLine(
                key=str(raw.get("key") or f"line{i + 1}"),
                label=str(raw.get("label") or f"line{i + 1}"),
                points=points,
                fee_rate_max=_dec(raw.get("fee_rate_max"), f"{path}.fee_rate_max", maximum=Decimal(1)),
                product_lines=tuple(raw.get("product_lines") or ()),
                client_types=tuple(raw.get("client_types") or ()),
                single_client_max=None if cap in (None, "") else _dec(cap, f"{path}.single_client_max"),
                gov_backed_only=bool(raw.get("gov_backed_only")),
                govlist_only=bool(raw.get("govlist_only")),
            )
        )
    return lines


def day_basis(params: dict) -> int:
    basis = params.get("day_basis", 365)
    if basis not in (360, 365):
        raise _invalid("day_basis", Message("计息天数基准应为 365 或 360"))
    return basis


def institution_cap(params: dict) -> Decimal | None:
    cap = params.get("institution_cap")
    return None if cap in (None, "") else _dec(cap, "institution_cap")


def coefficient_bands(params: dict) -> list[CoefficientBand]:
    return [
        CoefficientBand(
            rate_max=_dec(b.get("rate_max"), f"bands[{i}].rate_max", maximum=Decimal(1)),
            coefficient=_dec(b.get("coefficient"), f"bands[{i}].coefficient", maximum=Decimal(100)),
        )
        for i, b in enumerate(_list(params, "bands"))
    ]


def compensation_bands(params: dict) -> list[CompensationBand]:
    bands = [
        CompensationBand(
            upper=_dec(b.get("upper"), f"bands[{i}].upper", maximum=Decimal(1)),
            share=_dec(b.get("share"), f"bands[{i}].share", maximum=Decimal(1)),
            upper_inclusive=bool(b.get("upper_inclusive")),
        )
        for i, b in enumerate(_list(params, "bands"))
    ]
    uppers = [b.upper for b in bands]
    if uppers != sorted(uppers) or len(set(uppers)) != len(uppers):
        raise _invalid("bands", Message("档次上限应逐档递增"))
    return bands


def compensation_method(params: dict) -> str:
    method = params.get("method", CompensationMethod.MARGINAL)
    if method not in CompensationMethod.values:
        raise _invalid("method", Message("计算方法应为 marginal 或 whole"))
    return method


def validate(kind: str, params: Any) -> dict:
    """Check `params` for `kind`; returns them unchanged, or AppError naming the parameter."""
    if not isinstance(params, dict):
        raise _invalid("params", Message("应为 JSON 对象"))
    if kind == SchemeKind.FEE_SUBSIDY:
        fee_lines(params)
        day_basis(params)
        institution_cap(params)
        for year, value in (params.get("yearly_points") or {}).items():
            _dec(value, f"yearly_points.{year}", maximum=Decimal("0.1"))
    elif kind == SchemeKind.AWARD_POOL:
        coefficient_bands(params)
    elif kind == SchemeKind.RISK_COMPENSATION:
        compensation_bands(params)
        compensation_method(params)
    else:
        raise _invalid("kind", Message("未知的政策类型"))
    return params
