"""The caller's roles are read in the token's own statement: exactly what the
groups say at that request, never one request late."""
import pytest
from django.contrib.auth.models import Group

from api_core import token_cache
from cases.models import CaseAccessLog
from cases.roles import Role
from tests.factories import UserFactory, case_with_family

ME = "/api/v1/me/"


@pytest.mark.django_db
class TestRolesWithTheToken:
    def test_it_reads_every_role_of_the_caller(self, client_for, pe_agency, django_assert_num_queries):
        user = UserFactory(username="doble", agency=pe_agency, roles=[Role.CASEWORKER, Role.COMMITTEE_MEMBER])
        client = client_for(user)
        client.get(ME)  # the token's last use is stamped at most once a minute
        token_cache.forget_all()  # read from the database, not from this process's memory
        with django_assert_num_queries(1):
            body = client.get(ME).json()
        assert body["roles"] == sorted([Role.CASEWORKER.value, Role.COMMITTEE_MEMBER.value])

    def test_a_caller_without_roles_has_none(self, client_for, pe_agency):
        user = UserFactory(username="sin.rol", agency=pe_agency)
        assert client_for(user).get(ME).json()["roles"] == []
        case_with_family(pe_agency)
        assert client_for(user).get("/api/v1/cases/").json()["results"] == []

    def test_a_role_taken_away_counts_from_the_next_request(self, client_for, secretariat, pe_agency):
        case_with_family(pe_agency)
        client = client_for(secretariat)
        assert len(client.get("/api/v1/cases/").json()["results"]) == 1
        secretariat.groups.remove(Group.objects.get(name=Role.SECRETARIAT))
        assert client.get("/api/v1/cases/").json()["results"] == []
        assert client.get(ME).json()["roles"] == []
        assert CaseAccessLog.objects.count() == 1  # only the read made as secretariat

    def test_a_role_given_counts_from_the_next_request(self, client_for, pe_agency):
        user = UserFactory(username="nueva", agency=pe_agency)
        case = case_with_family(pe_agency)
        client = client_for(user)
        assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 404
        user.groups.add(Group.objects.get(name=Role.CASEWORKER))
        assert client.get(f"/api/v1/cases/{case.pk}/").json()["access"] == "owner"

    def test_other_groups_come_out_as_they_are_named(self, client_for, pe_caseworker):
        """Group names are read as text, whatever they hold."""
        pe_caseworker.groups.add(Group.objects.create(name='comité "ad hoc", 2026'))
        assert client_for(pe_caseworker).get(ME).json()["roles"] == sorted(
            [Role.CASEWORKER.value, 'comité "ad hoc", 2026'])
