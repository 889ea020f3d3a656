"""Closed cases older than the retention period are anonymised."""
import datetime
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from cases.models import Case, DuplicateCandidate, HistoryEntry, Note, Person
from cases.services.casework import case_close, case_update, note_add, person_update
from cases.tasks.retention import anonymise_closed_cases
from tests.factories import CaseMemberFactory, ConsentFactory, PersonFactory, case_with_family

NOW = datetime.datetime(2032, 6, 1, 12, 0, tzinfo=datetime.UTC)


def closed_case(agency, actor, *, closed_on):
    """A case with history, notes and a consent, closed on ``closed_on``."""
    case = case_with_family(agency, children=1)
    head = case.memberships.get(relationship="head").person
    with time_machine.travel(closed_on, tick=False):
        case_update(actor=actor, case_id=case.pk, summary="Yusmary Rodríguez, pasaporte 158734920")
        person_update(actor=actor, person_id=head.pk, phone="+56 9 6123 4410")
        note_add(actor=actor, case_id=case.pk, body="Vive con su hermano en Tacna.")
        ConsentFactory(case=case, given_by=head)
        case_close(actor=actor, case_id=case.pk, reason="resolved", note="Viajó a Lima con su hermano Pedro.")
    case.refresh_from_db()
    return case


@pytest.fixture
def old_case(pe_agency, pe_caseworker):
    return closed_case(pe_agency, pe_caseworker, closed_on=NOW - datetime.timedelta(days=5 * 366))


@pytest.mark.django_db
class TestAnonymiseClosedCases:
    def test_it_anonymises_an_expired_case_and_its_people(self, old_case):
        people = list(old_case.members.all())
        with time_machine.travel(NOW, tick=False):
            assert anonymise_closed_cases() == 1

        old_case.refresh_from_db()
        assert old_case.anonymised_at == NOW and old_case.summary == old_case.closure_note == ""
        assert (old_case.reference, old_case.status, old_case.member_count) != ("", "open", 0)
        assert list(Note.objects.filter(case=old_case).values_list("body", flat=True)) == [""]
        for person in Person.objects.filter(pk__in=[p.pk for p in people]):
            assert person.anonymised_at == NOW
            assert (person.given_names, person.family_names, person.document_number, person.phone) == ("",) * 4
            assert person.date_of_birth is None and person.document_type == "none"
            assert person.nationality == "VE"  # kept for the statistics
        history = HistoryEntry.objects.filter(case=old_case)
        text = str(list(history.values_list("changes", flat=True)))
        for secret in ("Yusmary", "158734920", "6123", "Pedro", "hermano", people[0].given_names,
                       people[0].document_number):
            assert secret not in text
        assert history.filter(action="person.updated").get().changes == {"phone": [None, None]}
        assert history.get(action="case.closed").changes["status"] == ["open", "closed"]
        anonymised = history.get(action="case.anonymised")
        assert anonymised.actor is None and anonymised.changes == {}

    def test_a_person_still_on_a_live_case_keeps_their_data(self, old_case, client_for, pe_caseworker,
                                                            cl_agency):
        head = old_case.memberships.get(relationship="head").person
        CaseMemberFactory(case=case_with_family(cl_agency, children=0), person=head, relationship="other")
        with time_machine.travel(NOW, tick=False):
            anonymise_closed_cases()
        head.refresh_from_db()
        assert head.anonymised_at is None and head.given_names
        body = client_for(pe_caseworker).get(f"/api/v1/cases/{old_case.pk}/").json()
        shown = next(row for row in body["members"] if row["person"] == str(head.pk))
        assert (shown["given_names"], shown["document_number"], shown["date_of_birth"]) == ("", "", None)
        assert client_for(pe_caseworker).get(f"/api/v1/people/{head.pk}/").status_code == 404

    def test_recent_and_open_cases_are_left_alone(self, pe_agency, pe_caseworker, old_case):
        recent = closed_case(pe_agency, pe_caseworker, closed_on=NOW - datetime.timedelta(days=4 * 365))
        still_open = case_with_family(pe_agency)
        Case.objects.filter(pk=still_open.pk).update(created_at=NOW - datetime.timedelta(days=8 * 365))
        with time_machine.travel(NOW, tick=False):
            anonymise_closed_cases()
        for case in (recent, still_open):
            case.refresh_from_db()
            assert case.anonymised_at is None and case.summary
            assert all(person.anonymised_at is None for person in case.members.all())

    def test_a_second_run_changes_nothing(self, old_case):
        with time_machine.travel(NOW, tick=False):
            anonymise_closed_cases()
            entries = HistoryEntry.objects.count()
            assert anonymise_closed_cases() == 0
        assert HistoryEntry.objects.count() == entries

    def test_the_period_is_a_setting(self, old_case, settings):
        settings.PUENTE = {**settings.PUENTE, "RETENTION_YEARS": 10}
        with time_machine.travel(NOW, tick=False):
            assert anonymise_closed_cases() == 0
        old_case.refresh_from_db()
        assert old_case.anonymised_at is None

    def test_possible_duplicates_of_anonymised_people_go(self, old_case, cl_agency):
        head = old_case.memberships.get(relationship="head").person
        DuplicateCandidate.objects.create(new_person=PersonFactory(created_by_agency=cl_agency),
                                          existing_person=head)
        with time_machine.travel(NOW, tick=False):
            anonymise_closed_cases()
        assert not DuplicateCandidate.objects.exists()

    def test_an_anonymised_case_cannot_be_reopened(self, old_case, client_for, pe_caseworker):
        with time_machine.travel(NOW, tick=False):
            anonymise_closed_cases()
        response = client_for(pe_caseworker).post(f"/api/v1/cases/{old_case.pk}/reopen/")
        assert response.status_code == 409 and response.json()["code"] == "case_anonymised"
        old_case.refresh_from_db()
        assert old_case.status == "closed"

    def test_it_runs_daily_from_beat(self):
        entry = settings.CELERY_BEAT_SCHEDULE["anonymise-closed-cases"]
        assert entry["task"] == anonymise_closed_cases.name
        assert entry["schedule"].hour == {7} and entry["schedule"].minute == {30}


@pytest.mark.django_db
class TestAnonymiseCommand:
    def test_dry_run_lists_and_changes_nothing(self, old_case):
        out = StringIO()
        with time_machine.travel(NOW, tick=False):
            call_command("anonymise_closed_cases", "--dry-run", stdout=out)
        assert old_case.reference in out.getvalue()
        assert "1 case(s)" in out.getvalue() and "would be anonymised" in out.getvalue()
        old_case.refresh_from_db()
        assert old_case.anonymised_at is None and old_case.summary

    def test_it_anonymises(self, old_case):
        out = StringIO()
        with time_machine.travel(NOW, tick=False):
            call_command("anonymise_closed_cases", stdout=out)
        assert old_case.reference in out.getvalue()
        old_case.refresh_from_db()
        assert old_case.anonymised_at == NOW
        assert timezone.is_aware(old_case.anonymised_at)
