"""The access table of the design, as one generated matrix: every role × every
case endpoint × every method. The table below is the single source; an endpoint
or method added to ``cases.api.case_urls``, or any other route under
``cases/<id>/``, without a row here fails ``test_every_endpoint_and_method_has_a_rule``."""
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.api import case_urls, handoff_urls
from cases.models import Case, CaseAccessLog, HistoryEntry
from cases.roles import Role
from outbox.models import Event
from tests.factories import ConsentFactory, UserFactory
from tests.privacy import assert_no_personal_data

from .conftest import case_body, member

ROLES = ("owner", "collaborator", "pending_recipient", "former_owner", "agenda_member", "secretariat",
         "committee_member", "outsider", "no_agency")
ROLE_FIXTURES = {"owner": "pe_caseworker", "collaborator": "collaborator", "pending_recipient": "pending_recipient",
                 "former_owner": "former_owner", "agenda_member": "agenda_member", "secretariat": "secretariat",
                 "committee_member": "committee_member",
                 "outsider": "outsider"}


def rule(owner, collaborator, limited, secretariat, person_route=False):
    """Expected statuses by role; outsiders, committee members without the
    case on an agenda and callers without agency always get 404. A committee
    member with the case on an agenda reads it like the other limited callers."""
    return {
        "owner": owner, "collaborator": collaborator,
        # Limited callers cannot reach people at all: a person is not a sub-resource of their view.
        "pending_recipient": 404 if person_route else limited, "former_owner": 404 if person_route else limited,
        "agenda_member": 404 if person_route else limited,
        "secretariat": secretariat, "committee_member": 404, "outsider": 404, "no_agency": 404,
    }


READ_FULL = rule(200, 200, 403, 200)
OWNER_WRITE = rule(200, 403, 403, 403)

RULES = {
    ("case-list", "GET"): dict.fromkeys(ROLES, 200),
    ("case-list", "POST"): {**dict.fromkeys(ROLES, 201), "secretariat": 403, "committee_member": 403,
                            "agenda_member": 403, "no_agency": 403},
    ("case-detail", "GET"): rule(200, 200, 200, 200),
    ("case-detail", "PATCH"): OWNER_WRITE,
    ("case-close", "POST"): OWNER_WRITE,
    ("case-reopen", "POST"): OWNER_WRITE,
    ("case-members", "GET"): READ_FULL,
    ("case-members", "POST"): rule(201, 403, 403, 403),
    ("case-member-detail", "PATCH"): OWNER_WRITE,
    ("case-member-detail", "DELETE"): rule(204, 403, 403, 403),
    ("case-notes", "GET"): READ_FULL,
    ("case-notes", "POST"): rule(201, 201, 403, 403),
    ("case-consents", "GET"): READ_FULL,
    ("case-consents", "POST"): rule(201, 403, 403, 403),
    ("case-consent-withdraw", "POST"): OWNER_WRITE,
    ("case-history", "GET"): READ_FULL,
    # The chain of handoffs: limited callers see those their own agency sent or received.
    ("case-handoff-list", "GET"): rule(200, 200, 200, 200),
    ("person-detail", "GET"): rule(200, 200, None, 200, person_route=True),
    ("person-detail", "PATCH"): rule(200, 403, None, 403, person_route=True),
}


def _case_routes():
    yield from case_urls.urlpatterns
    yield from (pattern for pattern in handoff_urls.urlpatterns if str(pattern.pattern).startswith("cases/"))


def _routes():
    for pattern in _case_routes():
        view = pattern.callback.view_class
        for method in view.http_method_names:
            if method not in ("head", "options", "trace") and hasattr(view, method):
                yield pattern.name, method.upper()


def test_every_endpoint_and_method_has_a_rule():
    assert set(_routes()) == set(RULES)
    for key, by_role in RULES.items():
        assert set(by_role) == set(ROLES), key


