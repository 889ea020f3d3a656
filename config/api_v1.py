"""Version 1 of the API. A future v2 gets a module of its own beside this one."""
from django.urls import include, path, re_path
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from api_core.exceptions import api_not_found
from api_core.views import Ping, RedocView, SchemaView, SwaggerView


class ApiRoot(APIView):
    """Entry point: where the resources and the documentation are."""

    schema = None  # a list of links, not part of the contract

    def get(self, request, *args, **kwargs):
        def link(name, **kw):
            return reverse(f"v1:{name}", request=request, kwargs=kw)

        return Response({
            "me": link("me"),
            "agencies": link("agency-list"),
            "cases": link("case-list"),
            "handoffs": link("handoff-list"),
            "data_requests": link("data-request-list"),
            "committees": link("committee-list"),
            "meetings": link("meeting-list"),
            "action_items": link("action-item-list"),
            "events": link("event-feed"),
            "webhooks": link("webhook-list"),
            "schema": link("schema"),
            "docs": link("docs"),
        })


docs_urlpatterns = [
    path("schema/", SchemaView.as_view(api_version="v1"), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="v1:schema"), name="docs"),
    path("redoc/", RedocView.as_view(url_name="v1:schema"), name="redoc"),
]

urlpatterns = [
    path("", ApiRoot.as_view(), name="root"),
    path("ping/", Ping.as_view(), name="ping"),
    *docs_urlpatterns,
    path("", include("cases.api.urls")),
    path("", include("committee.api.urls")),
    path("", include("figures.api.urls")),
    path("", include("integrations.api.urls")),
    path("", include("dataprotection.api.urls")),
    # Anything else under /api/v1/ is a problem+json 404, whatever DEBUG says.
    re_path(r"^.*$", api_not_found),
]
