"""The OpenAPI schema (drf-spectacular) documents the one error body (core.exceptions) on every operation."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ComponentRegistry
from rest_framework import serializers

from .permissions import PublicAPI

ERROR_CODES = [
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


class ErrorSerializer(serializers.Serializer):
    """Every API error. An endpoint may add keys of its own (a filing adds `findings`)."""

    code = serializers.ChoiceField(
        choices=ERROR_CODES,
        help_text="stable machine code (400 invalid, 403 forbidden, 404 not_found, 409 conflict)",
    )
    detail = serializers.CharField(
        help_text="one readable sentence in the language asked for (Accept-Language; Chinese by default)"
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='field (dotted when nested, e.g. "licences.0") → messages; empty when no field is at fault',
    )


class ErrorDocumentingAutoSchema(AutoSchema):
    """Adds the error responses every operation of its kind can give, unless the view documents its own:
    400 when it takes input (a body or query parameters), 401 and 403 unless anyone may call it, 404 when
    it addresses an object by path or pages a list, 429 when it is throttled. A view that can refuse with
    409 (a state conflict) declares it."""

    def get_operation(
        self, path: str, path_regex: str, path_prefix: str, method: str, registry: ComponentRegistry
    ) -> dict | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        where = {p["in"] for p in operation.get("parameters", [])}
        statuses = []
        if "requestBody" in operation or "query" in where:
            statuses.append("400")
        if not all(issubclass(p, PublicAPI) for p in self.view.permission_classes):
            statuses += ["401", "403"]
        # by path; or a page number past the last page of a paginated list (DRF's "invalid page")
        if "path" in where or (method == "GET" and self._is_list_view() and self.view.pagination_class):
            statuses.append("404")
        if self.view.throttle_classes:  # e.g. the token endpoint's login throttle
            statuses.append("429")
        for status in statuses:
            operation["responses"].setdefault(status, self._get_response_for_code(ErrorSerializer, status))
        return operation
