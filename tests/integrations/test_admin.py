import pytest

from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.factories import UserFactory
from tests.staff import sign_in_to_admin


@pytest.fixture
def admin_client(client, db):
    return sign_in_to_admin(client, UserFactory(username="root", is_staff=True, is_superuser=True))


@pytest.mark.django_db
class TestWebhookAdmin:
    def test_it_lists_endpoints_without_their_secrets(self, admin_client, pe_agency, make_endpoint):
        endpoint = make_endpoint(pe_agency)
        changelist = admin_client.get("/admin/integrations/webhookendpoint/")
        detail = admin_client.get(f"/admin/integrations/webhookendpoint/{endpoint.pk}/change/")
        assert changelist.status_code == 200 and detail.status_code == 200
        assert endpoint.url in changelist.content.decode()
        assert endpoint.secret not in detail.content.decode()

    def test_the_redeliver_action_queues_failed_deliveries_through_the_service(self, admin_client, pe_agency,
                                                                            make_endpoint,
                                                                            django_capture_on_commit_callbacks):
        endpoint = make_endpoint(pe_agency)
        failed = WebhookDelivery.objects.create(endpoint=endpoint, event_type="webhook.ping", message_id="a",
                                                payload={}, status=DeliveryStatus.FAILED, attempt_count=8)
        done = WebhookDelivery.objects.create(endpoint=endpoint, event_type="webhook.ping", message_id="b",
                                              payload={}, status=DeliveryStatus.SUCCEEDED, attempt_count=1)
        with django_capture_on_commit_callbacks() as callbacks:
            response = admin_client.post("/admin/integrations/webhookdelivery/", {
                "action": "redeliver", "_selected_action": [str(failed.pk), str(done.pk)]}, follow=True)
        assert response.status_code == 200
        failed.refresh_from_db()
        done.refresh_from_db()
        assert failed.status == DeliveryStatus.PENDING and failed.attempt_count == 0
        assert done.status == DeliveryStatus.SUCCEEDED  # the rule holds in the admin too
        assert len(callbacks) == 1

    def test_switching_an_endpoint_off_goes_through_the_service(self, admin_client, pe_agency, make_endpoint):
        endpoint = make_endpoint(pe_agency)
        admin_client.post("/admin/integrations/webhookendpoint/", {
            "action": "switch_off", "_selected_action": [str(endpoint.pk)]}, follow=True)
        endpoint.refresh_from_db()
        assert not endpoint.active and endpoint.disabled_at is not None
        assert WebhookEndpoint.objects.count() == 1

    def test_endpoints_cannot_be_added_in_the_admin(self, admin_client):
        assert admin_client.get("/admin/integrations/webhookendpoint/add/").status_code == 403
