"""The one application error and the one API error body: what the handler makes of each kind of error,
and that the OpenAPI schema documents the body."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.http import Http404
from django.utils import translation
from rest_framework import exceptions as drf
from rest_framework.test import APIClient

from core.exceptions import AppError, api_exception_handler, pick_language


@pytest.fixture(autouse=True)
def chinese_first() -> Iterator[None]:
    """The default language; a test client request with Accept-Language: en leaves English active."""
    with translation.override("zh-hans"):
        yield


def handled(exc: Exception) -> tuple[int, dict]:
    response = api_exception_handler(exc, {})
    return response.status_code, response.data


@pytest.mark.parametrize(
    ("code", "status"), [("invalid", 400), ("forbidden", 403), ("not_found", 404), ("conflict", 409)]
)
def test_app_error_status_comes_from_its_code(code: str, status: int) -> None:
    assert handled(AppError("出错了", code=code)) == (
        status,
        {"code": code, "detail": "出错了", "errors": {}},
    )


def test_app_error_carries_field_errors_and_extra_keys_without_overriding_the_body() -> None:
    exc = AppError(
        "数据有误",
        errors={"net_assets": ["应为数字"]},
        extra={"findings": [{"rule_id": "IDN-01"}], "code": "ignored"},
    )
    assert handled(exc) == (
        400,
        {
            "code": "invalid",
            "detail": "数据有误",
            "errors": {"net_assets": ["应为数字"]},
            "findings": [{"rule_id": "IDN-01"}],
        },
    )


def test_an_unknown_code_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown error code 'teapot'"):
        AppError("x", code="teapot")


def test_django_validation_error_by_field_and_without_field() -> None:
    assert handled(ValidationError({"share_bank": ["比例有误"], "__all__": ["合计须为100%"]})) == (
        400,
        {"code": "invalid", "detail": "合计须为100%", "errors": {"share_bank": ["比例有误"]}},
    )
    assert handled(ValidationError("公告已发布。")) == (
        400,
        {"code": "invalid", "detail": "公告已发布。", "errors": {}},
    )


def test_django_permission_denied_keeps_its_message_or_gets_the_default() -> None:
    assert handled(PermissionDenied("无权管理该机构。")) == (
        403,
        {"code": "forbidden", "detail": "无权管理该机构。", "errors": {}},
    )
    assert handled(PermissionDenied()) == (
        403,
        {"code": "forbidden", "detail": "无权执行该操作", "errors": {}},
    )


def test_http404_never_repeats_the_model_name() -> None:
    assert handled(Http404("No Institution matches the given query.")) == (
        404,
        {"code": "not_found", "detail": "未找到，或无权查看", "errors": {}},
    )


def test_nested_drf_errors_are_flattened_to_dotted_fields() -> None:
    exc = drf.ValidationError(
        {
            "licences": {0: ["请填写有效的整数。"]},
            "entries": [{}, {"reason": ["该字段是必填项。"]}],
            "non_field_errors": ["批次已确认。"],
        }
    )
    assert handled(exc) == (
        400,
        {
            "code": "invalid",
            "detail": "批次已确认。",
            "errors": {"licences.0": ["请填写有效的整数。"], "entries.1.reason": ["该字段是必填项。"]},
        },
    )


def test_drf_codes_are_renamed_to_ours() -> None:
    assert handled(drf.AuthenticationFailed())[1]["code"] == "not_authenticated"
    assert handled(drf.PermissionDenied())[1]["code"] == "forbidden"
    assert handled(drf.ParseError())[1]["code"] == "invalid"
    status, body = handled(drf.Throttled(wait=5))
    assert (status, body["code"]) == (429, "throttled")


def test_anything_else_is_left_to_the_500_handler() -> None:
    assert api_exception_handler(KeyError("bug"), {}) is None


def test_english_readers_get_english() -> None:
    with translation.override("en"):
        assert handled(Http404())[1]["detail"] == "Not found, or not visible to you."
        assert pick_language("应为数字", "must be a number") == "must be a number"
    assert pick_language("应为数字", "must be a number") == "应为数字"


@pytest.mark.django_db
def test_api_error_in_english_by_accept_language(users) -> None:
    client = APIClient()
    client.force_authenticate(users["my_filer"])
    response = client.get("/api/v1/institutions/91510104MA00000000/indicators/", HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response.json()) == (
        404,
        {"code": "not_found", "detail": "Not found, or not visible to you.", "errors": {}},
    )


def test_schema_validates_and_documents_the_error_body(tmp_path: Path) -> None:
    path = tmp_path / "schema.yaml"
    call_command("spectacular", validate=True, fail_on_warn=True, file=str(path))
    schema = yaml.safe_load(path.read_text(encoding="utf-8"))
    components = schema["components"]["schemas"]
    assert list(components["Error"]["properties"]) == ["code", "detail", "errors"]
    assert components["ErrorCodeEnum"]["enum"] == [
        "invalid",
        "not_authenticated",
        "forbidden",
        "not_found",
        "conflict",
        "method_not_allowed",
        "not_acceptable",
        "unsupported_media_type",
        "throttled",
    ]
    assert list(components["FilingError"]["properties"]) == ["code", "detail", "errors", "findings"]

    def errors(path: str, method: str) -> dict[str, str]:
        responses = schema["paths"][path][method]["responses"]
        return {
            status: r["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            for status, r in responses.items()
            if status >= "400"
        }

    assert errors("/api/v1/filings/{id}/submit/", "post") == {
        "400": "FilingError",
        "401": "Error",
        "403": "Error",
        "404": "Error",
        "409": "FilingError",
    }
    assert errors("/api/v1/institutions/{credit_code}/thresholds/", "get") == {
        "400": "Error",
        "401": "Error",
        "403": "Error",
        "404": "Error",
    }
    assert errors("/api/v1/institutions/{credit_code}/", "get") == {
        "401": "Error",
        "403": "Error",
        "404": "Error",
    }
    # anyone may ask for a token, not too often
    assert errors("/api/v1/auth/token/", "post") == {"400": "Error", "429": "Error"}
    assert [
        p for p in schema["paths"] if "{institution_id}" in p
    ] == []  # the old id paths are not documented
