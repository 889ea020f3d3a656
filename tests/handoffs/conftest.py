"""Fixtures for the handoff tests: a Peruvian family case, its consent, and
handoffs in any status between the standing agencies."""
import pytest
from django.utils import timezone

from cases.models import HistoryEntry
from cases.roles import Role
from outbox.models import Event
from tests.factories import ConsentFactory, HandoffFactory, UserFactory, case_with_family

# Every personal field of a person, as it could appear in a JSON body.


@pytest.fixture
def pe_case(pe_agency):
    """An open case of pe-migraciones: a head of family and two children."""
    return case_with_family(pe_agency, children=2)


@pytest.fixture
def consent(pe_case):
    return ConsentFactory(case=pe_case, scope="share_cross_border")


@pytest.fixture
def cl_colleague(cl_agency):
    """A second caseworker of the receiving agency."""
    return UserFactory(username="cl.colleague", agency=cl_agency, roles=[Role.CASEWORKER])


@pytest.fixture
def make_handoff(pe_case, pe_agency, cl_agency):
    """``make_handoff(status=…, kind=…, **fields)``: a handoff of ``pe_case``
    from pe-migraciones to cl-sermig, stored as it would be in that status."""

    def make(status="pending", kind="transfer", **fields):
        now = timezone.now()
        stamps = {
            "accepted": {"responded_at": now},
            "rejected": {"responded_at": now, "rejection_reason": "no_capacity"},
            "withdrawn": {"withdrawn_at": now},
            "completed": {"responded_at": now, "completed_at": now},
        }.get(status, {})
        values = {"case": pe_case, "from_agency": pe_agency, "to_agency": cl_agency, "kind": kind,
                  "status": status, "legal_basis": "cooperation_agreement",
                  "legal_basis_note": "Acuerdo binacional.", **stamps, **fields}
        return HandoffFactory(**values)

    return make


class Counts:
    """History rows and outbox events written since the fixture was taken."""

    def __init__(self):
        self.history_before = HistoryEntry.objects.count()
        self.events_before = Event.objects.count()

    @property
    def history(self):
        return list(HistoryEntry.objects.order_by("id")[self.history_before:].values_list("action", flat=True))

    @property
    def events(self):
        return list(Event.objects.order_by("id")[self.events_before:].values_list("type", flat=True))

    def assert_nothing_written(self):
        assert HistoryEntry.objects.count() == self.history_before
        assert Event.objects.count() == self.events_before


@pytest.fixture
def counts():
    """Take it *after* the data the test starts from is in place."""
    return Counts


