import datetime

import factory
from django.db.models import F
from django.utils import timezone

from cases.models import Agency, Case, CaseMember, Consent, Country, Handoff, Note, Person, User
from cases.services import ensure_role_groups
from cases.services.search import case_search_refresh


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"agency-{n}")
    name = factory.LazyAttribute(lambda o: f"Agency {o.code}")
    country = Country.PERU
    kind = "migration_authority"
    contact_email = factory.LazyAttribute(lambda o: f"contact@{o.code}.example")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("secret-password")
    language = "es"

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        groups = ensure_role_groups()
        self.groups.add(*(groups[role] for role in extracted))
        self.__dict__.pop("roles", None)  # drop the cached role set


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    given_names = factory.Iterator(["María José", "Luis Alberto", "Yusmary", "Carlos Eduardo", "Daniela"])
    family_names = factory.Iterator(["Pérez Rojas", "González", "Rodríguez Silva", "Hernández", "Mendoza"])
    sex = "female"
    date_of_birth = datetime.date(1990, 5, 17)
    nationality = "VE"
    document_type = "passport"
    document_country = "VE"
    document_number = factory.Sequence(lambda n: f"V{n:08d}")
    phone = "+51 952 000 000"
    created_by_agency = factory.SubFactory(AgencyFactory)


class CaseFactory(factory.django.DjangoModelFactory):
    """A case with a reference outside the real sequence (``TC-…``), so tests
    that exercise the gapless allocator are not disturbed."""

    class Meta:
        model = Case

    reference = factory.Sequence(lambda n: f"TC-2026-{n:06d}")
    summary = "Familia varada en el complejo fronterizo de Chacalluta."
    priority = "normal"
    border_point = "chacalluta_santa_rosa"
    owner_agency = factory.SubFactory(AgencyFactory)


class CaseMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseMember

    case = factory.SubFactory(CaseFactory)
    person = factory.SubFactory(PersonFactory, created_by_agency=factory.SelfAttribute("..case.owner_agency"))
    relationship = "head"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        member = super()._create(model_class, *args, **kwargs)
        Case.objects.filter(pk=member.case_id).update(member_count=F("member_count") + 1)
        member.case.member_count += 1
        case_search_refresh(case_ids=[member.case_id])  # as the services do
        return member


def case_with_family(owner_agency, *, children: int = 1, **case_fields) -> Case:
    """A case with a head of family and ``children`` children."""
    case = CaseFactory(owner_agency=owner_agency, vulnerable_family_with_children=children > 0, **case_fields)
    CaseMemberFactory(case=case, relationship="head")
    for _ in range(children):
        CaseMemberFactory(case=case, relationship="child",
                          person__date_of_birth=datetime.date(2018, 3, 2), person__document_type="birth_certificate")
    case.refresh_from_db()
    return case


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    case = factory.SubFactory(CaseFactory)
    scope = "share_cross_border"
    method = "written"
    given_at = factory.LazyFunction(timezone.now)
    given_by = factory.LazyAttribute(lambda o: o.case.members.first() or PersonFactory(
        created_by_agency=o.case.owner_agency))
    recorded_by_agency = factory.SelfAttribute("case.owner_agency")


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    case = factory.SubFactory(CaseFactory)
    agency = factory.SelfAttribute("case.owner_agency")
    body = "Entrevista realizada en el albergue de Tacna."
    visibility = "agency"


class HandoffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Handoff

    kind = "transfer"
    case = factory.SubFactory(CaseFactory)
    from_agency = factory.SelfAttribute("case.owner_agency")
    to_agency = factory.SubFactory(AgencyFactory, country="CL")
    reason = "La familia solicita continuar su trámite en el otro país."
    response_due = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=72))
    status = "pending"
    legal_basis = "consent"
