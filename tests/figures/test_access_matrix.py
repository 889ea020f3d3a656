"""Who may read which figures: one table, every route of figures.api.urls in it."""
import pytest

from cases.models import Case, CaseAccessLog
from cases.roles import Role
from figures.api import urls as figures_urls
from tests.committee.factories import MeetingFactory, MembershipFactory
from tests.factories import UserFactory

ROLES = ["anonymous", "caseworker", "no_role", "secretariat", "member", "other_member"]

MATRIX = [
    # (route name, path, status per role in ROLES order)
    ("statistics-cases", "/api/v1/statistics/cases/", [401, 200, 403, 200, 200, 200]),
    ("statistics-handoffs", "/api/v1/statistics/handoffs/", [401, 200, 403, 200, 200, 200]),
    ("situation-report", "/api/v1/meetings/{meeting}/situation-report/", [401, 404, 404, 200, 200, 404]),
]


@pytest.fixture
def users(pe_caseworker, secretariat, committee_member):
    meeting = MeetingFactory()
    MembershipFactory(committee=meeting.committee, user=committee_member)
    other = UserFactory(username="otra.delegada", roles=[Role.COMMITTEE_MEMBER])
    MembershipFactory(committee=MeetingFactory().committee, user=other)
    return meeting, {"anonymous": None, "caseworker": pe_caseworker, "no_role": UserFactory(username="sin.rol"),
                     "secretariat": secretariat, "member": committee_member, "other_member": other}


def test_every_route_has_a_row():
    assert {pattern.name for pattern in figures_urls.urlpatterns} == {name for name, *_ in MATRIX}
    for pattern in figures_urls.urlpatterns:  # reads only: a write would need rows of its own
        assert not any(hasattr(pattern.callback.view_class, m) for m in ("post", "put", "patch", "delete"))


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "path", "expected"), MATRIX)
def test_each_role_gets_what_the_table_says(users, client_for, api_client, name, path, expected):
    """Reads only; a refusal is a problem+json and nothing is logged or stored."""
    meeting, by_role = users
    cases_before, logs_before = Case.objects.count(), CaseAccessLog.objects.count()
    for role, status in zip(ROLES, expected, strict=True):
        client = api_client if by_role[role] is None else client_for(by_role[role])
        response = client.get(path.format(meeting=meeting.pk))
        assert response.status_code == status, (role, response.content[:300])
        if status != 200:
            assert response["Content-Type"] == "application/problem+json"
        for method in ("post", "put", "patch", "delete"):
            if by_role[role] is not None:
                assert getattr(client, method)(path.format(meeting=meeting.pk)).status_code in (403, 405)
    assert (Case.objects.count(), CaseAccessLog.objects.count()) == (cases_before, logs_before)
