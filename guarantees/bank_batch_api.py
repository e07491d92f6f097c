"""API of the banks' 总对总 batches (regulators upload and read them) and of the checks of the guarantees
under an agreement:

    GET/POST /api/v1/guarantees/bank-batches/            list; upload (multipart: bank, as_of, file)
    GET      /api/v1/guarantees/bank-batches/{id}/       counts
    GET      /api/v1/guarantees/bank-batches/{id}/rows/  the batch's rows (?status=matched|amount_differs|no_record)
    GET      /api/v1/guarantees/bank-batches/{id}/missing/  records of the bank's 总对总 business not in the batch
    GET      /api/v1/agreements/{id}/guarantee-checks/   each guarantee under the agreement against its terms
"""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from core.excel import upload_channel
from core.permissions import Access, Authority, SignedInAPI
from core.roles import Role
from institutions.models import Agreement, Bank

from .agreement_checks import agreement_guarantee_findings
from .bank_batch_services import bank_batch_upload, records_missing_from_batch
from .bank_batches import BankBatch, BankBatchRow, MatchStatus


class RegulatorAPI(Authority):
    read = write = Access(roles=(Role.REGULATOR,))


class BankBatchSerializer(serializers.ModelSerializer):
    bank = serializers.CharField(source="bank.name")
    uploaded_by = serializers.CharField(source="uploaded_by.username")

    class Meta:
        model = BankBatch
        fields = [
            "id",
            "bank",
            "region",
            "as_of",
            "source_name",
            "uploaded_by",
            "created_at",
            "rows",
            "matched",
            "amount_differs",
            "no_record",
            "missing_from_batch",
        ]


class BankBatchUploadSerializer(serializers.Serializer):
    bank = serializers.IntegerField(help_text="bank id (registry)")
    as_of = serializers.DateField(help_text="the date the bank's list is as of")
    file = serializers.FileField(help_text="xlsx or CSV with the template's headers, in Chinese or English")


class BankBatchRowSerializer(serializers.ModelSerializer):
    guarantee = serializers.IntegerField(source="guarantee_id", allow_null=True)
    institution = serializers.IntegerField(source="institution_id", allow_null=True)

    class Meta:
        model = BankBatchRow
        fields = [
            "row_number",
            "credit_code",
            "contract_no",
            "borrower",
            "loan_amount",
            "guaranteed_amount",
            "start_date",
            "end_date",
            "institution",
            "guarantee",
            "status",
        ]


class MissingRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    institution = serializers.CharField(source="institution.credit_code")
    contract_no = serializers.CharField()
    client = serializers.CharField(source="client.display_name")
    guaranteed_amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    balance = serializers.DecimalField(max_digits=18, decimal_places=2)
    start_date = serializers.DateField()
    end_date = serializers.DateField()


class BankBatchViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = BankBatchSerializer
    permission_classes = [RegulatorAPI]

    def get_queryset(self):
        return (
            BankBatch.objects.for_user(self.request.user)
            .select_related("bank", "uploaded_by")
            .order_by("-id")
        )

    def get_parsers(self):
        return (
            [MultiPartParser(), FormParser()]
            if self.request and self.request.method == "POST"
            else super().get_parsers()
        )

    @extend_schema(
        request={"multipart/form-data": BankBatchUploadSerializer}, responses={201: BankBatchSerializer}
    )
    def create(self, request):
        data = BankBatchUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        bank = get_object_or_404(Bank.objects.for_user(request.user), pk=data.validated_data["bank"])
        upload = data.validated_data["file"]
        batch = bank_batch_upload(
            actor=request.user,
            bank=bank,
            as_of=data.validated_data["as_of"],
            upload=upload,
            filename=upload.name,
        )
        return Response(BankBatchSerializer(batch).data, status=201)

    @extend_schema(responses=BankBatchRowSerializer(many=True))
    @action(detail=True, methods=["get"])
    def rows(self, request, pk=None):
        batch = self.get_object()
        rows = BankBatchRow.objects.for_user(request.user).filter(batch=batch).order_by("row_number")
        status = request.query_params.get("status")
        if status in MatchStatus.values:
            rows = rows.filter(status=status)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(BankBatchRowSerializer(page, many=True).data)

    @extend_schema(responses=MissingRecordSerializer(many=True))
    @action(detail=True, methods=["get"])
    def missing(self, request, pk=None):
        batch = self.get_object()
        page = self.paginate_queryset(records_missing_from_batch(user=request.user, batch=batch))
        return self.get_paginated_response(MissingRecordSerializer(page, many=True).data)


class GuaranteeFindingSerializer(serializers.Serializer):
    rule_id = serializers.CharField()
    guarantee_id = serializers.IntegerField()
    contract_no = serializers.CharField()
    message_zh = serializers.CharField()
    message_en = serializers.CharField()


class AgreementCheckSerializer(serializers.Serializer):
    agreement = serializers.IntegerField()
    on = serializers.DateField()
    guarantees = serializers.IntegerField()
    balance = serializers.DecimalField(max_digits=18, decimal_places=2)
    required_margin = serializers.DecimalField(max_digits=18, decimal_places=2)
    findings = GuaranteeFindingSerializer(many=True)


class AgreementChecksView(APIView):
    """Each guarantee under the agreement judged against its terms on `on` (default today)."""

    permission_classes = [SignedInAPI]

    @extend_schema(responses=AgreementCheckSerializer)
    def get(self, request, pk: int):
        agreement = get_object_or_404(Agreement.objects.for_user(request.user), pk=pk)
        try:
            on = dt.date.fromisoformat(request.query_params["on"]) if "on" in request.query_params else None
        except ValueError:
            raise serializers.ValidationError({"on": [_("日期格式为 YYYY-MM-DD")]}) from None
        check = agreement_guarantee_findings(agreement, on or timezone.localdate())
        body = {
            "agreement": agreement.pk,
            "on": check.on,
            "guarantees": check.guarantees,
            "balance": check.balance,
            "required_margin": check.required_margin,
            "findings": [f.as_dict() for f in check.findings],
        }
        return Response(AgreementCheckSerializer(body).data)


router = SimpleRouter()
router.register("guarantees/bank-batches", BankBatchViewSet, basename="bank-batch")

# the upload's byte limit is checked from Content-Length before DRF reads the body (core.middleware)
for pattern in router.urls:
    upload_channel("bank_batch")(pattern.callback)

urlpatterns = [
    *router.urls,
    path(
        "agreements/<int:pk>/guarantee-checks/",
        AgreementChecksView.as_view(),
        name="agreement-guarantee-checks",
    ),
]
