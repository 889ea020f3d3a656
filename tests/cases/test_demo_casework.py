"""The demo cases of ``seed_demo``."""
import pytest
from django.core.management import call_command

from cases.models import Case, HistoryEntry, Person
from outbox.models import Event


def counts():
    return Case.objects.count(), Person.objects.count(), HistoryEntry.objects.count(), Event.objects.count()


@pytest.mark.django_db
class TestDemoCases:
    def test_it_creates_open_cases_at_the_crossing_once(self):
        call_command("seed_demo", stdout=None)
        first = counts()
        call_command("seed_demo", stdout=None)
        assert counts() == first

        assert first[0] >= 6
        assert set(Case.objects.values_list("status", flat=True)) == {"open"}
        assert Case.objects.filter(border_point="chacalluta_santa_rosa").count() >= 4
        for flag in ("unaccompanied_minor", "asylum_seeker", "family_with_children", "pregnancy"):
            assert Case.objects.with_vulnerability(flag).exists(), flag
        assert {"pe-migraciones", "cl-sermig", "pe-upe-tacna", "int-acnur-tacna"} <= set(
            Case.objects.values_list("owner_agency__code", flat=True))
        references = sorted(Case.objects.values_list("reference", flat=True))
        assert [int(reference[-6:]) for reference in references] == list(range(1, len(references) + 1))
        for case in Case.objects.all():
            assert case.member_count == case.memberships.count() >= 1
            assert case.memberships.filter(relationship="head").count() == 1
        assert HistoryEntry.objects.filter(action="case.created", actor__isnull=False).count() == first[0]
