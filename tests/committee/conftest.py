"""The binational committee with a Peruvian and a Chilean delegate, another
committee with a member of its own, and a scheduled meeting."""
import pytest

from cases.roles import Role
from tests.factories import UserFactory

from .factories import CommitteeFactory, MeetingFactory, MembershipFactory


@pytest.fixture
def committee(db):
    return CommitteeFactory(code="binacional", name="Comité Binacional Perú–Chile")


@pytest.fixture
def pe_delegate(committee, committee_member):
    """The standing committee member, chair of the Peruvian delegation."""
    MembershipFactory(committee=committee, user=committee_member, role="chair", delegation="PE")
    return committee_member


@pytest.fixture
def cl_delegate(committee):
    user = UserFactory(username="delegada.cl", roles=[Role.COMMITTEE_MEMBER], is_staff=True)
    MembershipFactory(committee=committee, user=user, role="member", delegation="CL")
    return user


@pytest.fixture
def other_committee(db):
    return CommitteeFactory(code="mesa-ninez", name="Mesa técnica de niñez")


@pytest.fixture
def other_member(other_committee):
    """A committee member, but of another committee."""
    user = UserFactory(username="delegado.otro", roles=[Role.COMMITTEE_MEMBER], is_staff=True)
    MembershipFactory(committee=other_committee, user=user, delegation="PE")
    return user


@pytest.fixture
def meeting(committee, pe_delegate, cl_delegate):
    return MeetingFactory(committee=committee, title="II Sesión ordinaria")
