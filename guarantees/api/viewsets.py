"""Bulk API of loan-level records: POST /api/v1/guarantees/batches/ (JSON arrays `guarantees` and
`events`), POST …/batches/upload/ (a file, multipart: one request content type per operation, so a
client generated from the schema works), GET …/batches/ and …/batches/{id}/ (status, progress, findings), POST
…/batches/{id}/confirm/ (confirm magnitude warnings), GET …/batches/{id}/report.xlsx (the error report).
The same services as the upload page: one validation for every channel."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from core.excel import attachment
from core.exceptions import AppError
from core.openapi import ErrorSerializer
from institutions.models import Institution

from .. import selectors, services
from ..choices import Channel
from ..permissions import GuaranteeAPI
from . import serializers as s


def institution_for(user, credit_code: str | None) -> Institution:
    """The institution a batch is for: the one named (among those the user sees), or a company user's own."""
    if credit_code:
        return get_object_or_404(Institution.objects.for_user(user), credit_code=credit_code)
    if getattr(user, "institution_id", None):
        return user.institution
    raise AppError(
        _("请用 institution 指明机构的统一社会信用代码"),
        errors={"institution": [_("必填")]},
    )


class BatchViewSet(viewsets.GenericViewSet):
    serializer_class = s.BatchSerializer
    permission_classes = [GuaranteeAPI]
    api_key_scope = "guarantees"  # a company's API key with this scope sends batches (accounts.ApiKey)

    def get_queryset(self):
        return selectors.batches_for(self.request.user)

    @extend_schema(parameters=[s.BatchListQuerySerializer])
    def list(self, request: Request) -> Response:
        query = s.BatchListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        batches = self.get_queryset()
        if query.validated_data.get("status"):
            batches = batches.filter(status=query.validated_data["status"])
        page = self.paginate_queryset(batches)
        return self.get_paginated_response(s.BatchSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: int) -> Response:
        return Response(s.BatchSerializer(get_object_or_404(self.get_queryset(), pk=pk)).data)

    @extend_schema(
        request=s.BatchJSONSerializer,
        responses={202: s.BatchSerializer, 404: ErrorSerializer},
        description="Stage a batch of rows and queue its validation and commit; poll GET …/batches/{id}/ "
        "for the status (staged with warnings → confirm; failed → findings and the error report; committed).",
    )
    def create(self, request: Request) -> Response:
        data = s.BatchJSONSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._submit(request, data.validated_data, files=[], payload=data.validated_data)

    @extend_schema(
        request={"multipart/form-data": s.BatchFileSerializer},
        responses={202: s.BatchSerializer, 404: ErrorSerializer},
        description="Stage a batch sent as a file (xlsx with the sheets 担保明细 and 担保事件, or CSV files), "
        "then as create.",
    )
    def upload(self, request: Request) -> Response:
        data = s.BatchFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        files = [
            (f.read(), f.name)
            for f in (data.validated_data["file"], data.validated_data.get("events_file"))
            if f is not None
        ]
        return self._submit(request, data.validated_data, files=files, payload=None)

    def _submit(self, request: Request, data: dict, *, files: list, payload: dict | None) -> Response:
        institution = institution_for(request.user, data.get("institution"))
        batch = services.batch_submit(
            actor=request.user,
            institution=institution,
            channel=Channel.API,
            files=files,
            payload=payload,
        )
        batch = self.get_queryset().get(pk=batch.pk)
        return Response(s.BatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: s.BatchSerializer, 409: ErrorSerializer})
    def confirm(self, request: Request, pk: int) -> Response:
        batch = get_object_or_404(self.get_queryset(), pk=pk)
        services.batch_confirm(actor=request.user, batch=batch)
        return Response(
            s.BatchSerializer(self.get_queryset().get(pk=pk)).data, status=status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        responses={
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiResponse(
                OpenApiTypes.BINARY
            )
        }
    )
    def report(self, request: Request, pk: int) -> HttpResponse:
        batch = get_object_or_404(self.get_queryset(), pk=pk)
        return attachment(selectors.batch_error_report(batch), f"担保明细校验结果-{batch.pk}.xlsx")
