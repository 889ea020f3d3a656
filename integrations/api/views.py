from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import services
from integrations.feed import decode_cursor, encode_cursor, event_json, events_visible_to, feed_page
from integrations.selectors import deliveries_of, manages_webhooks, webhook_endpoints_visible_to

from .serializers import (
    FeedPageSerializer,
    FeedQuerySerializer,
    WebhookDeliverySerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointPatchSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
)


class EventFeedView(APIView):
    @extend_schema(parameters=[FeedQuerySerializer], responses=FeedPageSerializer, tags=["events"],
                   operation_id="events_feed",
                   summary="The change feed: events the caller may see, oldest first, after a cursor",
                   description="Store `next` and send it back as `after`; ask again at once while `has_more`. "
                               "Events name the object and the case reference, never personal data: read the "
                               "object through the API.")
    def get(self, request):
        query = FeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after = decode_cursor(query.validated_data["after"]) if query.validated_data.get("after") else 0
        events, position, has_more = feed_page(events_visible_to(request.user), after=after,
                                               limit=query.validated_data["page_size"])
        # ``FeedPageSerializer``'s output, built directly: running the serializer over a
        # page of 100 events was a fifth of the request (docs/performance.md).
        return Response({"results": [event_json(event) for event in events], "next": encode_cursor(position),
                         "has_more": has_more})


class ManagesWebhooks(permissions.BasePermission):
    message = _("Only caseworkers of an agency manage its webhook endpoints.")

    def has_permission(self, request, view):
        return manages_webhooks(request.user)


@extend_schema_view(
    list=extend_schema(summary="The agency's webhook endpoints",
                       description="Each with its event types, whether it is active, and why it was switched off."),
    retrieve=extend_schema(summary="One webhook endpoint", description="Never its signing secret."),
    destroy=extend_schema(summary="Delete a webhook endpoint and its delivery log",
                          description="Nothing more is sent to it."),
)
@extend_schema(tags=["webhooks"])
class WebhookEndpointViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, ManagesWebhooks]
    serializer_class = WebhookEndpointSerializer
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return webhook_endpoints_visible_to(self.request.user)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    @extend_schema(request=WebhookEndpointInputSerializer, responses={201: WebhookEndpointWithSecretSerializer},
                   summary="Register an endpoint; the answer carries its signing secret, shown only this once",
                   description="An https:// address of your system. It receives the events your agency may see "
                               "(of the listed types, or all), each signed with the secret.")
    def create(self, request):
        serializer = WebhookEndpointInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(user=request.user, **serializer.validated_data)
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return Response(WebhookEndpointSerializer(self.get_object()).data)

    @extend_schema(request=WebhookEndpointPatchSerializer, responses=WebhookEndpointSerializer,
                   summary="Change an endpoint; switching it back on resumes delivery from now",
                   description="Address, description, event types, active. Events written while it was off are "
                               "not sent: read them from the change feed.")
    def partial_update(self, request, pk=None):
        serializer = WebhookEndpointPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(endpoint=self.get_object(), **serializer.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    def destroy(self, request, pk=None):
        services.endpoint_delete(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=WebhookEndpointWithSecretSerializer, operation_id="webhooks_rotate_secret",
                   summary="New signing secret; the old one stays valid for a grace period (both signatures sent)",
                   description="Shown only in this answer. Deploy it, then stop accepting the old one.")
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = services.endpoint_rotate_secret(endpoint=self.get_object())
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer}, operation_id="webhooks_test",
                   summary="Send a webhook.ping message to the endpoint (one attempt)",
                   description="So you can check your receiver. The answer is the delivery; its result "
                               "follows in the delivery log.")
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        delivery = services.endpoint_ping(endpoint=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=WebhookDeliverySerializer(many=True),
                   summary="The endpoint's deliveries, newest first, each with its attempts",
                   description="Each delivery's status and next attempt, and each attempt with your answer's "
                               "status or the error.")
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        page = self.paginate_queryset(deliveries_of(self.get_object()))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        request=None, responses={202: WebhookDeliverySerializer}, operation_id="webhooks_redeliver",
        parameters=[OpenApiParameter("delivery_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        summary="Send a failed delivery again, with a fresh retry schedule",
        description="A failed delivery only (409 `delivery_not_failed` otherwise), to an endpoint "
                    "that is switched on.",
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[^/.]+)/redeliver")
    def redeliver(self, request, pk=None, delivery_id=None):
        delivery = get_object_or_404(deliveries_of(self.get_object()), pk=delivery_id)
        delivery = services.delivery_redeliver(delivery=delivery)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
