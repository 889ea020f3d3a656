"""Data-subject requests: the handling agency is reminded 5 days and 1 day
before the legal deadline, once each, in its language, with the request's
reference and nothing about the person."""
import datetime

import pytest

from dataprotection.models import DataRequest
from reminders.models import Reminder
from tests.factories import case_with_family

from .conftest import DEADLINE, sweep_and_send, sweep_at
from .smtp import html_of, text_of

DAY = datetime.timedelta(days=1)
S = datetime.timedelta(seconds=1)
KIND = "data_request_due"


@pytest.fixture
def make_request(lima_agency):
    def make(*, agency=None, **fields):
        agency = agency or lima_agency
        person = case_with_family(agency, children=0).members.get()
        fields.setdefault("due_at", DEADLINE)
        return DataRequest.objects.create(reference=fields.pop("reference", "DP-2026-0000ABCD"), person=person,
                                          kind="erasure", channel="letter", received_at=DEADLINE - 14 * DAY,
                                          law="PE-29733", handled_by_agency=agency, **fields)

    return make


@pytest.mark.django_db
def test_it_reminds_the_handling_agency_5_days_and_1_day_before_once_each(rules, make_request, lima_agency):
    request = make_request()
    assert sweep_at(DEADLINE - 5 * DAY - S)[0].created == []
    first, _ = sweep_at(DEADLINE - 5 * DAY)
    assert sweep_at(DEADLINE - 5 * DAY + S)[0].created == []  # the same sweep again writes nothing
    assert sweep_at(DEADLINE - 2 * DAY)[0].created == []
    second, _ = sweep_at(DEADLINE - DAY)
    assert sweep_at(DEADLINE - DAY + S)[0].created == []
    reminders = list(Reminder.objects.order_by("due_at"))
    assert [r.pk for r in reminders] == first.created + second.created and len(reminders) == 2
    assert {(r.deadline_kind, r.target_id, r.target_label, r.recipient_agency, r.email) for r in reminders} == {
        (KIND, request.pk.hex, "DP-2026-0000ABCD", lima_agency, "upe@tacna.example")}
    assert [r.due_at for r in reminders] == [DEADLINE - 5 * DAY, DEADLINE - DAY]


@pytest.mark.django_db
def test_the_email_names_the_reference_only_in_the_agencys_language(rules, make_request, santiago_agency, smtp):
    santiago_agency.language = "en"
    santiago_agency.save()
    request = make_request(agency=santiago_agency, reference="DP-2026-00C0FFEE")
    sweep_and_send(DEADLINE - DAY)
    message, = smtp.to("frontera@pdi.example")
    assert "DP-2026-00C0FFEE" in message["Subject"] and message["Subject"].startswith("Reminder")
    assert message["Content-Language"] == "en"
    body = text_of(message) + html_of(message)
    person = request.person
    for value in (person.given_names, person.family_names, person.document_number, str(person.pk), "erasure"):
        assert value not in body and value not in message["Subject"]


@pytest.mark.django_db
def test_spanish_is_the_default(rules, make_request, smtp):
    make_request()
    sweep_and_send(DEADLINE - DAY)
    message, = smtp.to("upe@tacna.example")
    assert message["Subject"].strip().startswith("Recordatorio") and message["Content-Language"] == "es"


@pytest.mark.django_db
def test_an_answered_request_gets_no_reminder(rules, make_request):
    make_request(status="completed", outcome="granted")
    assert sweep_at(DEADLINE - DAY)[0].created == []
    assert not Reminder.objects.exists()
