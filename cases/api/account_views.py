from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.models import Agency
from cases.services import user_set_preferences

from .account_filters import AgencyFilter
from .account_serializers import AgencySerializer, MePreferencesSerializer, MeSerializer


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The caller: agency, roles, language, time zone")
    def get(self, request):
        return Response(MeSerializer(request.user).data)

    @extend_schema(request=MePreferencesSerializer, responses=MeSerializer,
                   summary="Set the caller's language and time zone (used for emails)")
    def patch(self, request):
        serializer = MePreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_set_preferences(user=request.user, **serializer.validated_data)
        return Response(MeSerializer(user).data)


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
