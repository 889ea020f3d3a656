"""Cases and what hangs off them. Each view reads through ``cases.selectors``
or calls one service; the services hold every rule.

A case the caller may not see answers 404 on every URL below it, exactly as a
case that does not exist. A caller with limited access reads the case itself
(the limited view) and nothing below it (403 ``limited_access``)."""
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from api_core.errors import Forbidden
from api_core.pagination import CursorPagination
from api_core.preconditions import ETAG_HEADER, IF_MATCH_PARAMETER, etag_for, etag_for_content, if_match, with_etag
from cases.models import Case
from cases.selectors import (
    FULL_ACCESS,
    case_for,
    case_row_for,
    cases_fully_visible_to,
    cases_visible_to,
    history_visible_to,
    log_case_reads,
    notes_visible_to,
    people_visible_to,
    with_seen_updated_at,
)
from cases.services import casework

from . import case_serializers as s
from . import examples
from .case_filters import CaseFilter, CaseOrdering


class CaseAPIView(generics.GenericAPIView):
    """``serializer_class`` describes what is read; ``input_serializers`` what
    each writing method takes (the browsable API builds its forms from them)."""

    input_serializers: dict = {}

    def get_serializer_class(self):
        return self.input_serializers.get(self.request.method, self.serializer_class)


def _cursor(*ordering):
    return type("OrderedCursorPagination", (CursorPagination,), {"ordering": ordering})


def readable_case(request, case_id):
    """The case for a read of what hangs below it by ``request.user``, its
    read logged. The limited view is refused (403): all of that is personal."""
    case = case_for(request.user, case_id)
    if case.access not in FULL_ACCESS:
        raise Forbidden(_("Your agency has limited access to this case."), code="limited_access")
    log_case_reads(request.user, [case])
    return case


def case_etag(row: dict, body: dict) -> str:
    """Read in full, a case's tag follows its version (``If-Match`` on writes).
    The limited view's tag follows only what the limited view shows: a tag
    that changed with every private edit would tell a limited reader when the
    owner works on the case."""
    if row["access"] in FULL_ACCESS:
        return etag_for(Case(pk=row["id"], version=row["version"]))
    return etag_for_content(Case, row["id"], body)


def case_response(request, case_id):
    """The case as the caller now sees it (a read, or the answer to a
    write), its full read logged, with its ETag."""
    row = case_row_for(request.user, case_id, [*s.CASE_ROW_FIELDS, "version"])
    log_case_reads(request.user, [row])
    case, = s.cases_representation([row])
    response = Response(case)
    response["ETag"] = case_etag(row, case)
    return response


class CaseListOrdering(CaseOrdering):
    """``?ordering=updated_at`` orders by ``seen_updated_at``: a case read in a
    limited or a former owner's view is placed by its creation, so the list
    never tells when its owner worked on it (``with_seen_updated_at``)."""

    def get_ordering(self, request, queryset, view):
        return [term.replace("updated_at", "seen_updated_at") if term.lstrip("-") == "updated_at" else term
                for term in super().get_ordering(request, queryset, view)]


class CaseList(CaseAPIView):
    """Cases the caller may see, each with its ``access``."""

    input_serializers = {"POST": s.CaseCreateSerializer}
    filter_backends = [DjangoFilterBackend, CaseListOrdering]
    filterset_class = CaseFilter
    ordering_fields = ["created_at", "updated_at", "reference"]
    ordering = ["-created_at", "-id"]
    serializer_class = s.CaseAnySerializer

    def get_queryset(self):
        return with_seen_updated_at(cases_visible_to(self.request.user))

    @extend_schema(summary="List the cases you may see", responses=s.case_any_schema(many=True),
                   operation_id="cases_list",
                   description="Newest first, cursor-paginated. Each case says its `access`: a full view of "
                               "your agency's cases and those it collaborates on, a limited view (no names, "
                               "documents or notes) of others you may see, such as a case with a pending "
                               "handoff to your agency, and a former owner's view (the reference and the status "
                               "it handed over) of cases your agency transferred. `ordering=updated_at` places "
                               "the cases you do not read in full by their creation.")
    def get(self, request):
        page = self.paginate_queryset(s.case_rows(self.filter_queryset(self.get_queryset()), "seen_updated_at"))
        log_case_reads(request.user, page)  # every full read, one insert for the page
        return self.get_paginated_response(s.cases_representation(page))

    @extend_schema(summary="Register a case and its family", request=s.CaseCreateSerializer,
                   responses={201: s.CaseCreatedSerializer}, parameters=[ETAG_HEADER],
                   examples=[examples.CASE_CREATE],
                   description="Caseworkers only; your agency owns the new case. Exactly one member is the "
                               "`head`. A member whose document matches a person your agency already reads is "
                               "linked to that person (`matched_existing`) instead of creating a duplicate.")
    def post(self, request):
        casework.registering_agency(request.user)  # 403 before looking at the body
        serializer = s.CaseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = casework.case_create(actor=request.user, **serializer.validated_data)
        response = Response(s.case_created_representation(case), status=status.HTTP_201_CREATED,
                            headers={"Location": reverse("v1:case-detail", kwargs={"case_id": case.pk})})
        return with_etag(response, case)


