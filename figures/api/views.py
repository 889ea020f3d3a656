"""The statistics endpoints and the situation report: validate, read one selector, answer."""
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from committee.selectors import meeting_for

from ..report import situation_report
from ..selectors import CaseFilters, HandoffFilters, case_figures, day_start, handoff_figures
from . import serializers as s


def _parameters(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _group_by(dimensions) -> OpenApiParameter:
    """The rule of ``validate_group_by`` as the schema states it: known dimensions, each once, at most two."""
    schema = {"type": "array", "items": {"type": "string", "enum": list(dimensions)},
              "maxItems": s.MAX_DIMENSIONS, "uniqueItems": True}
    return OpenApiParameter("group_by", schema, style="form", explode=True,
                            description="Repeatable, at most two different dimensions.")


LAST_MODIFIED_HEADER = OpenApiParameter(
    name="Last-Modified", type=OpenApiTypes.STR, location=OpenApiParameter.HEADER, response=True,
    description="The answer's `as_of` (HTTP date, to the second): every change committed before it is counted.")


def _answer(figures) -> Response:
    response = Response(figures.as_dict())
    response["Last-Modified"] = http_date(figures.as_of.timestamp())
    return response


INVERTED_WINDOW = OpenApiResponse(description="The date window ends before it starts (`invalid_range`, naming "
                                              "its end).")


class CaseStatisticsView(APIView):
    @extend_schema(parameters=[s.CaseStatisticsParameters, _group_by(s.CASE_DIMENSIONS), LAST_MODIFIED_HEADER],
                   responses={200: s.CaseStatisticsSerializer, 422: INVERTED_WINDOW},
                   summary="Counts of cases and people, suppressed",
                   description="Grouped by up to two dimensions. Caseworkers count the cases their agency owns "
                               "or collaborates on; the secretariat and committee members all of them. Every "
                               "change committed before `as_of` is counted. Counts below the suppression "
                               "threshold are withheld, and so is anything they could be worked out from.")
    def get(self, request):
        params = _parameters(s.CaseStatisticsParameters, request)
        group_by = params.pop("group_by")
        return _answer(case_figures(request.user, group_by=group_by, filters=CaseFilters(**params)))


class HandoffStatisticsView(APIView):
    @extend_schema(parameters=[s.HandoffStatisticsParameters, _group_by(s.HANDOFF_DIMENSIONS),
                               LAST_MODIFIED_HEADER],
                   responses={200: s.HandoffStatisticsSerializer, 422: INVERTED_WINDOW},
                   summary="Counts and response times of handoffs",
                   description="Grouped by up to two dimensions, with pending and overdue counts and response "
                               "times; suppressed as the case statistics are.")
    def get(self, request):
        params = _parameters(s.HandoffStatisticsParameters, request)
        created_to = params.get("created_to")
        filters = HandoffFilters(
            created_since=day_start(params["created_from"]) if params.get("created_from") else None,
            created_until=day_start(created_to, days_after=1) if created_to else None)
        return _answer(handoff_figures(request.user, group_by=params["group_by"], filters=filters))


class SituationReportView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Figures since the previous meeting, and cumulative",
                   description="The situation report of a meeting: new and open cases, handoffs by direction and "
                               "action items, for the period since the committee's previous meeting and in "
                               "total, suppressed as the statistics are.")
    def get(self, request, pk):
        meeting = meeting_for(request.user, pk)
        return Response(situation_report(request.user, meeting).as_dict())
