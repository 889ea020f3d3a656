"""A committee member sees a case on an agenda of their committee as the
limited view, through the one access table in ``cases.selectors``."""
import pytest
from django.core.exceptions import ImproperlyConfigured

from cases import selectors as case_selectors
from cases.selectors import cases_visible_to
from committee.selectors import case_ids_on_agendas_of_member
from tests.factories import CaseFactory

from .factories import AgendaItemFactory, MeetingFactory, MembershipFactory


def _access(user):
    return dict(cases_visible_to(user).values_list("reference", "access"))


@pytest.mark.django_db
class TestCommitteeMemberCaseAccess:
    def test_a_case_on_an_agenda_is_seen_limited_and_no_other(self, pe_delegate, meeting, pe_agency):
        on_agenda = CaseFactory(owner_agency=pe_agency)
        CaseFactory(owner_agency=pe_agency)  # not on any agenda
        AgendaItemFactory(meeting=meeting, case=on_agenda, kind="case_review")
        assert _access(pe_delegate) == {on_agenda.reference: "limited"}

    def test_a_draft_agenda_shows_nothing_yet(self, pe_delegate, committee):
        case = CaseFactory()
        AgendaItemFactory(meeting=MeetingFactory(committee=committee, status="draft"), case=case)
        assert _access(pe_delegate) == {}

    def test_another_committees_agenda_shows_nothing(self, pe_delegate, other_committee):
        AgendaItemFactory(meeting=MeetingFactory(committee=other_committee), case=CaseFactory())
        assert _access(pe_delegate) == {}

    def test_a_past_agenda_still_counts(self, pe_delegate, committee):
        case = CaseFactory()
        AgendaItemFactory(meeting=MeetingFactory(committee=committee, status="held"), case=case)
        assert _access(pe_delegate) == {case.reference: "limited"}

    def test_the_role_is_needed_as_well_as_the_membership(self, committee, meeting, pe_caseworker, pe_agency):
        MembershipFactory(committee=committee, user=pe_caseworker, delegation="PE")
        foreign = CaseFactory()
        AgendaItemFactory(meeting=meeting, case=foreign)
        assert foreign.reference not in _access(pe_caseworker)

    def test_the_selector_gives_ids_of_cases(self, pe_delegate, meeting):
        case = CaseFactory()
        AgendaItemFactory(meeting=meeting, case=case)
        AgendaItemFactory(meeting=meeting)  # no case
        assert list(case_ids_on_agendas_of_member(pe_delegate)) == [case.pk]


class TestAgendaCaseProvider:
    """cases asks the committee app for agenda data through a registered provider, never by importing it."""

    def test_the_committee_app_registers_its_selector(self):
        """Registered once the apps are ready; registering the same one again changes nothing."""
        assert case_selectors._agenda_case_provider is case_ids_on_agendas_of_member
        case_selectors.register_agenda_case_provider(case_ids_on_agendas_of_member)
        assert case_selectors._agenda_case_provider is case_ids_on_agendas_of_member

    def test_a_second_different_provider_is_refused(self):
        """Two providers would be two answers to one access rule."""
        with pytest.raises(ImproperlyConfigured):
            case_selectors.register_agenda_case_provider(lambda user: None)
        assert case_selectors._agenda_case_provider is case_ids_on_agendas_of_member

    @pytest.mark.django_db
    def test_without_a_provider_a_committee_member_sees_nothing(self, pe_delegate, meeting, monkeypatch):
        """Denied by default: the rule that needs agenda data grants nothing when no one supplies it."""
        AgendaItemFactory(meeting=meeting, case=CaseFactory())
        monkeypatch.setattr(case_selectors, "_agenda_case_provider", None)
        assert case_selectors.committee_case_ids(pe_delegate) is None
        assert _access(pe_delegate) == {}