class CaseDetail(CaseAPIView):
    input_serializers = {"PATCH": s.CaseUpdateSerializer}
    serializer_class = s.CaseAnySerializer

    @extend_schema(summary="Read a case (full or limited view)", responses=s.case_any_schema(),
                   parameters=[ETAG_HEADER],
                   description="`access` says which view you get. The `ETag` is the one to send as `If-Match` "
                               "when changing the case. A case you may not see is 404.")
    def get(self, request, case_id):
        return case_response(request, case_id)

    @extend_schema(summary="Change a case (owner agency only)", request=s.CaseUpdateSerializer,
                   description="Summary, priority, vulnerabilities, border point, assigned caseworker. Send "
                               "`If-Match` with the ETag you read: a stale one is 412, and nothing changes.",
                   responses={200: s.CaseSerializer, 412: OpenApiResponse(description="`If-Match` is stale.")},
                   parameters=[IF_MATCH_PARAMETER, ETAG_HEADER])
    def patch(self, request, case_id):
        serializer = s.CaseUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        casework.case_update(actor=request.user, case_id=case_id, if_match=if_match(request),
                             **serializer.validated_data)
        return case_response(request, case_id)


class CaseClose(CaseAPIView):
    serializer_class = s.CaseCloseSerializer

    @extend_schema(summary="Close a case", request=s.CaseCloseSerializer, responses={200: s.CaseSerializer},
                   description="Owner agency only, with a coded reason. A closed case takes no changes, "
                               "members, notes, consents or handoffs until reopened (409 `case_closed`).",
                   parameters=[IF_MATCH_PARAMETER, ETAG_HEADER])
    def post(self, request, case_id):
        serializer = s.CaseCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        casework.case_close(actor=request.user, case_id=case_id, if_match=if_match(request),
                            **serializer.validated_data)
        return case_response(request, case_id)


class CaseReopen(CaseAPIView):
    serializer_class = s.NoBodySerializer

    @extend_schema(summary="Reopen a closed case", request=None, responses={200: s.CaseSerializer},
                   description="Owner agency only. An anonymised case cannot be reopened (409 `case_anonymised`).",
                   parameters=[IF_MATCH_PARAMETER, ETAG_HEADER])
    def post(self, request, case_id):
        casework.case_reopen(actor=request.user, case_id=case_id, if_match=if_match(request))
        return case_response(request, case_id)


class CaseMembers(CaseAPIView):
    input_serializers = {"POST": s.MemberInputSerializer}
    pagination_class = _cursor("added_at", "id")
    filter_backends = []
    serializer_class = s.MemberSerializer

    def get_queryset(self):
        return self.case.memberships.select_related("person")

    @extend_schema(summary="Members of a case", responses=s.MemberSerializer(many=True),
                   description="The people on the case with their relationship, in the order they were added. "
                               "Full access only: the limited view gets 403 `limited_access`.")
    def get(self, request, case_id):
        self.case = readable_case(request, case_id)
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.members_representation(page, case=self.case))

    @extend_schema(summary="Add a member (a new person, or one you already see)", request=s.MemberInputSerializer,
                   responses={201: s.CreatedMemberSerializer}, examples=[examples.MEMBER_ADD],
                   description="Owner agency only. Send a new person's details, or `person` with the id of a "
                               "person your agency already reads in full.")
    def post(self, request, case_id):
        serializer = s.MemberInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = casework.member_add(actor=request.user, case_id=case_id, **serializer.validated_data)
        member, = s.members_representation([membership], case=membership.case, created=True)
        return Response(member, status=status.HTTP_201_CREATED)


