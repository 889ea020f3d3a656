"""Handoffs: create, list, read, and the workflow actions. Every rule lives in
``cases.services.handoffs``; every scope in ``cases.selectors``."""
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api_core.filters import SearchFilter
from api_core.pagination import CursorPagination
from cases.models import Handoff
from cases.selectors import case_for, case_handoffs_visible_to, handoffs_visible_to
from cases.services import handoffs as services

from . import examples
from .handoff_filters import HandoffFilter, StableOrderingFilter
from .handoff_serializers import (
    HandoffCreateSerializer,
    HandoffNoteSerializer,
    HandoffRejectSerializer,
    HandoffRescheduleSerializer,
    HandoffSerializer,
)

REFUSALS = {
    400: OpenApiResponse(description="Invalid input (problem+json)."),
    404: OpenApiResponse(description="No such handoff, or the caller cannot see it."),
    409: OpenApiResponse(description="`invalid_transition`: wrong status, or not the caller's agency to act; "
                              "`handoff_sender_not_owner`: the sender no longer owns the case."),
}


def _action_schema(summary, description, request, more=None, examples=None):
    return extend_schema(summary=summary, description=description, request=request, examples=examples or [],
                         responses={200: HandoffSerializer, **REFUSALS, **(more or {})})


@extend_schema_view(
    list=extend_schema(summary="Handoffs sent or received by the caller's agency (secretariat: all)",
                       description="Newest first, cursor-paginated; filter by status, kind, direction, agency "
                                   "or overdue, or search by case reference. A handoff names its case by id and "
                                   "reference only."),
    retrieve=extend_schema(summary="One handoff", description="Its status, deadline and answers. A handoff your "
                                                              "agency neither sent nor received is 404."),
)
class HandoffViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = HandoffSerializer
    filter_backends = [DjangoFilterBackend, SearchFilter, StableOrderingFilter]
    filterset_class = HandoffFilter
    search_fields = ["case__reference"]
    ordering_fields = ["created_at", "updated_at", "response_due"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return Handoff.objects.none()
        return handoffs_visible_to(self.request.user)

    def _answer(self, handoff, status_code=status.HTTP_200_OK):
        return Response(HandoffSerializer(handoff, context=self.get_serializer_context()).data, status=status_code)

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(summary="Hand a case to another agency", request=HandoffCreateSerializer,
                   examples=[examples.HANDOFF_CREATE],
                   description="A `transfer` moves the case to the receiving agency when it accepts; a "
                               "`referral` asks it for a service and makes it a collaborator. Only the owner "
                               "agency hands a case on; at most one transfer per case is pending. Across the "
                               "border a `legal_basis` is required.",
                   responses={
        201: HandoffSerializer, **REFUSALS,
        403: OpenApiResponse(description="`not_case_owner`: only the owner agency hands a case on."),
        409: OpenApiResponse(description="`pending_transfer_exists` or `case_closed`."),
        422: OpenApiResponse(description="`consent_required` or `agency_inactive`."),
    })
    def create(self, request):
        data = self._input(HandoffCreateSerializer)
        handoff = services.handoff_create(actor=request.user, case_id=data.pop("case"), **data)
        return self._answer(handoff, status.HTTP_201_CREATED)

    @_action_schema("Accept (receiving agency)",
                    "A transfer makes your agency the case's owner in the same step and ends every other pending "
                    "handoff of the case; a referral makes your agency a collaborator.",
                    HandoffNoteSerializer, examples=[examples.HANDOFF_ACCEPT], more={
        422: OpenApiResponse(description="`consent_withdrawn`: the consent relied on was withdrawn."),
        409: OpenApiResponse(description="`invalid_transition`, `case_closed` or `handoff_sender_not_owner`.")})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        data = self._input(HandoffNoteSerializer)
        return self._answer(services.handoff_accept(actor=request.user, handoff_id=pk, **data))

    @_action_schema("Reject with a coded reason (receiving agency)",
                    "The sender keeps the case. A reason of `other` needs a note.",
                    HandoffRejectSerializer, examples=[examples.HANDOFF_REJECT])
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = self._input(HandoffRejectSerializer)
        return self._answer(services.handoff_reject(actor=request.user, handoff_id=pk, **data))

    @_action_schema("Withdraw (sending agency)",
                    "A pending handoff only, while your agency still owns the case.", HandoffNoteSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        data = self._input(HandoffNoteSerializer)
        return self._answer(services.handoff_withdraw(actor=request.user, handoff_id=pk, **data))

    @_action_schema("End a collaboration: an accepted referral (the case's owner agency)",
                    "The referral becomes `withdrawn` and the collaborator's access ends at once.",
                    HandoffNoteSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        data = self._input(HandoffNoteSerializer)
        return self._answer(services.handoff_end(actor=request.user, handoff_id=pk, **data))

    @_action_schema("Mark completed (receiving agency)",
                    "An accepted handoff: for a referral, the service was delivered (the collaborator access "
                    "ends); for a transfer, the people were received.", HandoffNoteSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        data = self._input(HandoffNoteSerializer)
        return self._answer(services.handoff_complete(actor=request.user, handoff_id=pk, **data))

    @_action_schema("Move the deadline of a pending handoff (sending agency)",
                    "The new `response_due` must be in the future; reminders follow the new deadline.",
                    HandoffRescheduleSerializer)
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        data = self._input(HandoffRescheduleSerializer)
        return self._answer(services.handoff_reschedule(actor=request.user, handoff_id=pk, **data))


class ChainPagination(CursorPagination):
    ordering = ("created_at", "id")


@extend_schema(summary="The chain of handoffs of a case, oldest first",
               description="With full access to the case: all its handoffs. With a limited view: the ones your "
                           "agency sent or received.")
class CaseHandoffListView(generics.ListAPIView):
    """With full access to the case: all its handoffs. With a limited view:
    the ones the caller's agency sent or received."""

    serializer_class = HandoffSerializer
    filter_backends: list = []
    pagination_class = ChainPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Handoff.objects.none()
        case = case_for(self.request.user, self.kwargs["case_id"])
        return case_handoffs_visible_to(self.request.user, case)
