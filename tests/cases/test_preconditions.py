"""ETag on case and person reads; If-Match on writes → 412 when stale."""
import pytest

from api_core.preconditions import IfMatch, etag_for
from cases.models import Case, HistoryEntry, Person


def assert_precondition_failed(response):
    assert response.status_code == 412
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["status"], body["type"]) == ("precondition_failed", 412,
                                                            "urn:puente:problem:precondition_failed")


@pytest.mark.django_db
class TestCaseIfMatch:
    def test_the_etag_changes_with_every_change(self, client_for, pe_caseworker, family_case):
        client = client_for(pe_caseworker)
        first = client.get(f"/api/v1/cases/{family_case.pk}/")["ETag"]
        assert client.get(f"/api/v1/cases/{family_case.pk}/")["ETag"] == first  # stable while nothing changes
        patched = client.patch(f"/api/v1/cases/{family_case.pk}/", {"priority": "high"}, format="json")
        assert patched["ETag"] != first
        assert client.get(f"/api/v1/cases/{family_case.pk}/")["ETag"] == patched["ETag"]

    def test_a_current_tag_lets_the_change_through(self, client_for, pe_caseworker, family_case):
        client = client_for(pe_caseworker)
        tag = client.get(f"/api/v1/cases/{family_case.pk}/")["ETag"]
        response = client.patch(f"/api/v1/cases/{family_case.pk}/", {"priority": "high"}, format="json",
                                HTTP_IF_MATCH=tag)
        assert response.status_code == 200
        family_case.refresh_from_db()
        assert family_case.priority == "high"

    def test_a_stale_tag_is_412_and_nothing_changes(self, client_for, pe_caseworker, family_case):
        client = client_for(pe_caseworker)
        stale = client.get(f"/api/v1/cases/{family_case.pk}/")["ETag"]
        client.patch(f"/api/v1/cases/{family_case.pk}/", {"priority": "high"}, format="json")  # someone else
        response = client.patch(f"/api/v1/cases/{family_case.pk}/", {"priority": "low"}, format="json",
                                HTTP_IF_MATCH=stale)
        assert_precondition_failed(response)
        family_case.refresh_from_db()
        assert (family_case.priority, family_case.version) == ("high", 2)
        assert HistoryEntry.objects.filter(action="case.updated").count() == 1

    def test_a_shared_note_by_a_collaborator_also_makes_the_tag_stale(self, client_for, pe_caseworker, collaborator,
                                                                       family_case):
        """Only a note the owner may read: an ``agency`` one leaves no trace (test_note_visibility_traces)."""
        stale = client_for(pe_caseworker).get(f"/api/v1/cases/{family_case.pk}/")["ETag"]
        client_for(collaborator).post(f"/api/v1/cases/{family_case.pk}/notes/",
                                      {"body": "Visita.", "visibility": "shared"}, format="json")
        response = client_for(pe_caseworker).post(f"/api/v1/cases/{family_case.pk}/close/", {"reason": "resolved"},
                                                  format="json", HTTP_IF_MATCH=stale)
        assert_precondition_failed(response)
        family_case.refresh_from_db()
        assert family_case.status == "open"

    @pytest.mark.parametrize("header,status", [("*", 200), ('"nope", {tag}', 200), ("W/{tag}", 412),
                                               ('"nope"', 412)])
    def test_if_match_forms(self, client_for, pe_caseworker, family_case, header, status):
        client = client_for(pe_caseworker)
        tag = client.get(f"/api/v1/cases/{family_case.pk}/")["ETag"]
        response = client.patch(f"/api/v1/cases/{family_case.pk}/", {"priority": "high"}, format="json",
                                HTTP_IF_MATCH=header.format(tag=tag))
        assert response.status_code == status
        family_case.refresh_from_db()
        assert family_case.priority == ("high" if status == 200 else "normal")

    def test_without_if_match_the_write_goes_through(self, client_for, pe_caseworker, family_case):
        response = client_for(pe_caseworker).patch(f"/api/v1/cases/{family_case.pk}/", {"priority": "high"},
                                                   format="json")
        assert response.status_code == 200

    def test_the_tag_is_strong_and_names_no_data(self, family_case):
        tag = etag_for(family_case)
        assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
        assert str(family_case.pk) not in tag and str(family_case.version) != tag.strip('"')
        assert IfMatch.parse(tag).matches(family_case)
        Case.objects.filter(pk=family_case.pk).update(version=2)
        family_case.refresh_from_db()
        assert not IfMatch.parse(tag).matches(family_case)


@pytest.mark.django_db
class TestPersonIfMatch:
    def test_a_stale_tag_is_412(self, client_for, pe_caseworker, family_case):
        client = client_for(pe_caseworker)
        person = family_case.members.first()
        stale = client.get(f"/api/v1/people/{person.pk}/")["ETag"]
        fresh = client.patch(f"/api/v1/people/{person.pk}/", {"phone": "+51 1"}, format="json",
                             HTTP_IF_MATCH=stale)
        assert fresh.status_code == 200 and fresh["ETag"] != stale
        response = client.patch(f"/api/v1/people/{person.pk}/", {"phone": "+51 2"}, format="json",
                                HTTP_IF_MATCH=stale)
        assert_precondition_failed(response)
        assert Person.objects.get(pk=person.pk).phone == "+51 1"
