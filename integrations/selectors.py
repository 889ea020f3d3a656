"""Reads of partner integration that depend on who asks. The feed's scoping
lives in ``feed.events_visible_to``."""
from django.db.models import Prefetch

from cases.roles import Role

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def manages_webhooks(user) -> bool:
    """Webhook endpoints belong to agencies; their caseworkers manage them."""
    return user.is_authenticated and user.has_role(Role.CASEWORKER) and user.agency_id is not None


def webhook_endpoints_visible_to(user):
    if not manages_webhooks(user):
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.of_agency(user.agency_id)


def deliveries_of(endpoint: WebhookEndpoint):
    return WebhookDelivery.objects.filter(endpoint=endpoint).prefetch_related(
        Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("attempted_at", "id")))
