"""API for the registry. Every queryset starts from `for_user`; writes go through the services, which
re-check authority; their refusals (Django PermissionDenied → 403, ValidationError → 400) reach the client
through the one exception handler (core.exceptions)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from .. import selectors, services
from ..models import Agreement, Bank, GovListBatch, GovListEntry, Institution, Licence, Notice, NoticeItem
from ..permissions import AgreementAPI, ListAPI, RegistryAPI
from . import serializers as s


class InstitutionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Institutions, addressed by unified social credit code. Regulators create and update within their
    jurisdiction (create is an upsert by credit code)."""

    serializer_class = s.InstitutionSerializer
    permission_classes = [RegistryAPI]
    lookup_field = "credit_code"
    filterset_fields = ["region", "level", "ownership", "status", "kind"]

    def get_queryset(self):
        return (
            Institution.objects.for_user(self.request.user)
            .select_related("parent")
            .prefetch_related("status_changes")
            .order_by("region_id", "name")
        )

    def _save(self, serializer: s.InstitutionSerializer, credit_code: str) -> None:
        data = dict(serializer.validated_data)
        data.pop("credit_code", None)
        parent_code = data.pop("parent_credit_code", None)
        if parent_code:
            data["parent"] = get_object_or_404(
                Institution.objects.for_user(self.request.user), credit_code=parent_code
            )
        institution, _created = services.institution_upsert(
            actor=self.request.user, credit_code=credit_code, **data
        )
        serializer.instance = institution

    def perform_create(self, serializer):
        self._save(serializer, serializer.validated_data["credit_code"])

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance.credit_code)


class LicenceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The licence register (public by law, so every user reads all of it); issue, change, cancel and
    revoke are for the provincial regulator of the holder."""

    serializer_class = s.LicenceSerializer
    permission_classes = [RegistryAPI]
    filterset_fields = ["status", "number"]

    def get_queryset(self):
        return Licence.objects.for_user(self.request.user).select_related("institution").order_by("number")

    def perform_create(self, serializer: s.LicenceSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = services.licence_issue(
            actor=self.request.user,
            institution=data["institution"],
            number=data["number"],
            issued_on=data["issued_on"],
            business_scope=data.get("business_scope", ""),
            issuing_authority=data.get("issuing_authority", ""),
        )

    def _manageable(self, ids):
        licences = list(Licence.objects.for_user(self.request.user, "change").filter(pk__in=ids))
        if len(licences) != len(set(ids)):
            raise PermissionDenied(_("无权管理所选许可证。"))
        return sorted(licences, key=lambda lic: ids.index(lic.pk))

    @extend_schema(request=s.LicenceChangeSerializer, responses=s.LicenceSerializer)
    @action(detail=True, methods=["post"])
    def change(self, request: Request, pk: str | None = None) -> Response:
        if not (str(pk).isascii() and str(pk).isdigit()):
            raise NotFound
        licence = self._manageable([int(pk)])[0]
        data = s.LicenceChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        licence = services.licence_change(actor=request.user, licence=licence, **data.validated_data)
        return Response(s.LicenceSerializer(licence).data)

    @extend_schema(request=s.CancelSerializer, responses=s.NoticeSerializer)
    @action(detail=False, methods=["post"])
    def cancel(self, request: Request) -> Response:
        data = s.CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        licences = self._manageable(fields.pop("licences"))
        notice = services.licences_cancel(actor=request.user, licences=licences, **fields)
        return Response(s.NoticeSerializer(notice).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.RevokeSerializer, responses=s.NoticeSerializer)
    @action(detail=False, methods=["post"])
    def revoke(self, request: Request) -> Response:
        data = s.RevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        licences = self._manageable(fields.pop("licences"))
        notice = services.licences_revoke(actor=request.user, licences=licences, **fields)
        return Response(s.NoticeSerializer(notice).data, status=status.HTTP_201_CREATED)


class NoticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Published notices (everyone) and the drafts of the user's jurisdiction; publish is a write."""

    serializer_class = s.NoticeSerializer
    permission_classes = [ListAPI]
    filterset_fields = ["kind", "status"]

    def get_queryset(self) -> QuerySet[Notice]:
        return (
            Notice.objects.for_user(self.request.user)
            .prefetch_related(
                Prefetch("items", queryset=NoticeItem.objects.select_related("institution").order_by("seq"))
            )
            .order_by("-published_on", "-id")
        )

    @extend_schema(request=None, responses=s.NoticeSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        notice = self.get_object()
        notice = services.notice_publish(actor=request.user, notice=notice)
        return Response(s.NoticeSerializer(notice).data)


class BankViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Banks are reference data every user reads; regulators add them."""

    serializer_class = s.BankSerializer
    permission_classes = [RegistryAPI]

    def get_queryset(self):
        return Bank.objects.for_user(self.request.user).order_by("name")


class AgreementViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Bank–guarantee agreements with their rule findings. The company and its regulators write."""

    serializer_class = s.AgreementSerializer
    permission_classes = [AgreementAPI]

    def get_queryset(self):
        return (
            Agreement.objects.for_user(self.request.user)
            .select_related("institution", "bank")
            .order_by("ends_on", "id")
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "rules": selectors.policy_rules()}

    def _save(self, serializer: s.AgreementSerializer) -> None:
        data = dict(serializer.validated_data)
        institution = data.pop("institution", None) or serializer.instance.institution
        serializer.instance = services.agreement_save(
            actor=self.request.user, institution=institution, agreement=serializer.instance, **data
        )

    perform_create = _save
    perform_update = _save


class GovListBatchViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Government-backed list batches: create, set entries, propose, confirm (by the other side)."""

    serializer_class = s.GovListBatchSerializer
    permission_classes = [ListAPI]

    def get_queryset(self):
        return (
            GovListBatch.objects.for_user(self.request.user)
            .prefetch_related(
                Prefetch("entries", queryset=GovListEntry.objects.select_related("institution"))
            )
            .order_by("-published_on", "-id")
        )

    def perform_create(self, serializer: s.GovListBatchSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = services.govlist_batch_create(
            actor=self.request.user,
            region_code=data["region"].code,
            title=data["title"],
            published_on=data.get("published_on"),
            note=data.get("note", ""),
        )

    @extend_schema(request=s.GovListEntrySerializer, responses=s.GovListBatchSerializer)
    @action(detail=True, methods=["post"])
    def entries(self, request: Request, pk: str | None = None) -> Response:
        batch = self.get_object()
        data = s.GovListEntrySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        institution = (
            Institution.objects.for_user(request.user).filter(pk=fields.pop("institution").pk).first()
        )
        if institution is None:
            raise PermissionDenied("无权管理该机构。")
        services.govlist_entry_set(actor=request.user, batch=batch, institution=institution, **fields)
        return Response(s.GovListBatchSerializer(self.get_queryset().get(pk=batch.pk)).data)

    @extend_schema(request=None, responses=s.GovListBatchSerializer)
    @action(detail=True, methods=["post"])
    def propose(self, request: Request, pk: str | None = None) -> Response:
        batch = services.govlist_batch_propose(actor=request.user, batch=self.get_object())
        return Response(s.GovListBatchSerializer(batch).data)

    @extend_schema(request=None, responses=s.GovListBatchSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        batch = services.govlist_batch_confirm(actor=request.user, batch=self.get_object())
        return Response(s.GovListBatchSerializer(batch).data)
