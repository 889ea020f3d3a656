"""Every role × every data-protection endpoint × every method, from one
table. A route added to ``dataprotection.api.urls`` without a row here fails
``test_every_endpoint_and_method_has_a_rule``."""
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseAccessLog
from cases.roles import Role
from dataprotection.api import urls
from dataprotection.models import DataRequest
from tests.factories import HandoffFactory, UserFactory

ROLES = ("owner", "collaborator", "pending_recipient", "secretariat", "committee_member", "outsider", "no_agency")

RULES = {
    ("data-request-list", "GET"): dict.fromkeys(ROLES, 200),
    ("data-request-list", "POST"): {"owner": 201, "collaborator": 404, "pending_recipient": 404, "secretariat": 403,
                                    "committee_member": 403, "outsider": 404, "no_agency": 403},
    ("data-request-detail", "GET"): {**dict.fromkeys(ROLES, 404), "owner": 200, "secretariat": 200},
    ("data-request-extend", "POST"): {**dict.fromkeys(ROLES, 404), "owner": 200, "secretariat": 403},
    ("data-request-complete", "POST"): {**dict.fromkeys(ROLES, 404), "owner": 200, "secretariat": 403},
    ("person-export", "GET"): {**dict.fromkeys(ROLES, 404), "owner": 200, "collaborator": 403, "secretariat": 200},
}


def _routes():
    for pattern in urls.urlpatterns:
        view = pattern.callback
        actions = getattr(view, "actions", None)
        if actions is not None:
            methods = actions
        else:
            methods = {method: None for method in view.view_class.http_method_names
                       if hasattr(view.view_class, method) and method not in ("head", "options", "trace")}
        for method in methods:
            if method not in ("head", "options", "trace"):
                yield pattern.name, method.upper()


def test_every_endpoint_and_method_has_a_rule():
    assert set(_routes()) == set(RULES)
    for key, by_role in RULES.items():
        assert set(by_role) == set(ROLES), key


@pytest.fixture
def callers(request, family_case, pe_caseworker, cl_caseworker, int_agency, secretariat, committee_member, outsider):
    HandoffFactory(case=family_case, kind="referral", to_agency=cl_caseworker.agency, status="accepted")
    HandoffFactory(case=family_case, kind="transfer", to_agency=int_agency, status="pending")
    return {
        "owner": pe_caseworker, "collaborator": cl_caseworker,
        "pending_recipient": UserFactory(username="acnur.caseworker", agency=int_agency, roles=[Role.CASEWORKER]),
        "secretariat": secretariat, "committee_member": committee_member, "outsider": outsider,
        "no_agency": UserFactory(username="sin.agencia", roles=[Role.CASEWORKER]),
    }


def _kwargs(name, data_request, person, missing=False):
    if name == "data-request-list":
        return {}
    if name == "person-export":
        return {"person_id": uuid.uuid4() if missing else person.pk}
    return {"pk": uuid.uuid4() if missing else data_request.pk}


def _body(name, person, missing=False):
    return {
        "data-request-list": {"person": str(uuid.uuid4() if missing else person.pk), "kind": "access",
                              "channel": "email", "received_at": timezone.now().isoformat()},
        "data-request-extend": {"reason": "Revisión de archivos en otra sede."},
        "data-request-complete": {"outcome": "granted"},
    }.get(name, {})


def _state():
    return (list(DataRequest.objects.order_by("pk").values_list("status", "due_at", "extended_at")),
            CaseAccessLog.objects.count())


MATRIX = [(name, method, role, status) for (name, method), by_role in RULES.items() for role, status in by_role.items()]


@pytest.mark.django_db
@pytest.mark.parametrize("name,method,role,expected", MATRIX, ids=[f"{n}-{m}-{r}" for n, m, r, _ in MATRIX])
def test_access(client_for, callers, pe_caseworker, head, child, file_request, name, method, role, expected):
    data_request = DataRequest.objects.get(pk=file_request(pe_caseworker, head, "access").json()["id"])
    client = client_for(callers[role])
    before = _state()
    url = reverse(f"v1:{name}", kwargs=_kwargs(name, data_request, child))
    response = getattr(client, method.lower())(url, _body(name, child), format="json")
    assert response.status_code == expected, response.content
    if expected == 404:
        missing = reverse(f"v1:{name}", kwargs=_kwargs(name, data_request, child, missing=True))
        absent = getattr(client, method.lower())(missing, _body(name, child, missing=True), format="json")
        assert (response.status_code, response.json()) == (absent.status_code, absent.json())
    if expected >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert _state() == before  # nothing written, nothing logged
