"""The one application error, and the one shape every API error takes.

Services refuse an action by raising `AppError` (or a subclass that carries domain detail, such as
reporting's `FilingError` with its validation findings). Web views show `message` through the messages
framework or as form errors; the API renders it through `api_exception_handler`, which gives the errors
DRF and Django raise themselves (validation, permission, not found, authentication, throttling) the
same body:

    {"code": "invalid", "detail": "无权执行该操作", "errors": {"field": ["必填"]}, ...extra}

`code` is a stable machine string; `detail` is one readable sentence; `errors` maps a field (dotted
for nested input, e.g. "licences.0") to its messages and is empty when the error is not about fields.

Every message is in one language, the reader's: the Chinese source string through gettext
(`_("无权执行该操作")`, English in locale/en), chosen by the request's language (Accept-Language for the
API, the language switch for pages; Chinese by default). A message with values keeps named placeholders
(`_("报告期 %(p)s 尚未开始") % {"p": period}`) so that each language can order them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.functional import Promise, lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

STATUS_BY_CODE = {"invalid": 400, "forbidden": 403, "not_found": 404, "conflict": 409}

# The detail shown when an error brings no message of its own (DRF's messages that name the method or
# media type are kept). A Django Http404 always gets the default: get_object_or_404's message names the
# model, in English only.
DEFAULT_DETAIL = {
    "invalid": _("输入有误，请检查各字段"),
    "not_authenticated": _("请先登录或提供有效的令牌"),
    "forbidden": _("无权执行该操作"),
    "not_found": _("未找到，或无权查看"),
    "not_acceptable": _("无法提供所请求的格式"),
    "throttled": _("请求过于频繁，请稍后再试"),
}

# DRF's own codes for the same statuses, renamed so that one status has one code.
_DRF_CODES = {
    "parse_error": "invalid",
    "authentication_failed": "not_authenticated",
    "permission_denied": "forbidden",
}
_NON_FIELD_KEYS = ("", api_settings.NON_FIELD_ERRORS_KEY, "__all__")

Text = str | Promise


def pick_language(zh: str, en: str) -> str:
    """Of a text kept as data in two languages (a stored finding, a field's notes), the one for the
    active language: English for English readers, Chinese for everyone else. Messages written in the
    code go through gettext instead (`deferred` when the message is made before it is shown)."""
    return en if (get_language() or "").startswith("en") else zh


@dataclass(frozen=True)
class Bilingual:
    """A name kept as data in both languages (a spreadsheet column's header, a field's label), for a
    message param: `%(label)s` shows it in the language active when the message is rendered, so the
    msgid and its translation carry the same placeholders. core.stored_text keeps both halves."""

    zh: str
    en: str

    def __str__(self) -> str:
        return str(pick_language(self.zh, self.en))


def _fill(message: Text, params: Mapping[str, Any]) -> str:
    text = str(message)
    return text % {k: str(v) if isinstance(v, Promise) else v for k, v in params.items()} if params else text


_fill_later = lazy(_fill, str)


def deferred(message: Text, /, **params: Any) -> Promise:
    """`message` (a `gettext_lazy` Chinese source with %(name)s placeholders) filled with `params`, in the
    language active each time it is turned into text: for a message made before it is shown, or shown
    in both languages (an upload problem, a number that cannot be read). A param may be deferred too."""
    return _fill_later(message, params)


class AppError(Exception):
    """A refused action: what went wrong (`code`), why (`message`, in the reader's language), the fields
    at fault (`errors`: field → messages) and any domain payload for API clients (`extra`)."""

    def __init__(
        self,
        message: Text,
        *,
        code: str = "invalid",
        errors: Mapping[str, Sequence[Text]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        if code not in STATUS_BY_CODE:
            raise ValueError(f"unknown error code {code!r}; use one of {sorted(STATUS_BY_CODE)}")
        super().__init__(message)
        self.message = message
        self.code = code
        self.errors = {field: [str(m) for m in messages] for field, messages in (errors or {}).items()}
        self.extra = dict(extra or {})

    @property
    def status(self) -> int:
        return STATUS_BY_CODE[self.code]

    def __str__(self) -> str:
        return str(self.message)


def _body(
    code: str, detail: Text, errors: Mapping[str, list[str]] | None = None, extra: Mapping | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "detail": str(detail), "errors": dict(errors or {})}
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    return body


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail (dicts of lists, lists of dicts for many=True) → {dotted field: [messages]}."""
    if isinstance(detail, Mapping):
        items = detail.items()
    elif isinstance(detail, list) and any(isinstance(item, Mapping | list) for item in detail):
        items = enumerate(detail)
    else:
        messages = detail if isinstance(detail, list) else [detail]
        return {prefix: [str(m) for m in messages]}
    out: dict[str, list[str]] = {}
    for key, value in items:
        for field, messages in _flatten(value, f"{prefix}.{key}" if prefix else str(key)).items():
            out.setdefault(field, []).extend(messages)
    return out


def _drf_body(exc: drf.APIException) -> dict[str, Any]:
    code = _DRF_CODES.get(exc.default_code, exc.default_code)
    if isinstance(exc, drf.ValidationError):
        errors = _flatten(exc.detail)
        general = [m for key in _NON_FIELD_KEYS for m in errors.pop(key, [])]
        return _body(code, " ".join(general) or DEFAULT_DETAIL["invalid"], errors)
    custom = str(exc.detail) != str(exc.default_detail)
    return _body(code, exc.detail if custom else DEFAULT_DETAIL.get(code, exc.detail))


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """settings.REST_FRAMEWORK["EXCEPTION_HANDLER"]: every API error in the one body. Anything else
    (a bug) is left to Django's 500 handling."""
    if isinstance(exc, AppError):
        set_rollback()
        return Response(_body(exc.code, exc.message, exc.errors, exc.extra), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = drf.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = drf.NotFound()  # not get_object_or_404's "No Institution matches the given query."
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied(*exc.args)
    # DRF's own handler sets the status, the headers (WWW-Authenticate, Retry-After) and the rollback
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = _drf_body(exc)
    return response
