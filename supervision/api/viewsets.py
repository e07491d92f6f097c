"""Indicator API: a filing's indicators with breaches, an institution's time series, and the
thresholds in force for an institution on a date. Filings are addressed by id, institutions by credit
code; every lookup goes through `for_user`, so a row outside the caller's scope is a 404."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from core.exceptions import AppError
from core.permissions import SignedInAPI
from institutions.models import Institution
from institutions.selectors import government_backed_ids
from reporting.models import Filing
from reporting.periods import Period

from .. import indicators as ind
from ..models import IndicatorRun, IndicatorValue
from ..selectors import filing_results
from ..services.compute import thresholds_in_force

CREDIT_CODE = OpenApiParameter(
    "credit_code", OpenApiTypes.STR, OpenApiParameter.PATH, description=gettext_lazy("统一社会信用代码")
)


def _dec(value: object) -> str | None:
    return None if value is None else str(value)


def _institution(request: Request, credit_code: str) -> Institution:
    return get_object_or_404(Institution.objects.for_user(request.user), credit_code=credit_code)


def _breach_schema():
    return inline_serializer(
        "IndicatorBreach",
        {
            "threshold": serializers.IntegerField(),
            "code": serializers.CharField(),
            "comparator": serializers.CharField(),
            "limit": serializers.CharField(),
            "severity": serializers.CharField(),
        },
        many=True,
    )


def _indicator_schema():
    return inline_serializer(
        "FilingIndicator",
        {
            "code": serializers.CharField(),
            "value": serializers.CharField(allow_null=True),
            "unit": serializers.CharField(),
            "breaches": _breach_schema(),
        },
        many=True,
    )


class FilingIndicatorViewSet(viewsets.ViewSet):
    """GET /api/v1/filings/{filing_pk}/indicators/ → [{code, value (decimal string or null), unit, breaches}]."""

    permission_classes = [SignedInAPI]
    api_key_scope = "indicators"  # read-only: a company key reads its own (accounts.ApiKey)

    @extend_schema(
        parameters=[OpenApiParameter("filing_pk", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses=_indicator_schema(),
    )
    def list(self, request: Request, filing_pk: str) -> Response:
        filing = get_object_or_404(Filing.objects.for_user(request.user), pk=filing_pk)
        values, found = filing_results(filing)
        breaches = {
            code: [
                {
                    "threshold": b.threshold_id,
                    "code": b.threshold.code,
                    "comparator": b.comparator,
                    "limit": _dec(b.limit),
                    "severity": b.severity,
                }
                for b in rows
            ]
            for code, rows in found.items()
        }
        return Response(
            [
                {
                    "code": code,
                    "value": _dec(values.get(code)),
                    "unit": definition.unit,
                    "breaches": breaches.get(code, []),
                }
                for code, definition in ind.INDICATORS.items()
                if code in values
            ]
        )


class InstitutionIndicatorViewSet(viewsets.ViewSet):
    """GET /api/v1/institutions/{credit_code}/indicators/?code=leverage&code=… → [{period, code, value}]
    by period."""

    permission_classes = [SignedInAPI]
    api_key_scope = "indicators"  # read-only: a company key reads its own (accounts.ApiKey)

    @extend_schema(
        parameters=[
            CREDIT_CODE,
            OpenApiParameter(
                "code", OpenApiTypes.STR, many=True, description="indicator codes (default all)"
            ),
        ],
        responses=inline_serializer(
            "IndicatorPoint",
            {
                "period": serializers.CharField(),
                "filing": serializers.IntegerField(),
                "code": serializers.CharField(),
                "value": serializers.CharField(allow_null=True),
            },
            many=True,
        ),
    )
    def list(self, request: Request, credit_code: str) -> Response:
        institution = _institution(request, credit_code)
        codes = request.query_params.getlist("code")
        unknown = [c for c in codes if c not in ind.INDICATORS]
        if unknown:
            raise AppError(
                _("查询参数有误"),
                errors={"code": [_("未知指标：%(code)s") % {"code": ", ".join(unknown)}]},
            )
        # through its filings: the values' primary key (filing, code) serves it, no index on institution
        qs = IndicatorValue.objects.for_user(request.user).filter(filing__institution=institution)
        if codes:
            qs = qs.filter(code__in=codes)
        rows = qs.order_by("year", "quarter", "code").values_list(
            "year", "quarter", "filing_id", "code", "value"
        )
        return Response(
            [
                {"period": str(Period(y, q)), "filing": f, "code": c, "value": _dec(v)}
                for y, q, f, c, v in rows
            ]
        )


class InstitutionThresholdViewSet(viewsets.ViewSet):
    """GET /api/v1/institutions/{credit_code}/thresholds/?on=YYYY-MM-DD → the thresholds that apply to the
    institution on that date (its region, government-backed status then, and the small-business
    focus of its filing for that quarter when computed)."""

    permission_classes = [SignedInAPI]

    @extend_schema(
        parameters=[
            CREDIT_CODE,
            OpenApiParameter("on", OpenApiTypes.DATE, description="date (default today)"),
        ],
        responses=inline_serializer(
            "ThresholdInForce",
            {
                "id": serializers.IntegerField(),
                "code": serializers.CharField(),
                "indicator": serializers.CharField(),
                "comparator": serializers.CharField(),
                "value": serializers.CharField(),
                "severity": serializers.CharField(),
                "scope": serializers.CharField(),
                "region_code": serializers.CharField(),
                "effective_from": serializers.DateField(),
                "effective_to": serializers.DateField(allow_null=True),
                "source": serializers.CharField(),
            },
            many=True,
        ),
    )
    def list(self, request: Request, credit_code: str) -> Response:
        institution = _institution(request, credit_code)
        try:
            on = (
                dt.date.fromisoformat(request.query_params["on"])
                if "on" in request.query_params
                else dt.date.today()
            )
        except ValueError as exc:
            raise AppError(
                _("查询参数有误"),
                errors={"on": [_("日期格式应为 YYYY-MM-DD")]},
            ) from exc
        period = Period.containing(on)
        run = IndicatorRun.objects.filter(
            institution=institution, year=period.year, quarter=period.quarter
        ).first()
        focus = run.small_business_focus if run else None
        gov = institution.pk in government_backed_ids(on=on, institution_ids=[institution.pk])
        applying = thresholds_in_force(
            region_code=institution.region_id,
            on=on,
            gov_backed=gov,
            small_business_focus=focus,
            quarter=period.quarter,
        )
        return Response(
            [
                {
                    "id": t.pk,
                    "code": t.code,
                    "indicator": t.indicator,
                    "comparator": t.comparator,
                    "value": str(t.value),
                    "severity": t.severity,
                    "scope": t.scope,
                    "region_code": t.region_code,
                    "effective_from": t.effective_from,
                    "effective_to": t.effective_to,
                    "source": t.source_text,
                }
                for t in applying
            ]
        )


class InstitutionByIdRedirectViewSet(viewsets.ViewSet):
    """/institutions/{id}/indicators/ and /thresholds/ as they were before institutions were addressed by
    credit code: a permanent redirect to the credit-code URL (query kept), for callers of the old paths."""

    schema = None  # not part of the documented API
    permission_classes = [SignedInAPI]

    def list(self, request: Request, institution_id: str, resource: str) -> HttpResponsePermanentRedirect:
        institution = get_object_or_404(Institution.objects.for_user(request.user), pk=institution_id)
        url = reverse(f"institution-{resource}-list", kwargs={"credit_code": institution.credit_code})
        query = request.META.get("QUERY_STRING", "")
        return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)
