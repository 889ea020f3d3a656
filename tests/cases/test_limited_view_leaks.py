"""The limited view reveals nothing its body does not: not through its tag,
the incremental-sync filter or the list's cursors. What a pending recipient
sees must not move when the owner works on the case's private parts."""
import base64
import binascii
import datetime
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from cases.models import Case
from tests.factories import HandoffFactory, case_with_family


@pytest.fixture
def limited_case(cl_agency, pe_agency):
    """A Chilean case with a pending transfer to the Peruvian agency."""
    case = case_with_family(cl_agency, children=1, summary="Privado.")
    HandoffFactory(case=case, kind="transfer", to_agency=pe_agency, status="pending")
    return case


def read(client, case):
    response = client.get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200
    return response


@pytest.mark.django_db
class TestLimitedTag:
    def test_a_private_change_does_not_move_the_limited_tag(self, client_for, limited_case, pe_caseworker,
                                                            cl_caseworker):
        limited, owner = client_for(pe_caseworker), client_for(cl_caseworker)
        before = read(limited, limited_case)
        assert before.json()["access"] == "limited"
        owner_before = read(owner, limited_case)["ETag"]
        changed = owner.patch(f"/api/v1/cases/{limited_case.pk}/", {"summary": "Nueva entrevista."}, format="json")
        assert changed.status_code == 200
        assert Case.objects.get(pk=limited_case.pk).summary == "Nueva entrevista."
        assert changed["ETag"] != owner_before  # the owner's tag still follows every change
        after = read(limited, limited_case)
        assert after.json() == before.json() and after["ETag"] == before["ETag"]

    def test_a_change_the_limited_view_shows_moves_its_tag(self, client_for, limited_case, pe_caseworker,
                                                           cl_caseworker):
        limited = client_for(pe_caseworker)
        before = read(limited, limited_case)["ETag"]
        assert client_for(cl_caseworker).patch(f"/api/v1/cases/{limited_case.pk}/", {"priority": "urgent"},
                                               format="json").status_code == 200
        after = read(limited, limited_case)
        assert after.json()["priority"] == "urgent" and after["ETag"] != before


@pytest.mark.django_db
class TestLimitedSync:
    def test_updated_since_does_not_tell_when_a_limited_case_changed(self, client_for, limited_case, pe_caseworker,
                                                                     pe_agency):
        own = case_with_family(pe_agency)
        client = client_for(pe_caseworker)
        later = (timezone.now() + datetime.timedelta(days=1)).isoformat()
        earlier = (timezone.now() - datetime.timedelta(days=1)).isoformat()
        for since in (earlier, later):
            rows = client.get("/api/v1/cases/", {"updated_since": since}).json()["results"]
            listed = {row["id"]: row["access"] for row in rows}
            # Always listed, whether or not the owner touched it since.
            assert listed.get(str(limited_case.pk)) == "limited", since
        # The caller's own cases still follow their real time.
        rows = client.get("/api/v1/cases/", {"updated_since": later}).json()["results"]
        assert str(own.pk) not in {row["id"] for row in rows}
        rows = client.get("/api/v1/cases/", {"updated_since": earlier}).json()["results"]
        assert str(own.pk) in {row["id"] for row in rows}


def decoded(cursor: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        return b""


@pytest.mark.django_db
class TestLimitedCursor:
    @pytest.mark.parametrize("ordering", ["updated_at", "-updated_at", "created_at", "-created_at"])
    def test_a_cursor_does_not_carry_a_limited_rows_timestamps(self, client_for, limited_case, pe_caseworker,
                                                               pe_agency, ordering):
        case_with_family(pe_agency)
        client = client_for(pe_caseworker)
        page = client.get("/api/v1/cases/", {"ordering": ordering, "page_size": 1}).json()
        links = [page["next"]]
        second = client.get(page["next"]).json()
        links.append(second["previous"])
        case = Case.objects.get(pk=limited_case.pk)
        for link in filter(None, links):
            cursor = parse_qs(urlsplit(link).query)["cursor"][0]
            text = decoded(cursor)
            for stamp in (case.updated_at, case.created_at):
                assert stamp.isoformat().encode() not in text and str(stamp).encode() not in text
            assert not re.search(rb"20\d\d-\d\d-\d\d", text), text  # no timestamp of any row in the clear
        # The pages still work and list every case once.
        ids = [row["id"] for row in page["results"]] + [row["id"] for row in second["results"]]
        assert sorted(ids) == sorted({*ids}) and str(limited_case.pk) in ids
