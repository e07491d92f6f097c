"""Warning cases and supervisory measures over the API: the same services as the pages (authority is
checked there again), rows from `for_user` (a row outside the caller's scope is a 404).

    GET  /api/v1/warnings/                      cases (filters: status, rule)
    POST /api/v1/warnings/{id}/close/           {reason, note}
    POST /api/v1/warnings/bulk-close/           {ids, reason, note}
    GET  /api/v1/measure-types/                 the art. 28 catalogue
    GET  /api/v1/measures/  POST (propose)      {institution, measure_type, facts, requirements?, deadline?, case?, filing?}
    POST /api/v1/measures/{id}/approve|reject|issue|acknowledge|answer|request-more|close|escalate|publish/
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from core.exceptions import AppError
from core.parsers import StrictJSONParser
from core.permissions import SignedInAPI
from institutions.models import Institution
from reporting.models import Filing

from ..models import Measure, MeasureMessage, MeasureType, Rating, RatingScore, WarningCase, WarningStatus
from ..services import cases as case_svc
from ..services import measures as svc


class WarningCaseSerializer(serializers.ModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    rule = serializers.CharField(source="threshold.code", read_only=True)
    first_period = serializers.SerializerMethodField()
    period = serializers.SerializerMethodField()
    quarters = serializers.SerializerMethodField()
    close_reason = serializers.CharField(read_only=True)

    class Meta:
        model = WarningCase
        fields = [
            "id",
            "institution",
            "institution_name",
            "rule",
            "first_period",
            "period",
            "level",
            "max_level",
            "severity",
            "value",
            "status",
            "assigned_to",
            "close_proposed",
            "close_reason",
            "note",
            "reopened_count",
            "quarters",
        ]

    def get_first_period(self, obj) -> str:
        return str(obj.first_period)

    def get_period(self, obj) -> str:
        return str(obj.period)

    def get_quarters(self, obj) -> list[str]:
        return [str(q.period) for q in obj.quarters.all() if not q.cleared]


class CloseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=case_svc.CloseReason.choices, default="other")
    note = serializers.CharField()


class BulkCloseSerializer(CloseSerializer):
    ids = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)


class WarningCaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [SignedInAPI]
    serializer_class = WarningCaseSerializer

    def get_queryset(self):
        qs = (
            WarningCase.objects.for_user(self.request.user)
            .select_related("institution", "threshold")
            .prefetch_related("quarters")
            .order_by("severity_rank", "-level", "created_at", "pk")
        )
        status = self.request.query_params.get("status")
        if status in WarningStatus.values:
            qs = qs.filter(status=status)
        if self.request.query_params.get("rule"):
            qs = qs.filter(threshold__code=self.request.query_params["rule"])
        return qs

    @extend_schema(request=CloseSerializer, responses=WarningCaseSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk=None) -> Response:
        case = self.get_object()
        data = _valid(CloseSerializer, request)
        case = case_svc.warning_case_close(
            actor=request.user, case=case, note=data["note"], reason=data["reason"]
        )
        return Response(WarningCaseSerializer(case).data)

    @extend_schema(
        request=BulkCloseSerializer,
        responses=inline_serializer("Closed", {"closed": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"], url_path="bulk-close")
    def bulk_close(self, request: Request) -> Response:
        data = _valid(BulkCloseSerializer, request)
        n = case_svc.warning_cases_bulk_close(
            actor=request.user, case_ids=data["ids"], reason=data["reason"], note=data["note"]
        )
        return Response({"closed": n})


def _valid(serializer_class, request) -> dict:
    s = serializer_class(data=request.data)
    if not s.is_valid():
        raise AppError(_("请求数据有误"), errors=s.errors)
    return s.validated_data


class MeasureTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeasureType
        fields = [
            "code",
            "name",
            "name_en",
            "default_days",
            "approval_level",
            "publishable",
            "onsite",
            "source",
        ]


class MeasureTypeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [SignedInAPI]
    serializer_class = MeasureTypeSerializer
    pagination_class = None

    def get_queryset(self):
        return MeasureType.objects.for_user(self.request.user).filter(active=True)


class MessageSerializer(serializers.ModelSerializer):
    has_evidence = serializers.SerializerMethodField()

    class Meta:
        model = MeasureMessage
        fields = ["id", "kind", "author", "text", "has_evidence", "created_at"]

    def get_has_evidence(self, obj) -> bool:
        return bool(obj.evidence)


class MeasureSerializer(serializers.ModelSerializer):
    measure_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    messages = MessageSerializer(many=True, read_only=True)

    class Meta:
        model = Measure
        fields = [
            "id",
            "number",
            "measure_type",
            "institution",
            "institution_name",
            "case",
            "filing",
            "escalated_from",
            "status",
            "facts",
            "requirements",
            "deadline",
            "proposed_by",
            "approved_by",
            "issued_at",
            "issuing_body",
            "document_text",
            "acknowledged_at",
            "conclusion",
            "closed_at",
            "messages",
        ]
        read_only_fields = fields


class ProposeSerializer(serializers.Serializer):
    institution = serializers.IntegerField()
    measure_type = serializers.CharField()
    facts = serializers.CharField()
    requirements = serializers.CharField(required=False, allow_blank=True, default="")
    deadline = serializers.DateField(required=False, allow_null=True, default=None)
    case = serializers.IntegerField(required=False, allow_null=True, default=None)
    filing = serializers.IntegerField(required=False, allow_null=True, default=None)


class MeasureNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class MeasureTextSerializer(serializers.Serializer):
    text = serializers.CharField()


class MeasureAnswerSerializer(MeasureTextSerializer):
    evidence = serializers.FileField(required=False, allow_null=True, default=None)


class EscalateSerializer(serializers.Serializer):
    measure_type = serializers.CharField()
    text = serializers.CharField()


def _referenced(queryset, pk: int, field: str):
    """The object a request body names, among those the user sees: a 400 naming the field otherwise (the
    body is what is wrong, not the address)."""
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise AppError(
            _("所指对象不存在或无权查看"),
            errors={field: [_("%(pk)s：不存在或无权查看") % {"pk": pk}]},
        )
    return found


class MeasureViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    permission_classes = [SignedInAPI]
    serializer_class = MeasureSerializer
    parser_classes = [StrictJSONParser]  # the API's JSON; the answer with its evidence file is multipart

    def get_queryset(self):
        qs = (
            Measure.objects.for_user(self.request.user)
            .select_related("measure_type", "institution")
            .prefetch_related("messages")
            .order_by("-created_at", "-pk")
        )
        if self.request.query_params.get("status"):
            qs = qs.filter(status=self.request.query_params["status"])
        return qs

    def _done(self, measure: Measure) -> Response:
        return Response(MeasureSerializer(self.get_queryset().get(pk=measure.pk)).data)

    @extend_schema(request=ProposeSerializer, responses=MeasureSerializer)
    def create(self, request: Request) -> Response:
        data = _valid(ProposeSerializer, request)
        user = request.user
        institution = _referenced(Institution.objects.for_user(user), data["institution"], "institution")
        mtype = MeasureType.objects.filter(code=data["measure_type"], active=True).first()
        if mtype is None:
            raise AppError(_("措施类型不存在"), errors={"measure_type": ["unknown"]})
        case = _referenced(WarningCase.objects.for_user(user), data["case"], "case") if data["case"] else None
        filing = (
            _referenced(Filing.objects.for_user(user), data["filing"], "filing") if data["filing"] else None
        )
        measure = svc.measure_propose(
            actor=user,
            institution=institution,
            measure_type=mtype,
            facts=data["facts"],
            requirements=data["requirements"],
            deadline=data["deadline"],
            case=case,
            filing=filing,
        )
        response = self._done(measure)
        response.status_code = 201
        return response

    @extend_schema(request=MeasureNoteSerializer, responses=MeasureSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk=None) -> Response:
        data = _valid(MeasureNoteSerializer, request)
        return self._done(
            svc.measure_approve(actor=request.user, measure=self.get_object(), note=data["note"])
        )

    @extend_schema(request=MeasureNoteSerializer, responses=MeasureSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk=None) -> Response:
        data = _valid(MeasureNoteSerializer, request)
        return self._done(
            svc.measure_reject(actor=request.user, measure=self.get_object(), note=data["note"])
        )

    @extend_schema(request=None, responses=MeasureSerializer)
    @action(detail=True, methods=["post"])
    def issue(self, request: Request, pk=None) -> Response:
        return self._done(
            svc.measure_issue(
                actor=request.user,
                measure=self.get_object(),
                issuing_body=request.data.get("issuing_body", ""),
            )
        )

    @extend_schema(request=None, responses=MeasureSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk=None) -> Response:
        return self._done(svc.measure_acknowledge(actor=request.user, measure=self.get_object()))

    @extend_schema(request={"multipart/form-data": MeasureAnswerSerializer}, responses=MeasureSerializer)
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def answer(self, request: Request, pk=None) -> Response:
        measure = self.get_object()
        data = _valid(MeasureAnswerSerializer, request)
        svc.measure_answer(actor=request.user, measure=measure, text=data["text"], evidence=data["evidence"])
        return self._done(measure)

    @extend_schema(request=MeasureTextSerializer, responses=MeasureSerializer)
    @action(detail=True, methods=["post"], url_path="request-more")
    def request_more(self, request: Request, pk=None) -> Response:
        data = _valid(MeasureTextSerializer, request)
        return self._done(
            svc.measure_request_more(actor=request.user, measure=self.get_object(), text=data["text"])
        )

    @extend_schema(request=MeasureNoteSerializer, responses=MeasureSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk=None) -> Response:
        data = _valid(MeasureNoteSerializer, request)
        return self._done(
            svc.measure_close(actor=request.user, measure=self.get_object(), conclusion=data["note"])
        )

    @extend_schema(request=EscalateSerializer, responses=MeasureSerializer)
    @action(detail=True, methods=["post"])
    def escalate(self, request: Request, pk=None) -> Response:
        data = _valid(EscalateSerializer, request)
        mtype = MeasureType.objects.filter(code=data["measure_type"], active=True).first()
        if mtype is None:
            raise AppError(_("措施类型不存在"), errors={"measure_type": ["unknown"]})
        new = svc.measure_escalate(
            actor=request.user, measure=self.get_object(), measure_type=mtype, facts=data["text"]
        )
        response = self._done(new)
        response.status_code = 201
        return response

    @extend_schema(request=None, responses=MeasureSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk=None) -> Response:
        measure = self.get_object()
        svc.measure_publish_circular(actor=request.user, measure=measure)
        return self._done(measure)


class RatingScoreSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code", read_only=True)
    name = serializers.CharField(source="item.name", read_only=True)
    points = serializers.DecimalField(source="item.points", max_digits=6, decimal_places=2, read_only=True)

    class Meta:
        model = RatingScore
        fields = ["item", "name", "points", "computed", "score", "vetoed", "basis", "reason"]


class RatingSerializer(serializers.ModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    scores = RatingScoreSerializer(many=True, read_only=True)
    computed_grade = serializers.CharField(read_only=True)

    class Meta:
        model = Rating
        fields = [
            "id",
            "institution",
            "institution_name",
            "year",
            "status",
            "score",
            "computed_grade",
            "grade",
            "capped_by",
            "objection_until",
            "scores",
        ]
        read_only_fields = fields


class RatingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """GET /api/v1/ratings/?year= — classification ratings with every item's score and basis (a company
    sees its own once confirmed)."""

    permission_classes = [SignedInAPI]
    serializer_class = RatingSerializer

    def get_queryset(self):
        qs = (
            Rating.objects.for_user(self.request.user)
            .select_related("institution")
            .prefetch_related("scores__item")
            .order_by("-year", "grade", "-score", "pk")
        )
        year = self.request.query_params.get("year", "")
        return qs.filter(year=int(year)) if year.isdigit() else qs
