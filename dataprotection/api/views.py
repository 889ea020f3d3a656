"""Data-subject requests and the export of a person's record. Each view reads
through ``dataprotection.selectors`` or calls one service."""
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from api_core.pagination import CursorPagination
from cases.api.examples import EXAMPLE_PERSON_ID

from .. import services
from ..export import person_export
from ..models import DataRequest
from ..selectors import data_requests_visible_to, person_for_export
from . import serializers as s
from .filters import DataRequestFilter

REFUSALS = {
    400: OpenApiResponse(description="Invalid input (problem+json)."),
    403: OpenApiResponse(description="`handling_agency_only`: only the handling agency answers."),
    404: OpenApiResponse(description="No such request, or the caller cannot see it."),
}


# ``person`` stands for a person on a case the caller's agency owns (tests/test_schema_examples.py).
CREATE_EXAMPLE = OpenApiExample(
    "An access request made in person",
    description="`person` is the id of a person on a case your agency owns.",
    request_only=True,
    value={"person": EXAMPLE_PERSON_ID, "kind": "access",
           "received_at": "2026-11-30T10:15:00-05:00", "channel": "in_person",
           "requester_note": "Pide una copia de los datos registrados sobre ella y su hija."},
)


class DuePagination(CursorPagination):
    ordering = ("due_at", "id")


@extend_schema_view(
    list=extend_schema(summary="Data-subject requests your agency handles (secretariat: all), earliest deadline first",
                       description="Filter by status, kind, person or overdue. Each request says which law "
                                   "applies and when it is due."),
    retrieve=extend_schema(summary="One data-subject request",
                           description="Its law, deadline (and any extension), status and answer."),
)
class DataRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.DataRequestSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = DataRequestFilter
    pagination_class = DuePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DataRequest.objects.none()
        return data_requests_visible_to(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _answer(self, request_id, status_code=status.HTTP_200_OK):
        data_request = self.get_queryset().get(pk=request_id)  # with the annotations of a read
        return Response(s.DataRequestSerializer(data_request, context=self.get_serializer_context()).data,
                        status=status_code)

    @extend_schema(summary="Record a request a person made to your agency", request=s.DataRequestCreateSerializer,
                   examples=[CREATE_EXAMPLE],
                   description="Access, rectification, erasure, opposition, portability or blocking. The law "
                               "follows your agency's country (Chile: Ley 21.719; Peru: Ley 29733), and sets "
                               "`due_at` from `received_at`.",
                   responses={201: s.DataRequestSerializer, **REFUSALS,
                              403: OpenApiResponse(description="`agency_required`."),
                              404: OpenApiResponse(description="The person is not on a case your agency owns.")})
    def create(self, request):
        data = self._input(s.DataRequestCreateSerializer)
        data_request = services.data_request_create(actor=request.user, **data)
        return self._answer(data_request.pk, status.HTTP_201_CREATED)

    @extend_schema(summary="Extend the deadline once, where the law allows it", request=s.DataRequestExtendSerializer,
                   description="The handling agency, with a reason, before the deadline passes. The first "
                               "deadline is kept as `original_due_at`.",
                   responses={200: s.DataRequestSerializer, **REFUSALS, 409: OpenApiResponse(
                       description="`already_extended`, `extension_not_allowed`, `deadline_passed` or "
                                   "`request_completed`.")})
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        data = self._input(s.DataRequestExtendSerializer)
        return self._answer(services.data_request_extend(actor=request.user, request_id=pk, **data).pk)

    @extend_schema(summary="Answer the request", request=s.DataRequestCompleteSerializer,
                   description="The handling agency records the outcome; anything but `granted` needs a "
                               "`refusal_ground`. A granted rectification applies its `corrections`, a granted "
                               "erasure anonymises the person unless a legal hold applies.",
                   responses={200: s.DataRequestSerializer, **REFUSALS,
                              409: OpenApiResponse(description="`request_completed` or `nothing_to_block`."),
                              422: OpenApiResponse(description="`refusal_ground_required` and other rules.")})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        data = self._input(s.DataRequestCompleteSerializer)
        return self._answer(services.data_request_complete(actor=request.user, request_id=pk, **data).pk)


class PersonExport(APIView):
    @extend_schema(summary="What Puente holds on a person that you read (owner agency; secretariat: all); "
                           "the read is logged",
                   description="As JSON: the person's fields, their cases that you read in full, consents, the "
                               "handoffs of those cases, their history there, which agencies read your cases "
                               "of theirs, and the requests your agency handles; nothing on the other members "
                               "of the family, nor on cases you do not read. The secretariat gets the whole "
                               "record. A collaborator agency gets 403; anyone else 404.",
                   responses={200: OpenApiResponse(description="The person's record, as JSON.")})
    def get(self, request, person_id):
        person = person_for_export(request.user, person_id)
        return Response(person_export(request.user, person))
