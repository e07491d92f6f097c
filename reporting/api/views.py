"""POST /api/v1/filings/ (create or replace the draft), POST /api/v1/filings/{id}/submit/, GET
/api/v1/filings/{id}/ — the same services and rules as the web form and the Excel upload."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from core.permissions import SignedInAPI
from institutions.models import Institution

from .. import selectors, services
from ..choices import Channel
from ..models import Filing
from ..periods import Period
from .serializers import FilingSerializer, FilingWriteSerializer, SubmitSerializer

_STATUS = {"forbidden": status.HTTP_403_FORBIDDEN, "conflict": status.HTTP_409_CONFLICT}


def _findings(findings):
    return [f.as_dict() for f in findings]


def _error(exc: services.FilingError):
    body = {"detail": exc.message, "errors": exc.errors, "findings": _findings(exc.findings)}
    return Response(body, status=_STATUS.get(exc.code, status.HTTP_400_BAD_REQUEST))


def _body(filing, findings):
    return {**FilingSerializer(filing).data, "findings": _findings(findings)}


@extend_schema(methods=["GET"], operation_id="v1_filings_list", responses=FilingSerializer(many=True))
@extend_schema(
    methods=["POST"],
    operation_id="v1_filings_create",
    request=FilingWriteSerializer,
    responses=FilingSerializer,
)
@api_view(["GET", "POST"])
@permission_classes([SignedInAPI])
def filings(request):
    if request.method == "GET":
        qs = selectors.filings_for(request.user).select_related("template")
        page = request.GET.get("period")
        if page:
            try:
                p = Period.parse(page)
            except ValueError as exc:
                return Response({"detail": str(exc)}, status=400)
            qs = qs.filter(year=p.year, quarter=p.quarter)
        paginator = PageNumberPagination()
        rows = paginator.paginate_queryset(qs.order_by("-year", "-quarter", "pk"), request)
        return paginator.get_paginated_response(FilingSerializer(rows, many=True).data)
    data = FilingWriteSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    institution = get_object_or_404(
        Institution.objects.for_user(request.user), credit_code=data.validated_data["institution"]
    )
    period = Period.parse(data.validated_data["period"])
    existed = Filing.objects.filter(
        institution=institution, year=period.year, quarter=period.quarter
    ).exists()
    try:
        filing, _version, findings = services.filing_save_draft(
            actor=request.user,
            institution=institution,
            period=period,
            values=data.validated_data["values"],
            nil_return=data.validated_data["nil_return"],
            channel=Channel.API,
        )
    except services.FilingError as exc:
        return _error(exc)
    filing = Filing.objects.select_related("institution", "template", "current_version").get(pk=filing.pk)
    return Response(
        _body(filing, findings), status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED
    )


def _visible(request, pk):
    return get_object_or_404(selectors.filings_for(request.user).select_related("template"), pk=pk)


@extend_schema(operation_id="v1_filings_retrieve", responses=FilingSerializer)
@api_view(["GET"])
@permission_classes([SignedInAPI])
def filing_detail(request, pk):
    filing = _visible(request, pk)
    v = filing.current_version
    if v is not None and v.is_frozen:
        findings = [services.validation.Finding(**f) for f in v.findings]
    else:
        findings, _rs = services.check(
            institution_id=filing.institution_id,
            period=filing.period,
            values=v.values if v else {},
            nil_return=bool(v and v.nil_return),
            template=filing.template,
        )
    body = _body(filing, findings)
    if v is not None:
        body["explanations"] = v.explanations
        body["review_comments"] = v.review_comments
    return Response(body)


@extend_schema(request=SubmitSerializer, responses=FilingSerializer)
@api_view(["POST"])
@permission_classes([SignedInAPI])
def filing_submit(request, pk):
    filing = _visible(request, pk)
    data = SubmitSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        version = services.filing_submit(
            actor=request.user, filing=filing, explanations=data.validated_data["explanations"]
        )
    except services.FilingError as exc:
        return _error(exc)
    filing = Filing.objects.select_related("institution", "template", "current_version").get(pk=filing.pk)
    return Response(_body(filing, [services.validation.Finding(**f) for f in version.findings]))
