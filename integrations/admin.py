"""Admin for webhooks: read the endpoints and every delivery attempt, switch
endpoints on or off and send failed deliveries again, through the services.
Endpoints are created by agencies over the API (the secret is shown there once)."""
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from api_core.errors import ServiceError

from . import services
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["url", "agency", "active", "disabled_reason", "consecutive_failures", "created_at"]
    list_filter = ["active", "disabled_reason", "agency"]
    search_fields = ["url", "description", "agency__code"]
    list_select_related = ["agency"]
    # Never the secrets.
    fields = ["agency", "url", "description", "event_types", "active", "disabled_reason", "disabled_at",
              "consecutive_failures", "previous_secret_expires_at", "feed_position", "created_by", "created_at",
              "updated_at"]
    readonly_fields = fields
    actions = ["switch_on", "switch_off"]

    def _set_active(self, request, queryset, active):
        for endpoint in queryset:
            services.endpoint_update(endpoint=endpoint, active=active)
        messages.success(request, _("%(count)d endpoint(s) updated.") % {"count": queryset.count()})

    @admin.action(description=_("Switch on (deliver events from now on)"), permissions=["change_active"])
    def switch_on(self, request, queryset):
        self._set_active(request, queryset, True)

    @admin.action(description=_("Switch off"), permissions=["change_active"])
    def switch_off(self, request, queryset):
        self._set_active(request, queryset, False)

    def has_change_active_permission(self, request):
        return request.user.has_perm("integrations.change_webhookendpoint")


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["attempted_at", "response_status", "error", "duration_ms", "succeeded"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "event_type", "endpoint", "status", "attempt_count", "next_attempt_at",
                    "delivered_at"]
    list_filter = ["status", "event_type", "endpoint__agency"]
    search_fields = ["message_id", "endpoint__url"]
    list_select_related = ["endpoint"]
    fields = ["endpoint", "event", "event_type", "message_id", "payload", "status", "attempt_count",
              "next_attempt_at", "created_at", "delivered_at"]
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    @admin.action(description=_("Send again"), permissions=["redeliver"])
    def redeliver(self, request, queryset):
        sent = 0
        for delivery in queryset:
            try:
                services.delivery_redeliver(delivery=delivery)
                sent += 1
            except ServiceError as exc:
                messages.warning(request, f"{delivery.message_id}: {exc.message}")
        if sent:
            messages.success(request, _("%(count)d delivery(ies) queued again.") % {"count": sent})

    def has_redeliver_permission(self, request):
        return request.user.has_perm("integrations.change_webhookdelivery")
