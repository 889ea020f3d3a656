"""Cases of the standing agencies and the callers who see them in each way of
the access table (owner, collaborator, pending recipient, former owner,
secretariat, committee member, outsider)."""
import pytest

from cases.roles import Role
from tests.factories import AgencyFactory, HandoffFactory, UserFactory, case_with_family


def member(**fields) -> dict:
    """A new-person member for a request body."""
    return {
        "relationship": "head",
        "given_names": "Yusmary Carolina",
        "family_names": "Rodríguez Pérez",
        "sex": "female",
        "date_of_birth": "1991-04-12",
        "nationality": "VE",
        "document_type": "passport",
        "document_country": "VE",
        "document_number": "V-123.456.78",
        "phone": "+56 9 5555 1234",
        **fields,
    }


def case_body(**fields) -> dict:
    return {
        "summary": "Familia venezolana varada en Chacalluta.",
        "priority": "high",
        "vulnerabilities": ["family_with_children"],
        "border_point": "chacalluta_santa_rosa",
        "members": [
            member(),
            member(relationship="child", given_names="Santiago", family_names="Rodríguez", sex="male",
                   date_of_birth="2017-09-03", document_type="birth_certificate", document_number="AC-99123"),
        ],
        **fields,
    }


@pytest.fixture
def family_case(pe_agency):
    """A Peruvian agency's case: a head of family and two children."""
    return case_with_family(pe_agency, children=2)


@pytest.fixture
def collaborator(family_case, cl_caseworker):
    """The Chilean caseworker, whose agency has an accepted referral of the case."""
    HandoffFactory(case=family_case, kind="referral", to_agency=cl_caseworker.agency, status="accepted")
    return cl_caseworker


@pytest.fixture
def pending_recipient(family_case, int_agency):
    """A caseworker of an agency with a pending transfer of the case."""
    HandoffFactory(case=family_case, kind="transfer", to_agency=int_agency, status="pending")
    return UserFactory(username="acnur.caseworker", agency=int_agency, roles=[Role.CASEWORKER])


@pytest.fixture
def former_owner(family_case):
    """A caseworker of the agency that transferred the case to its owner."""
    agency = AgencyFactory(code="cl-pdi-chacalluta", country="CL", kind="police")
    HandoffFactory(case=family_case, kind="transfer", from_agency=agency, to_agency=family_case.owner_agency,
                   status="accepted")
    return UserFactory(username="pdi.caseworker", agency=agency, roles=[Role.CASEWORKER])


@pytest.fixture
def agenda_member(family_case, committee_member):
    """A committee member whose committee has the case on a scheduled meeting's agenda."""
    from tests.committee.factories import AgendaItemFactory, CommitteeFactory, MeetingFactory, MembershipFactory

    committee = CommitteeFactory(code="binacional", name="Comité Binacional Perú–Chile")
    MembershipFactory(committee=committee, user=committee_member, role="member", delegation="PE")
    meeting = MeetingFactory(committee=committee, status="scheduled")
    AgendaItemFactory(meeting=meeting, kind="case_review", case=family_case, title=family_case.reference)
    return committee_member
