"""The committee's API. Each view finds the object through a selector (404 when
invisible), checks what the caller may do (403), validates the body (400) and
calls one service."""
import json

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, renderers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api_core.preconditions import if_match, with_etag
from api_core.renderers import JSONRenderer

from .. import services
from ..calendar import committee_feed, meeting_calendar
from ..selectors import (
    action_item_for,
    action_items_visible_to,
    agenda_item_for,
    agenda_of,
    attendance_of,
    can_complete,
    can_manage,
    committee_for,
    committees_visible_to,
    decision_for,
    docket_for,
    meeting_for,
    meetings_visible_to,
    quorum_of,
)
from . import examples
from . import serializers as s
from .filters import ActionItemFilter, MeetingFilter

IF_MATCH = OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                            description="The ETag last read; a stale one is refused with 412.")
PROBLEM = OpenApiResponse(description="Problem details (RFC 9457).")


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _valid(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _meeting_response(request, meeting, status_code=status.HTTP_200_OK):
    meeting = meetings_visible_to(request.user).prefetch_related("attendances").get(pk=meeting.pk)
    data = s.MeetingSerializer(meeting, context={"request": request}).data
    return with_etag(Response(data, status=status_code), meeting)


def _agenda_response(request, meeting):
    items = s.AgendaItemSerializer(agenda_of(meeting), many=True, context={"request": request}).data
    return with_etag(Response(items), meeting)


# --- Committees ------------------------------------------------------------

@extend_schema_view(get=extend_schema(
    summary="Committees you belong to (secretariat: all)",
    description="The binational committee and its working groups."))
class CommitteeListView(generics.ListAPIView):
    """Committees the caller belongs to (all of them for the secretariat)."""

    serializer_class = s.CommitteeSerializer
    search_fields = ["name", "code"]
    ordering_fields = ["name"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return committees_visible_to(self.request.user)


@extend_schema_view(get=extend_schema(
    summary="One committee, with its members",
    description="Each member with their role and delegation (`PE`, `CL`, `INT`), and the committee's quorum rule."))
class CommitteeDetailView(generics.RetrieveAPIView):
    serializer_class = s.CommitteeDetailSerializer

    def get_queryset(self):
        return committees_visible_to(self.request.user).prefetch_related("memberships__user__agency")


class CalendarFeedListView(APIView):
    @extend_schema(responses=s.CalendarFeedSerializer(many=True), summary="The caller's calendar feeds",
                   description="Your secret calendar addresses for this committee, without the secret.")
    def get(self, request, pk):
        committee = committee_for(request.user, pk)
        feeds = committee.calendar_feeds.filter(user=request.user)
        return Response(s.CalendarFeedSerializer(feeds, many=True).data)

    @extend_schema(request=None, responses={201: s.CalendarFeedCreatedSerializer},
                   summary="A new secret calendar address (shown once)",
                   description="For calendar apps, which cannot send a token: the secret in the address is the "
                               "credential, so keep it private. It stops working when you leave the committee.")
    def post(self, request, pk):
        committee = committee_for(request.user, pk)
        feed, secret = services.calendar_feed_create(user=request.user, committee=committee)
        data = s.CalendarFeedCreatedSerializer(feed, context={"request": request, "secret": secret}).data
        return Response(data, status=status.HTTP_201_CREATED)


class CalendarFeedDetailView(APIView):
    @extend_schema(responses={204: None}, summary="Revoke a calendar feed",
                   description="The address stops working at once. Only your own feeds.")
    def delete(self, request, pk):
        feed = generics.get_object_or_404(request.user.calendar_feeds.all(), pk=pk)
        services.calendar_feed_revoke(actor=request.user, feed=feed)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Calendars -------------------------------------------------------------

class ICalendarRenderer(renderers.BaseRenderer):
    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data).encode()


def _ics(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-cache"
    return response


ICS_RESPONSES = {(200, "text/calendar"): OpenApiTypes.STR, 404: PROBLEM}
# The secret the calendar feed's route takes (committee/api/urls.py).
CALENDAR_SECRET_PATTERN = r"^[A-Za-z0-9_-]{1,100}$"


class MeetingCalendarView(APIView):
    renderer_classes = [JSONRenderer, ICalendarRenderer]

    @extend_schema(responses=ICS_RESPONSES, summary="The meeting as an iCalendar event",
                   description="RFC 5545, with the meeting's own time zone. Its `UID` stays the same and its "
                               "`SEQUENCE` grows each time the meeting moves.")
    def get(self, request, pk):
        meeting = meeting_for(request.user, pk)
        return _ics(meeting_calendar(meeting), f"meeting-{meeting.pk}.ics")


class CalendarFeedView(APIView):
    """A committee's calendar at a per-user secret address: calendar apps
    cannot send a Bearer header."""

    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, ICalendarRenderer]

    @extend_schema(responses=ICS_RESPONSES, auth=[], summary="A committee's calendar feed (secret address)",
                   parameters=[OpenApiParameter(
                       "secret", str, OpenApiParameter.PATH, required=True, pattern=CALENDAR_SECRET_PATTERN,
                       description="The credential: the secret part of an address from `POST "
                                   "/api/v1/committees/{id}/calendar-feeds/`, valid until revoked or until its "
                                   "owner leaves the committee. Unknown or revoked: 404.")],
                   description="No token: the secret address is the credential. Upcoming meetings and those "
                               "changed in the last 60 days; cancelled ones stay with `STATUS:CANCELLED`.")
    def get(self, request, secret):
        feed = services.calendar_feed_use(secret=secret)
        return _ics(committee_feed(feed.committee), f"{feed.committee.code}.ics")


# --- Meetings --------------------------------------------------------------

@extend_schema_view(get=extend_schema(
    summary="Meetings you may see, latest first",
    description="Members: the published meetings of their committees. The secretariat: all, drafts included."))
class MeetingListView(generics.ListAPIView):
    serializer_class = s.MeetingSerializer
    filterset_class = MeetingFilter
    search_fields = ["title", "place"]
    ordering_fields = ["starts_at", "created_at"]
    ordering = ["-starts_at", "-id"]

    def get_queryset(self):
        return meetings_visible_to(self.request.user).prefetch_related("attendances")

    @extend_schema(request=s.MeetingCreateSerializer, responses={201: s.MeetingSerializer},
                   summary="Create a draft meeting",
                   description="Secretariat only. Members see it once it is scheduled.")
    def post(self, request):
        _require(can_manage(request.user))
        meeting = services.meeting_create(actor=request.user, **_valid(s.MeetingCreateSerializer, request))
        return _meeting_response(request, meeting, status.HTTP_201_CREATED)


class MeetingDetailView(APIView):
    @extend_schema(responses=s.MeetingSerializer, summary="One meeting",
                   description="Times carry the offset of the meeting's time zone. The `ETag` is the one to send "
                               "as `If-Match` when changing the meeting, its agenda order or its attendance.")
    def get(self, request, pk):
        return _meeting_response(request, meeting_for(request.user, pk))

    @extend_schema(request=s.MeetingUpdateSerializer, responses=s.MeetingSerializer, parameters=[IF_MATCH],
                   summary="Change a meeting, or its minutes while they are a draft",
                   description="Secretariat only. A held meeting keeps its time and place; approved minutes lock "
                               "the meeting's record (409).")
    def patch(self, request, pk):
        meeting = meeting_for(request.user, pk)
        _require(can_manage(request.user))
        meeting = services.meeting_update(actor=request.user, meeting=meeting, changes=_valid(
            s.MeetingUpdateSerializer, request), if_match=if_match(request))
        return _meeting_response(request, meeting)


class MeetingActionView(APIView):
    """A workflow step on a meeting, with no body."""

    service = None

    @extend_schema(request=None, responses=s.MeetingSerializer)
    def post(self, request, pk):
        meeting = meeting_for(request.user, pk)
        _require(can_manage(request.user))
        return _meeting_response(request, type(self).service(actor=request.user, meeting=meeting))


@extend_schema_view(post=extend_schema(
    summary="Schedule a draft meeting",
    description="Secretariat only. Members now see it, and each is invited by email with a calendar event."))
class MeetingScheduleView(MeetingActionView):
    service = services.meeting_schedule


@extend_schema_view(post=extend_schema(
    summary="Record that a scheduled meeting was held",
    description="Secretariat only, once the meeting has started. Its time and place are then fixed."))
class MeetingMarkHeldView(MeetingActionView):
    service = services.meeting_mark_held


@extend_schema_view(post=extend_schema(
    summary="Circulate the draft minutes to the members",
    description="Secretariat only, after the meeting was held. Members can read them from now on; they can no "
                "longer be edited."))
class MinutesCirculateView(MeetingActionView):
    service = services.minutes_circulate


@extend_schema_view(post=extend_schema(
    summary="Approve the circulated minutes",
    description="Secretariat only. The meeting's record (agenda, decisions, attendance, minutes) is locked from "
                "then on."))
class MinutesApproveView(MeetingActionView):
    service = services.minutes_approve


class MeetingCancelView(APIView):
    @extend_schema(request=s.ReasonSerializer, responses=s.MeetingSerializer, summary="Cancel a meeting",
                   description="Secretariat only, with a reason; not once held. The members of a scheduled "
                               "meeting are told by email, and its calendar event is cancelled.")
    def post(self, request, pk):
        meeting = meeting_for(request.user, pk)
        _require(can_manage(request.user))
        reason = _valid(s.ReasonSerializer, request)["reason"]
        return _meeting_response(request, services.meeting_cancel(actor=request.user, meeting=meeting,
                                                                  reason=reason))


class AttendanceView(APIView):
    @extend_schema(responses=s.AttendanceListSerializer, summary="Who attended, and the quorum",
                   description="Each person with their status and delegation, and whether the quorum is met.")
    def get(self, request, pk):
        meeting = meeting_for(request.user, pk)
        return self._response(meeting, list(attendance_of(meeting)))

    @extend_schema(request=s.AttendanceUpdateSerializer, responses=s.AttendanceListSerializer,
                   parameters=[IF_MATCH], summary="Replace the attendance list",
                   description="Secretariat only. The whole list in one request; the answer carries the "
                               "quorum.")
    def put(self, request, pk):
        meeting = meeting_for(request.user, pk)
        _require(can_manage(request.user))
        entries = _valid(s.AttendanceUpdateSerializer, request)["attendance"]
        services.attendance_set(actor=request.user, meeting=meeting, entries=entries,
                                if_match=if_match(request))
        meeting = meeting_for(request.user, pk)
        return self._response(meeting, list(attendance_of(meeting)))

    def _response(self, meeting, attendances):
        data = {"attendance": s.AttendanceSerializer(attendances, many=True).data,
                "quorum": quorum_of(meeting, attendances)}
        return with_etag(Response(data), meeting)


class DocketView(APIView):
    @extend_schema(responses=s.DocketProposalSerializer(many=True),
                   summary="What the committee should look at, not yet on this agenda",
                   description="Secretariat only. Overdue handoffs, open cases whose latest transfer was "
                               "rejected, overdue action items, items deferred from the previous meeting.")
    def get(self, request, pk):
        meeting = meeting_for(request.user, pk)
        _require(can_manage(request.user))
        return Response(s.DocketProposalSerializer(docket_for(meeting), many=True).data)

    @extend_schema(request=s.DocketAddSerializer, responses={201: s.AgendaItemSerializer(many=True)},
                   summary="Add chosen proposals to the agenda",
                   description="Secretariat only. Each proposal becomes an agenda item at the end of the "
                               "agenda.")
    def post(self, request, pk):
        meeting = meeting_for(request.user, pk)
        _require(can_manage(request.user))
        added = services.docket_add(actor=request.user, meeting=meeting,
                                    items=_valid(s.DocketAddSerializer, request)["items"])
        return Response(s.AgendaItemSerializer(added, many=True).data, status=status.HTTP_201_CREATED)


# --- Agenda ----------------------------------------------------------------

class AgendaItemListView(APIView):
    @extend_schema(responses=s.AgendaItemSerializer(many=True), summary="The agenda, in order",
                   description="Ordered by `position` (1..n, no gaps).")
    def get(self, request, pk):
        return _agenda_response(request, meeting_for(request.user, pk))

    @extend_schema(request=s.AgendaItemCreateSerializer, responses={201: s.AgendaItemSerializer},
                   summary="Add an item to the agenda", examples=[examples.AGENDA_ITEM_ADD],
                   description="Secretariat only. At the end, or at `position`; the items after it move down.")
    def post(self, request, pk):
        meeting = meeting_for(request.user, pk)
        _require(can_manage(request.user))
        item = services.agenda_item_add(actor=request.user, meeting=meeting,
                                        **_valid(s.AgendaItemCreateSerializer, request))
        return Response(s.AgendaItemSerializer(item).data, status=status.HTTP_201_CREATED)


class AgendaReorderView(APIView):
    @extend_schema(request=s.ReorderSerializer, responses=s.AgendaItemSerializer(many=True), parameters=[IF_MATCH],
                   summary="Reorder the whole agenda in one step",
                   description="Secretariat only. Every item once, in the new order. Send the meeting's ETag "
                               "as `If-Match`: 412 if someone changed the agenda meanwhile.")
    def post(self, request, pk):
        meeting = meeting_for(request.user, pk)
        _require(can_manage(request.user))
        meeting = services.agenda_reorder(actor=request.user, meeting=meeting,
                                          order=_valid(s.ReorderSerializer, request)["order"],
                                          if_match=if_match(request))
        return _agenda_response(request, meeting)


class AgendaItemDetailView(APIView):
    @extend_schema(responses=s.AgendaItemSerializer, summary="One agenda item",
                   description="With the case or handoff it is about, as id and reference.")
    def get(self, request, pk):
        return Response(s.AgendaItemSerializer(agenda_item_for(request.user, pk)).data)

    @extend_schema(request=s.AgendaItemUpdateSerializer, responses=s.AgendaItemSerializer,
                   summary="Change an agenda item",
                   description="Secretariat only; not once the minutes are approved.")
    def patch(self, request, pk):
        item = agenda_item_for(request.user, pk)
        _require(can_manage(request.user))
        item = services.agenda_item_update(actor=request.user, item=item,
                                           changes=_valid(s.AgendaItemUpdateSerializer, request))
        return Response(s.AgendaItemSerializer(item).data)

    @extend_schema(responses={204: None}, summary="Remove an agenda item",
                   description="Secretariat only. An item with recorded decisions stays (409 `has_decisions`).")
    def delete(self, request, pk):
        item = agenda_item_for(request.user, pk)
        _require(can_manage(request.user))
        services.agenda_item_delete(actor=request.user, item=item)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AgendaItemDeferView(APIView):
    @extend_schema(request=None, responses={201: s.AgendaItemSerializer},
                   summary="Carry the item to the committee's next scheduled meeting",
                   description="Secretariat only, a pending item. A copy goes to the end of that agenda and this "
                               "item is marked deferred; 409 `no_next_meeting` when none is scheduled.")
    def post(self, request, pk):
        item = agenda_item_for(request.user, pk)
        _require(can_manage(request.user))
        carried = services.agenda_item_defer(actor=request.user, item=item)
        return Response(s.AgendaItemSerializer(carried).data, status=status.HTTP_201_CREATED)


class DecisionCreateView(APIView):
    @extend_schema(request=s.DecisionCreateSerializer, responses={201: s.DecisionSerializer},
                   summary="Record the committee's decision on an item",
                   description="Secretariat only. The outcome, and each delegation's position.")
    def post(self, request, pk):
        item = agenda_item_for(request.user, pk)
        _require(can_manage(request.user))
        decision = services.decision_record(actor=request.user, agenda_item=item,
                                            **_valid(s.DecisionCreateSerializer, request))
        return Response(s.DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


class DecisionDetailView(APIView):
    @extend_schema(responses=s.DecisionSerializer, summary="One decision",
                   description="Its text, outcome and the delegations' positions.")
    def get(self, request, pk):
        return Response(s.DecisionSerializer(decision_for(request.user, pk)).data)


# --- Action items ----------------------------------------------------------

@extend_schema_view(get=extend_schema(
    summary="Action items you may see",
    description="Caseworkers: those owned by their agency or assigned to them. Members: those of their "
                "committees' meetings. The secretariat: all."))
class ActionItemListView(generics.ListAPIView):
    """Action items: an agency sees those it owns and those assigned to its people."""

    serializer_class = s.ActionItemSerializer
    filterset_class = ActionItemFilter
    search_fields = ["title", "description"]
    ordering_fields = ["created_at", "updated_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return action_items_visible_to(self.request.user)

    @extend_schema(request=s.ActionItemCreateSerializer, responses={201: s.ActionItemSerializer},
                   summary="Create an action item",
                   description="Secretariat only. An owner agency and/or an assignee; a decision implies its "
                               "agenda item, meeting and case.")
    def post(self, request):
        _require(can_manage(request.user))
        item = services.action_item_create(actor=request.user, **_valid(s.ActionItemCreateSerializer, request))
        return with_etag(Response(s.ActionItemSerializer(item).data, status=status.HTTP_201_CREATED), item)


class ActionItemDetailView(APIView):
    @extend_schema(responses=s.ActionItemSerializer, summary="One action item",
                   description="With its `ETag` (the item's version).")
    def get(self, request, pk):
        item = action_item_for(request.user, pk)
        return with_etag(Response(s.ActionItemSerializer(item).data), item)

    @extend_schema(request=s.ActionItemUpdateSerializer, responses=s.ActionItemSerializer, parameters=[IF_MATCH],
                   summary="Change an open action item",
                   description="Secretariat only. Send `If-Match` with the ETag you read: a stale one is 412.")
    def patch(self, request, pk):
        item = action_item_for(request.user, pk)
        _require(can_manage(request.user))
        item = services.action_item_update(actor=request.user, item=item,
                                           changes=_valid(s.ActionItemUpdateSerializer, request),
                                           if_match=if_match(request))
        return with_etag(Response(s.ActionItemSerializer(item).data), item)


class ActionItemCompleteView(APIView):
    @extend_schema(request=s.ActionItemCompleteSerializer, responses=s.ActionItemSerializer,
                   summary="Mark done (the owner agency, the assignee or the secretariat)",
                   examples=[examples.ACTION_ITEM_COMPLETE],
                   description="An open item only (409 `not_open` otherwise), with an optional note on what "
                               "was done.")
    def post(self, request, pk):
        item = action_item_for(request.user, pk)
        _require(can_complete(request.user, item))
        note = _valid(s.ActionItemCompleteSerializer, request)["note"]
        item = services.action_item_complete(actor=request.user, item=item, note=note)
        return with_etag(Response(s.ActionItemSerializer(item).data), item)


class ActionItemCancelView(APIView):
    @extend_schema(request=s.ActionItemCancelSerializer, responses=s.ActionItemSerializer,
                   summary="Cancel an open action item", description="Secretariat only, with a reason.")
    def post(self, request, pk):
        item = action_item_for(request.user, pk)
        _require(can_manage(request.user))
        reason = _valid(s.ActionItemCancelSerializer, request)["reason"]
        item = services.action_item_cancel(actor=request.user, item=item, reason=reason)
        return with_etag(Response(s.ActionItemSerializer(item).data), item)
