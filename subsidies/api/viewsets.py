"""Subsidy API: schemes (read by everyone signed in; created and edited by the finance bureau of the
scheme's level), applications and every transition (the same services as the pages), and the public
publicity list. An application outside the caller's scope is a 404; a transition the caller may not
perform a 403; a transition someone else performed first a 409."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.openapi import ErrorSerializer
from core.permissions import PublicAPI
from institutions.models import Institution

from .. import selectors, services
from ..models import Application
from ..permissions import ApplicationAPI, SchemeAPI
from . import serializers as s

CONFLICT = {409: ErrorSerializer}


class SchemeViewSet(viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    serializer_class = s.SchemeSerializer
    permission_classes = [SchemeAPI]  # the services decide who edits (the bureau of the scheme's level)
    lookup_field = "code"

    def get_queryset(self):
        return selectors.schemes_for(self.request.user)

    @extend_schema(request=s.SchemeWriteSerializer, responses={201: s.SchemeSerializer})
    def create(self, request: Request) -> Response:
        data = s.SchemeWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        reason = values.pop("reason", "")
        scheme = services.scheme_create(actor=request.user, reason=reason, **values)
        return Response(s.SchemeSerializer(scheme).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.SchemeWriteSerializer, responses={200: s.SchemeSerializer})
    def partial_update(self, request: Request, code: str) -> Response:
        scheme = self.get_object()
        data = s.SchemeWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        reason = values.pop("reason", "")
        values.pop("code", None)
        scheme = services.scheme_update(actor=request.user, scheme=scheme, reason=reason, **values)
        return Response(s.SchemeSerializer(scheme).data)

    @extend_schema(responses=s.RevisionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def revisions(self, request: Request, code: str) -> Response:
        scheme = self.get_object()
        return Response(s.RevisionSerializer(scheme.revisions.select_related("changed_by"), many=True).data)


class ApplicationViewSet(viewsets.GenericViewSet, mixins.ListModelMixin):
    serializer_class = s.ApplicationSerializer
    permission_classes = [ApplicationAPI]  # the services decide who prepares, submits, reviews and decides

    def get_queryset(self):
        q = self.request.query_params
        return selectors.applications_for(
            self.request.user, status=q.get("status", ""), scheme=q.get("scheme", ""), year=q.get("year", "")
        )

    def _detail(self, application: Application, code: int = status.HTTP_200_OK) -> Response:
        application = Application.objects.select_related("scheme", "institution").get(pk=application.pk)
        return Response(s.ApplicationDetailSerializer(application).data, status=code)

    @extend_schema(responses=s.ApplicationDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return self._detail(self.get_object())

    @extend_schema(responses=s.LineSerializer(many=True))
    @action(detail=True, methods=["get"])
    def lines(self, request: Request, pk: str) -> Response:
        application = self.get_object()
        page = self.paginate_queryset(selectors.application_lines(request.user, application))
        return self.get_paginated_response(s.LineSerializer(page, many=True).data)

    @extend_schema(
        request=s.ApplicationCreateSerializer, responses={201: s.ApplicationDetailSerializer, **CONFLICT}
    )
    def create(self, request: Request) -> Response:
        data = s.ApplicationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        institution = get_object_or_404(
            Institution.objects.for_user(request.user), credit_code=v["institution"]
        )
        scheme = get_object_or_404(selectors.schemes_for(request.user), code=v["scheme"])
        application = services.application_create(
            actor=request.user, scheme=scheme, institution=institution, year=v["year"], note=v["note"]
        )
        return self._detail(application, status.HTTP_201_CREATED)

    def _act(self, request: Request, serializer, call) -> Response:
        application = self.get_object()
        data = serializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._detail(call(application, data.validated_data))

    @extend_schema(request=s.NoteSerializer, responses={200: s.ApplicationDetailSerializer, **CONFLICT})
    @action(detail=True, methods=["post"])
    def recompute(self, request: Request, pk: str) -> Response:
        return self._act(
            request,
            s.NoteSerializer,
            lambda a, v: services.application_recompute(
                actor=request.user, application=a, note=v["note"] or None
            ),
        )

    @extend_schema(request=None, responses={200: s.ApplicationDetailSerializer, **CONFLICT})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        return self._act(
            request,
            s.NoteSerializer,
            lambda a, v: services.application_submit(actor=request.user, application=a),
        )

    @extend_schema(request=s.NoteSerializer, responses={200: s.ApplicationDetailSerializer, **CONFLICT})
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request: Request, pk: str) -> Response:
        return self._act(
            request,
            s.NoteSerializer,
            lambda a, v: services.application_return(actor=request.user, application=a, note=v["note"]),
        )

    @extend_schema(request=s.NoteSerializer, responses={200: s.ApplicationDetailSerializer, **CONFLICT})
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str) -> Response:
        return self._act(
            request,
            s.NoteSerializer,
            lambda a, v: services.application_review(actor=request.user, application=a, note=v["note"]),
        )

    @extend_schema(request=s.DecideSerializer, responses={200: s.ApplicationDetailSerializer, **CONFLICT})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str) -> Response:
        return self._act(
            request,
            s.DecideSerializer,
            lambda a, v: services.application_decide(
                actor=request.user,
                application=a,
                approve=v["approve"],
                amount=v.get("amount"),
                reason=v["reason"],
            ),
        )

    @extend_schema(request=s.PublishSerializer, responses={200: s.ApplicationDetailSerializer, **CONFLICT})
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        return self._act(
            request,
            s.PublishSerializer,
            lambda a, v: services.application_publish(actor=request.user, application=a, on=v.get("on")),
        )

    @extend_schema(request=s.PaySerializer, responses={200: s.ApplicationDetailSerializer, **CONFLICT})
    @action(detail=True, methods=["post"])
    def pay(self, request: Request, pk: str) -> Response:
        return self._act(
            request,
            s.PaySerializer,
            lambda a, v: services.application_pay(
                actor=request.user, application=a, paid_on=v["paid_on"], reference=v["reference"]
            ),
        )


class PublicityViewSet(viewsets.GenericViewSet, mixins.ListModelMixin):
    """The publicity list (公示) and the paid, as the public reads it."""

    serializer_class = s.PublicitySerializer
    permission_classes = [PublicAPI]

    def get_queryset(self):
        q = self.request.query_params
        return selectors.publicity_list(scheme=q.get("scheme", ""), year=q.get("year", ""))
