from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.models import Agency
from cases.services import user_set_preferences

from .account_filters import AgencyFilter
from .account_serializers import AgencySerializer, MePreferencesSerializer, MeSerializer


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The caller: agency, roles, language, time zone",
                   description="Who the token belongs to. A good first call to check a new token.")
    def get(self, request):
        return Response(MeSerializer(request.user, context={"request": request}).data)

    @extend_schema(request=MePreferencesSerializer, responses=MeSerializer,
                   summary="Set the caller's language and time zone (used for emails)",
                   description="Reminders and other emails to you are written in this language and show times "
                               "in this zone.",
                   examples=[OpenApiExample("English, Chilean time", request_only=True,
                                            value={"language": "en", "time_zone": "America/Santiago"})])
    def patch(self, request):
        serializer = MePreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_set_preferences(user=request.user, **serializer.validated_data)
        return Response(MeSerializer(user, context={"request": request}).data)


@extend_schema_view(
    list=extend_schema(summary="Agencies taking part in the committee's work",
                       description="Each with its `code`, used to name an agency in the API (for example the "
                                   "receiving agency of a handoff). Managed by the committee's administrators."),
    retrieve=extend_schema(summary="One agency, by code", description="Its name, country, kind, language and "
                                                                      "time zone."),
)
class AgencyViewSet(viewsets.ReadOnlyModelViewSet):
    """Agencies taking part in the committee's work. Managed in the admin."""

    queryset = Agency.objects.all()
    serializer_class = AgencySerializer
    lookup_field = "code"
    lookup_value_regex = "[-a-zA-Z0-9_]+"  # a slug: anything else is no agency (404), never a database error
    filterset_class = AgencyFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name"]
    ordering = ["code"]
