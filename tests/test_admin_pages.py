"""Every admin page a demo user can open renders: the secretariat's and a
committee member's daily tools, on the demo data."""
import io

import pytest
from django.contrib import admin
from django.core.management import call_command

from cases.models import User
from tests.staff import sign_in_to_admin


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["secretaria", "delegado.pe"])
def test_every_admin_list_and_first_change_page_renders(client, username):
    call_command("seed_demo", stdout=io.StringIO())
    sign_in_to_admin(client, User.objects.get(username=username))
    assert client.get("/admin/").status_code == 200
    opened = 0
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        response = client.get(url)
        assert response.status_code in (200, 302, 403), (url, response.status_code)
        if response.status_code != 200:
            continue
        opened += 1
        first = model_admin.get_queryset(response.wsgi_request).first()
        if first is not None:
            change = client.get(f"{url}{first.pk}/change/")
            assert change.status_code in (200, 302, 403), (url, change.status_code)
    assert opened >= 3
