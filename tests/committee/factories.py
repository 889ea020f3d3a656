import datetime

import factory
from django.utils import timezone

from committee.models import ActionItem, AgendaItem, Attendance, Committee, Decision, Meeting, Membership
from tests.factories import AgencyFactory


class CommitteeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Committee
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"committee-{n}")
    name = factory.LazyAttribute(lambda o: f"Comité {o.code}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    committee = factory.SubFactory(CommitteeFactory)
    role = "member"
    delegation = "PE"


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    committee = factory.SubFactory(CommitteeFactory)
    title = factory.Sequence(lambda n: f"Sesión ordinaria {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=2))
    time_zone = "America/Lima"
    mode = "in_person"
    place = "Gobierno Regional de Tacna, sala de sesiones"
    status = "scheduled"


class AgendaItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgendaItem

    meeting = factory.SubFactory(MeetingFactory)
    position = factory.LazyAttribute(lambda o: AgendaItem.objects.filter(meeting=o.meeting).count() + 1)
    kind = "discussion"
    title = factory.Sequence(lambda n: f"Punto {n}")
    case = None
    case_label = factory.LazyAttribute(lambda o: o.case.reference if o.case else "")


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Decision

    agenda_item = factory.SubFactory(AgendaItemFactory)
    text = "Se acuerda habilitar un canal directo entre ambas oficinas."
    outcome = "adopted"
    position_pe = "in_favour"
    position_cl = "in_favour"


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    title = factory.Sequence(lambda n: f"Tarea {n}")
    owner_agency = factory.SubFactory(AgencyFactory)
    due_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=10))


class AttendanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attendance

    meeting = factory.SubFactory(MeetingFactory)
    delegation = "PE"
    status = "present"
    counts_for_quorum = True
