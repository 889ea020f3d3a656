import pytest


@pytest.mark.django_db
def test_the_root_links_the_resources_and_the_docs(client_for, pe_caseworker):
    body = client_for(pe_caseworker).get("/api/v1/").json()
    assert body["cases"].endswith("/api/v1/cases/")
    assert body["handoffs"].endswith("/api/v1/handoffs/")
    assert body["meetings"].endswith("/api/v1/meetings/")
    assert body["action_items"].endswith("/api/v1/action-items/")
    assert body["docs"].endswith("/api/v1/docs/")


def test_the_root_needs_authentication(api_client):
    assert api_client.get("/api/v1/").status_code == 401
