"""The outbox accepts the event types it declares, and nothing else."""
import pytest

from outbox.models import Event, EventType
from outbox.services import UndeclaredEventType, emit, emit_many
from tests.factories import AgencyFactory, CaseFactory

pytestmark = pytest.mark.django_db


class TestEmit:
    def test_it_writes_a_declared_event_with_its_audience(self):
        """A declared type is written with the case's reference and the agencies that may see it."""
        case = CaseFactory()
        other = AgencyFactory()
        event = emit(EventType.CASE_UPDATED, obj=case, case=case, agencies=[case.owner_agency, other, None])
        stored = Event.objects.get()
        assert stored.pk == event.pk
        assert (stored.type, stored.object_type, stored.object_id, stored.case_reference) == (
            "case.updated", "case", str(case.pk), case.reference)
        assert set(stored.agencies.values_list("pk", flat=True)) == {case.owner_agency_id, other.pk}
        assert stored.position is None  # numbered by the sequencer once committed

    def test_it_refuses_an_undeclared_type_and_writes_nothing(self):
        """A type missing from EventType raises before any row is written."""
        case = CaseFactory()
        with pytest.raises(UndeclaredEventType, match="case.archived"):
            emit("case.archived", obj=case, case=case, agencies=[case.owner_agency])
        assert not Event.objects.exists()
        assert not Event.agencies.through.objects.exists()

    def test_it_refuses_a_near_miss(self):
        """Declared means exactly declared: no case folding, no prefixes."""
        case = CaseFactory()
        for near_miss in ("Case.Created", "case.created ", "case", ""):
            with pytest.raises(UndeclaredEventType):
                emit(near_miss, obj=case, case=case)
        assert not Event.objects.exists()


class TestEmitMany:
    def test_it_writes_a_batch_in_order(self):
        """Declared type: one event per item, ids in the items' order, each with its audience."""
        first, second = CaseFactory(), CaseFactory()
        events = emit_many(EventType.CASE_CLOSED, [(first, first, [first.owner_agency]),
                                                   (second, second, [second.owner_agency])])
        assert [e.pk for e in events] == list(Event.objects.order_by("id").values_list("pk", flat=True))
        assert list(Event.objects.order_by("id").values_list("object_id", "type")) == [
            (str(first.pk), "case.closed"), (str(second.pk), "case.closed")]
        assert Event.agencies.through.objects.count() == 2

    def test_it_refuses_an_undeclared_type_even_for_an_empty_batch(self):
        """The type is checked first, so a caller's bug shows even when there is nothing to write."""
        case = CaseFactory()
        with pytest.raises(UndeclaredEventType):
            emit_many("handoff.forgotten", [(case, case, [case.owner_agency])])
        with pytest.raises(UndeclaredEventType):
            emit_many("handoff.forgotten", [])
        assert not Event.objects.exists()
