"""Filings API: GET/POST /api/v1/filings/ (list; create or replace the draft), GET /api/v1/filings/{id}/,
POST /api/v1/filings/{id}/submit/, POST /api/v1/filings/check/ (dry run: the findings a submission would get)
— the same services and rules as the web form and the Excel upload. A refused action is a FilingError, rendered by core.exceptions with the findings behind it."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.openapi import ErrorSerializer
from core.permissions import SignedInAPI
from institutions.models import Institution

from .. import reconciliation, selectors, services
from ..choices import Channel
from ..models import Filing
from ..validation import Finding
from . import serializers as s

# refusals by the filing services carry the findings behind them; 409: the filing is no longer a draft
REFUSALS = {400: s.FilingErrorSerializer, 409: s.FilingErrorSerializer}


class FilingViewSet(viewsets.GenericViewSet):
    """Quarterly filings, addressed by id; the institution is named by its credit code."""

    serializer_class = s.FilingSerializer
    permission_classes = [SignedInAPI]  # the services decide who prepares, submits and reviews
    api_key_scope = "filings"  # a company's API key with this scope files and submits (accounts.ApiKey)

    def get_queryset(self) -> QuerySet[Filing]:
        return (
            selectors.filings_for(self.request.user)
            .select_related("template")
            .order_by("-year", "-quarter", "pk")
        )

    def _result(self, filing: Filing, findings: list[Finding], *, created: bool = False) -> Response:
        filing = Filing.objects.select_related("institution", "template", "current_version").get(pk=filing.pk)
        body = s.FilingResultSerializer(filing, context={"findings": findings}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(parameters=[s.FilingQuerySerializer])
    def list(self, request: Request) -> Response:
        query = s.FilingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filings = self.get_queryset()
        period = query.validated_data.get("period")
        if period:
            filings = filings.filter(year=period.year, quarter=period.quarter)
        page = self.paginate_queryset(filings)
        return self.get_paginated_response(s.FilingSerializer(page, many=True).data)

    @extend_schema(
        request=s.FilingWriteSerializer,
        responses={
            200: s.FilingResultSerializer,
            201: s.FilingResultSerializer,
            404: ErrorSerializer,  # the institution is not one the caller may file for
            **REFUSALS,
        },
        description="Create (201) or replace (200) the open draft of the institution for the period.",
    )
    def create(self, request: Request) -> Response:
        data = s.FilingWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        institution = get_object_or_404(
            Institution.objects.for_user(request.user), credit_code=data.validated_data["institution"]
        )
        period = data.validated_data["period"]
        filing, _version, findings = services.filing_save_draft(
            actor=request.user,
            institution=institution,
            period=period,
            values=data.validated_data["values"],
            nil_return=data.validated_data["nil_return"],
            channel=Channel.API,
        )
        # 201 only to the call that created the filing (50 parallel creates: one 201, the rest 200 or 409)
        return self._result(filing, findings, created=filing.created_now)

    @extend_schema(
        request=s.CheckSerializer,
        responses={200: s.CheckResultSerializer, 400: s.FilingErrorSerializer, 404: ErrorSerializer},
        description="Dry run: the findings a submission of these values would get (the same rules, "
        "comparisons and ruleset version as submit), and why it would be refused; nothing is stored.",
    )
    @action(detail=False, methods=["post"])
    def check(self, request: Request) -> Response:
        data = s.CheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        institution = get_object_or_404(
            Institution.objects.for_user(request.user), credit_code=data.validated_data["institution"]
        )
        period = data.validated_data["period"]
        values, findings, ruleset, refusals = services.filing_dry_run(
            actor=request.user,
            institution=institution,
            period=period,
            values=data.validated_data["values"],
            nil_return=data.validated_data["nil_return"],
            explanations=data.validated_data["explanations"],
        )
        body = {
            "institution": institution.credit_code,
            "period": str(period),
            "values": values,
            "nil_return": data.validated_data["nil_return"],
            "ruleset_version": ruleset,
            "findings": [f.as_dict() for f in findings],
            "submittable": not refusals,
            "refusals": refusals,
        }
        return Response(s.CheckResultSerializer(body).data)

    @extend_schema(responses=s.FilingDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        filing = self.get_object()
        v = filing.current_version
        if v is not None and v.is_frozen:
            findings = [Finding(**f) for f in v.findings]
        else:
            findings, _rs = services.check(
                institution_id=filing.institution_id,
                period=filing.period,
                values=v.values if v else {},
                nil_return=bool(v and v.nil_return),
                template=filing.template,
            )
        return Response(s.FilingDetailSerializer(filing, context={"findings": findings}).data)

    @extend_schema(request=s.SubmitSerializer, responses={200: s.FilingResultSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        filing = self.get_object()
        data = s.SubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.filing_submit(
            actor=request.user, filing=filing, explanations=data.validated_data["explanations"]
        )
        return self._result(filing, [Finding(**f) for f in version.findings])

    @extend_schema(responses=s.ReconciliationSerializer)
    @action(detail=True, methods=["get"])
    def reconciliation(self, request: Request, pk: str) -> Response:
        """The filed figures beside those derived from the loan-level records, with the findings beyond
        tolerance, the company's explanations and the REL-01 guarantees."""
        filing = self.get_object()
        filing = Filing.objects.select_related("institution", "template", "current_version").get(pk=filing.pk)
        version = filing.current_version
        rec = reconciliation.for_filing(filing, version)
        explanations = (version.explanations or {}) if version else {}
        body = {
            "filing": filing.pk,
            "institution": filing.institution.credit_code,
            "period": str(filing.period),
            "version": version.number if version else None,
            "period_end": rec.period_end,
            "has_records": rec.has_records,
            "lines": [line.as_dict() for line in rec.lines],
            "findings": [f.as_dict() for f in rec.findings],
            "explanations": {
                f.rule_id: explanations[f.rule_id] for f in rec.findings if f.rule_id in explanations
            },
            "controller_guarantees": rec.controller_guarantees,
        }
        return Response(s.ReconciliationSerializer(body).data)

    @extend_schema(
        request=s.PrefillSerializer,
        responses={200: s.FilingDetailSerializer, 404: ErrorSerializer, **REFUSALS},
        description="Fill the open draft with the values derived from the loan-level records; the prefill "
        "(source of each value) and any later override are kept on the version.",
    )
    @action(detail=False, methods=["post"])
    def prefill(self, request: Request) -> Response:
        data = s.PrefillSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        institution = get_object_or_404(
            Institution.objects.for_user(request.user), credit_code=data.validated_data["institution"]
        )
        filing, _version, findings = services.filing_prefill(
            actor=request.user, institution=institution, period=data.validated_data["period"]
        )
        filing = Filing.objects.select_related("institution", "template", "current_version").get(pk=filing.pk)
        return Response(s.FilingDetailSerializer(filing, context={"findings": findings}).data)
