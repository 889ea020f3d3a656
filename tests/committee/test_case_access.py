"""A committee member sees a case on an agenda of their committee as the
limited view, through the one access table in ``cases.selectors``."""
import pytest

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