class World:
    """The family case of a Peruvian agency, with a consent, and what each
    request of the matrix needs."""

    def __init__(self, case):
        self.case = case
        self.head = case.memberships.get(relationship="head").person
        self.child = case.memberships.filter(relationship="child").first().person
        self.consent = ConsentFactory(case=case, given_by=self.head)

    def kwargs(self, name, *, missing=False):
        case_id = uuid.uuid4() if missing else self.case.pk
        person_id = uuid.uuid4() if missing else self.child.pk
        return {
            "case-list": {},
            "case-detail": {"case_id": case_id},
            "case-close": {"case_id": case_id},
            "case-reopen": {"case_id": case_id},
            "case-members": {"case_id": case_id},
            "case-member-detail": {"case_id": case_id, "person_id": self.child.pk},
            "case-notes": {"case_id": case_id},
            "case-consents": {"case_id": case_id},
            "case-consent-withdraw": {"case_id": case_id, "consent_id": self.consent.pk},
            "case-history": {"case_id": case_id},
            "case-handoff-list": {"case_id": case_id},
            "person-detail": {"person_id": person_id},
        }[name]

    def body(self, name, method):
        return {
            ("case-list", "POST"): case_body(members=[member(document_number="X-1")]),
            ("case-detail", "PATCH"): {"priority": "urgent"},
            ("case-close", "POST"): {"reason": "resolved", "note": "Continuó viaje a Lima."},
            ("case-members", "POST"): member(relationship="other_relative", given_names="Carmen",
                                             document_number="V-4.556.201", document_type="national_id"),
            ("case-member-detail", "PATCH"): {"relationship": "other_relative"},
            ("case-notes", "POST"): {"body": "Llamada de seguimiento.", "visibility": "shared"},
            ("case-consents", "POST"): {"scope": "share_committee", "method": "verbal",
                                        "given_at": timezone.now().isoformat(), "given_by": str(self.head.pk)},
            ("person-detail", "PATCH"): {"phone": "+51 952 111 222"},
        }.get((name, method), {})

    def prepare(self, name):
        if name == "case-reopen":
            Case.objects.filter(pk=self.case.pk).update(status="closed", closure_reason="resolved",
                                                        closed_at=timezone.now())


def _caller(request, role):
    if role == "no_agency":
        return UserFactory(username="sin.agencia", roles=[Role.CASEWORKER])
    return request.getfixturevalue(ROLE_FIXTURES[role])


def _state(case):
    case.refresh_from_db()
    return case.version, HistoryEntry.objects.count(), Event.objects.count(), Case.objects.count()


MATRIX = [(name, method, role, status) for (name, method), by_role in RULES.items()
          for role, status in by_role.items()]


@pytest.mark.django_db
@pytest.mark.parametrize("name,method,role,expected", MATRIX,
                         ids=[f"{n}-{m}-{r}" for n, m, r, _ in MATRIX])
def test_access(request, client_for, family_case, name, method, role, expected):
    world = World(family_case)
    caller = _caller(request, role)
    world.prepare(name)
    client = client_for(caller)
    before = _state(family_case)
    url = reverse(f"v1:{name}", kwargs=world.kwargs(name))
    response = getattr(client, method.lower())(url, world.body(name, method), format="json")

    assert response.status_code == expected, response.content
    after = _state(family_case)
    if expected == 404:
        # Exactly what a case that does not exist answers: nothing reveals it.
        missing = reverse(f"v1:{name}", kwargs=world.kwargs(name, missing=True))
        absent = getattr(client, method.lower())(missing, world.body(name, method), format="json")
        assert response["Content-Type"] == "application/problem+json"
        assert (response.status_code, response.json()) == (absent.status_code, absent.json())
    if expected >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert after == before  # nothing written, no event
    elif method != "GET":
        assert after[1] > before[1] and after[2] > before[2]  # history and outbox written
    if expected == 200 and name == "case-detail" and method == "GET":
        body = response.json()
        if role == "former_owner":
            assert body == {"id": str(family_case.pk), "reference": family_case.reference, "status": "open",
                            "access": "former_owner"}
        elif role in ("pending_recipient", "agenda_member"):
            assert body["access"] == "limited"
            assert set(body) == {"id", "reference", "status", "priority", "vulnerabilities", "member_count",
                                 "border_point", "owner_agency", "access"}
            assert_no_personal_data(body, family_case)
        else:
            assert body["members"] and body["access"] in ("owner", "collaborator", "oversight")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["pending_recipient", "former_owner", "agenda_member"])
def test_a_limited_caller_sees_the_case_in_the_list_without_personal_data(request, client_for, family_case, role):
    caller = request.getfixturevalue(role)
    body = client_for(caller).get("/api/v1/cases/").json()
    assert [row["reference"] for row in body["results"]] == [family_case.reference]
    assert body["results"][0]["access"] == ("former_owner" if role == "former_owner" else "limited")
    assert_no_personal_data(body, family_case)
    assert not CaseAccessLog.objects.exists()  # a limited read is not a read of personal data


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["outsider", "committee_member"])
def test_an_outsider_does_not_find_the_case_in_the_list(request, client_for, family_case, role):
    body = client_for(request.getfixturevalue(role)).get("/api/v1/cases/").json()
    assert body["results"] == []


@pytest.mark.django_db
def test_a_limited_caller_cannot_find_cases_by_the_people_on_them(client_for, family_case, pending_recipient):
    """Searching or filtering by names, documents or nationality only matches
    cases read in full: the limited view must not leak who is on a case."""
    client = client_for(pending_recipient)
    head = family_case.memberships.get(relationship="head").person
    for query in (f"search={head.family_names.split()[0]}", f"search={head.document_number}", "nationality=VE"):
        assert client.get(f"/api/v1/cases/?{query}").json()["results"] == [], query
    assert len(client.get(f"/api/v1/cases/?search={family_case.reference}").json()["results"]) == 1
