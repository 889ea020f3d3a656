import factory

from cases.models import Agency, Country, User
from cases.services import ensure_role_groups


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
