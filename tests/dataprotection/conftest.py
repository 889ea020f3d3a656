"""A Peruvian agency's family case (head and two children), the standing
callers, and a helper to file a request through the API."""
import datetime

import pytest

from tests.factories import case_with_family

UTC = datetime.UTC


@pytest.fixture
def family_case(pe_agency):
    return case_with_family(pe_agency, children=2)


@pytest.fixture
def head(family_case):
    return family_case.memberships.get(relationship="head").person


@pytest.fixture
def child(family_case):
    return family_case.memberships.filter(relationship="child").first().person


@pytest.fixture
def file_request(client_for):
    """``file_request(user, person, kind, **fields)`` → the response of the POST."""

    def post(user, person, kind, **fields):
        body = {"person": str(person.pk), "kind": kind, "channel": "in_person",
                "received_at": fields.pop("received_at", datetime.datetime.now(UTC)).isoformat(), **fields}
        return client_for(user).post("/api/v1/data-requests/", body, format="json")

    return post
