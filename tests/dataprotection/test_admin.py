"""The secretariat's list of requests, overdue ones highlighted, and the
person's printable record in Spanish or English, its read logged."""
import datetime

import pytest
from django.test import Client

from cases.models import CaseAccessLog
from dataprotection.models import DataRequest
from tests.staff import sign_in_to_admin

LIST = "/admin/dataprotection/datarequest/"
UTC = datetime.UTC


@pytest.fixture
def requests_(pe_caseworker, head, child, file_request):
    old = file_request(pe_caseworker, head, "access", received_at=datetime.datetime(2026, 7, 20, 15, tzinfo=UTC))
    recent = file_request(pe_caseworker, child, "opposition")
    return DataRequest.objects.get(pk=old.json()["id"]), DataRequest.objects.get(pk=recent.json()["id"])


def _client(user):
    client = Client()
    sign_in_to_admin(client, user)
    return client


@pytest.mark.django_db
def test_the_secretariat_sees_every_request_with_its_deadline(secretariat, requests_):
    old, recent = requests_
    response = _client(secretariat).get(LIST)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 2
    html = response.content.decode()
    assert old.reference in html and recent.reference in html
    assert html.count('style="color:#ba2121"') == 1  # only the overdue one is highlighted
    assert _client(secretariat).get(f"{LIST}?overdue=yes").context["cl"].result_count == 1


@pytest.mark.django_db
def test_a_caseworker_has_no_admin(pe_caseworker, requests_):
    response = _client(pe_caseworker).get(LIST)
    assert response.status_code == 302  # to the login page: not staff


@pytest.mark.django_db
@pytest.mark.parametrize("language,title", [("es", "Registro de datos personales"), ("en", "Personal data record")])
def test_the_printable_record_in_each_language(secretariat, requests_, head, family_case, language, title):
    old, _recent = requests_
    before = CaseAccessLog.objects.count()
    response = _client(secretariat).get(f"{LIST}{old.pk}/export/{language}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert title in html and head.given_names in html and family_case.reference in html
    assert CaseAccessLog.objects.count() == before + 1
    assert CaseAccessLog.objects.latest("pk").access == "subject_export"


@pytest.mark.django_db
def test_a_committee_member_cannot_print_a_record(committee_member, requests_):
    old, _recent = requests_
    before = CaseAccessLog.objects.count()
    response = _client(committee_member).get(f"{LIST}{old.pk}/export/es/")
    assert response.status_code == 403
    assert CaseAccessLog.objects.count() == before
