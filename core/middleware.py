import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from . import memo as core_memo
from .excel import limits_for, megabytes

_request_id: ContextVar[str] = ContextVar("request_id", default="-")
_VALID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def current_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str):
    """Bind a request id for code outside a web request (tasks, commands); returns the reset token."""
    return _request_id.set(value)


def reset_request_id(token) -> None:
    _request_id.reset(token)


class RequestIdMiddleware:
    """Gives every request an id (the proxy's X-Request-ID when well-formed) for logs and the audit trail,
    and its memo of policy lookups (core.memo)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _VALID.match(incoming) else uuid.uuid4().hex
        token, memo = _request_id.set(request.request_id), core_memo.begin()
        try:
            response = self.get_response(request)
        finally:
            core_memo.end(memo)
            _request_id.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record):
        record.request_id = _request_id.get()
        return True


class UploadLimitMiddleware:
    """Refuses a request body larger than its view accepts, by its Content-Length, before anything reads
    it (the CSRF check that follows reads the POST): a view marked with core.excel.upload_channel gets
    that channel's byte limit, any other view settings.UPLOAD_MAX_BYTES; both with FORM_OVERHEAD for the
    form's other fields and multipart boundaries. The guarded reader checks the file's exact size again.
    (The WSGI server never hands Django more than Content-Length bytes, so the header cannot understate.)"""

    FORM_OVERHEAD = 64 * 1024

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        channel = getattr(view_func, "upload_channel", None)
        limit = limits_for(channel).bytes if channel else settings.UPLOAD_MAX_BYTES
        if length <= limit + self.FORM_OVERHEAD:
            return None
        message = _("上传内容为 %(size)s MB，超过上限 %(limit)s MB，未读取也未保存任何数据。") % {
            "size": megabytes(length),
            "limit": megabytes(limit),
        }
        if request.path.startswith("/api/"):
            return JsonResponse({"code": "too_large", "detail": message, "errors": {}}, status=413)
        return render(request, "413.html", {"message": message}, status=413)


class AppErrorMiddleware:
    """A page view that lets an AppError escape (a period that does not exist, a template missing for
    it, an id that is not a number) answers with the error's status and message instead of a 500: the
    web's counterpart of the API's one error handler (which handles the API's own views first)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        """A NUL character in the path or query string cannot be stored or looked up (PostgreSQL refuses
        it in text): a 400 here, before any view passes it to the database."""
        query = request.META.get("QUERY_STRING", "").lower()
        if "\x00" in request.path or "%00" in query or any("\x00" in str(v) for v in view_kwargs.values()):
            from .exceptions import AppError

            return self.process_exception(
                request,
                AppError(
                    _("地址中不能含有 NUL 字符"),
                ),
            )
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from .exceptions import AppError

        if not isinstance(exception, AppError):
            return None
        if request.path.startswith("/api/"):
            body = {"code": exception.code, "detail": str(exception.message), "errors": exception.errors}
            return JsonResponse({**exception.extra, **body}, status=exception.status)
        return render(
            request,
            "app_error.html",
            {"message": exception.message, "errors": exception.errors, "status": exception.status},
            status=exception.status,
        )


class ExportAuditMiddleware:
    """Every download the portal writes (a response sent as an attachment: the xlsx/CSV exports of
    core.excel, the filled templates, the public CSVs) leaves an audit event: who, which file, from
    which page, with which filters. One hook for every export view, present and future."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        disposition = response.get("Content-Disposition", "")
        if response.status_code == 200 and disposition.startswith("attachment"):
            from . import audit  # models: imported once the app registry is ready

            user = getattr(request, "user", None)
            audit.record_event(
                actor=user if user is not None and user.is_authenticated else None,
                action=audit.Action.EXPORT,
                what=_filename(disposition) or request.path,
                changes={"path": request.path, "filters": {k: v for k, v in request.GET.lists()}},
            )
        return response


def _filename(disposition: str) -> str:
    from urllib.parse import unquote

    star = re.search(r"filename\*=utf-8''([^;]+)", disposition, re.I)
    if star:
        return unquote(star.group(1))
    plain = re.search(r'filename="?([^";]+)"?', disposition)
    return plain.group(1) if plain else ""