class CaseMemberDetail(CaseAPIView):
    serializer_class = s.MemberUpdateSerializer

    @extend_schema(summary="Change a member's relationship", request=s.MemberUpdateSerializer,
                   responses={200: s.MemberSerializer},
                   description="Owner agency only. The person's own details are changed at `/people/{person_id}/`.")
    def patch(self, request, case_id, person_id):
        serializer = s.MemberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = casework.member_update(actor=request.user, case_id=case_id, person_id=person_id,
                                            **serializer.validated_data)
        member, = s.members_representation([membership], case=membership.case)
        return Response(member)

    @extend_schema(summary="Take a person off the case (the person is kept)", request=None, responses={204: None},
                   description="Owner agency only. People are never deleted through the API. To remove the head, "
                               "make another member the head first (409 `head_required`).")
    def delete(self, request, case_id, person_id):
        casework.member_remove(actor=request.user, case_id=case_id, person_id=person_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PersonDetail(CaseAPIView):
    input_serializers = {"PATCH": s.PersonFieldsSerializer}
    serializer_class = s.PersonSerializer

    @extend_schema(summary="Read a person on one of your cases", responses=s.PersonSerializer,
                   parameters=[ETAG_HEADER],
                   description="A person on a case you read in full; the read is logged on each such case. "
                               "Anyone else gets 404.")
    def get(self, request, person_id):
        person = get_object_or_404(people_visible_to(request.user), pk=person_id)
        log_case_reads(request.user, cases_fully_visible_to(request.user).filter(memberships__person=person))
        return with_etag(Response(s.PersonSerializer(person).data), person)

    @extend_schema(summary="Correct a person's details (an owner agency of one of their cases)",
                   request=s.PersonFieldsSerializer,
                   description="Only an agency owning every case the person is on; each of those cases records "
                               "the change. Send `If-Match` with the ETag you read: a stale one is 412.",
                   responses={200: s.PersonSerializer, 412: OpenApiResponse(description="`If-Match` is stale.")},
                   parameters=[IF_MATCH_PARAMETER, ETAG_HEADER])
    def patch(self, request, person_id):
        serializer = s.PersonFieldsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = casework.person_update(actor=request.user, person_id=person_id, if_match=if_match(request),
                                        **serializer.validated_data)
        return with_etag(Response(s.PersonSerializer(person).data), person)


class CaseNotes(CaseAPIView):
    input_serializers = {"POST": s.NoteInputSerializer}
    pagination_class = _cursor("-created_at", "-id")
    filter_backends = []
    serializer_class = s.NoteSerializer

    def get_queryset(self):
        return notes_visible_to(self.request.user, self.case)

    @extend_schema(summary="Notes you may read", responses=s.NoteSerializer(many=True),
                   description="Newest first: the `shared` notes and your own agency's notes (the secretariat "
                               "reads all).")
    def get(self, request, case_id):
        self.case = readable_case(request, case_id)
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.NoteSerializer(page, many=True).data)

    @extend_schema(summary="Write a note (owner and collaborator agencies)", request=s.NoteInputSerializer,
                   responses={201: s.NoteSerializer}, examples=[examples.NOTE_ADD],
                   description="`agency` notes stay within your agency; `shared` ones are read by every agency "
                               "with full access to the case.")
    def post(self, request, case_id):
        serializer = s.NoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = casework.note_add(actor=request.user, case_id=case_id, **serializer.validated_data)
        return Response(s.NoteSerializer(note).data, status=status.HTTP_201_CREATED)


class CaseConsents(CaseAPIView):
    input_serializers = {"POST": s.ConsentInputSerializer}
    pagination_class = _cursor("-created_at", "-id")
    filter_backends = []
    serializer_class = s.ConsentSerializer

    def get_queryset(self):
        return self.case.consents.select_related("recorded_by", "recorded_by_agency", "withdrawn_by")

    @extend_schema(summary="Consents recorded on the case", responses=s.ConsentSerializer(many=True),
                   description="Newest first, withdrawn ones included (with `withdrawn_at`).")
    def get(self, request, case_id):
        self.case = readable_case(request, case_id)
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.ConsentSerializer(page, many=True).data)

    @extend_schema(summary="Record a consent given by a member", request=s.ConsentInputSerializer,
                   responses={201: s.ConsentSerializer}, examples=[examples.CONSENT_RECORD],
                   description="Owner agency only. An active `share_cross_border` consent lets the case be "
                               "handed to an agency in another country on the `consent` legal basis.")
    def post(self, request, case_id):
        serializer = s.ConsentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = casework.consent_record(actor=request.user, case_id=case_id, **serializer.validated_data)
        return Response(s.ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


class ConsentWithdraw(CaseAPIView):
    serializer_class = s.NoBodySerializer

    @extend_schema(summary="Withdraw a consent", request=None, responses={200: s.ConsentSerializer},
                   description="Owner agency only. Handoffs that relied on it and are still pending can no "
                               "longer be accepted (422 `consent_withdrawn`).")
    def post(self, request, case_id, consent_id):
        consent = casework.consent_withdraw(actor=request.user, case_id=case_id, consent_id=consent_id)
        return Response(s.ConsentSerializer(consent).data)


class CaseHistory(CaseAPIView):
    pagination_class = _cursor("-at", "-id")
    filter_backends = []
    serializer_class = s.HistoryEntrySerializer

    def get_queryset(self):
        return history_visible_to(self.request.user, self.case)

    @extend_schema(summary="Everything that changed on the case, newest first",
                   responses=s.HistoryEntrySerializer(many=True),
                   description="Who changed what and when, field by field (old and new value), for the case, "
                               "its people, consents, notes and handoffs, as far as you may read them.")
    def get(self, request, case_id):
        self.case = readable_case(request, case_id)
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.HistoryEntrySerializer(page, many=True).data)
