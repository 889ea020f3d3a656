"""POST /api/v1/handoffs/: who may hand a case on, to whom, when, and on
which legal basis."""
import datetime

import pytest
import time_machine
from django.utils import timezone

from cases.models import Case, Handoff, HistoryEntry
from outbox.models import Event
from tests.factories import AgencyFactory, CaseFactory, ConsentFactory, HandoffFactory, UserFactory
from tests.privacy import assert_no_personal_data

URL = "/api/v1/handoffs/"


def payload(case_, **fields):
    return {"case": str(case_.pk), "to_agency": "cl-sermig", "kind": "transfer",
            "reason": "La familia continúa su trámite en Arica.", "legal_basis": "consent", **fields}


@pytest.mark.django_db
class TestCreateHandoff:
    def test_it_creates_a_pending_transfer(self, client_for, pe_caseworker, cl_agency, pe_case, consent, counts):
        """201 with the handoff; history and outbox written with it."""
        written = counts()
        due = timezone.now() + datetime.timedelta(days=2)
        response = client_for(pe_caseworker).post(URL, payload(pe_case, response_due=due.isoformat()))
        assert response.status_code == 201, response.content
        body = response.json()
        handoff = Handoff.objects.get()
        assert body["id"] == str(handoff.pk)
        assert body["case"] == str(pe_case.pk)
        assert body["case_reference"] == pe_case.reference
        assert body["status"] == "pending"
        assert (body["from_agency"], body["to_agency"]) == ("pe-migraciones", "cl-sermig")
        assert body["is_overdue"] is False and body["is_cross_border"] is True
        assert body["legal_basis"] == "consent"
        assert {"rejection_reason", "response_note", "responded_at", "completed_at", "created_at",
                "updated_at", "services_requested", "legal_basis_note"} <= set(body)
        assert handoff.response_due == due
        assert handoff.requested_by == pe_caseworker
        assert (handoff.from_agency, handoff.to_agency) == (pe_case.owner_agency, cl_agency)
        assert written.history == ["handoff.created"]
        assert written.events == ["handoff.created"]
        event = Event.objects.get(type="handoff.created")
        assert event.object_id == str(handoff.pk) and event.case_reference == pe_case.reference
        assert set(event.agencies.values_list("code", flat=True)) == {"pe-migraciones", "cl-sermig"}
        entry = HistoryEntry.objects.get(action="handoff.created")
        assert entry.case == pe_case and entry.actor == pe_caseworker
        assert entry.changes["status"] == [None, "pending"]
        pe_case.refresh_from_db()
        assert pe_case.owner_agency.code == "pe-migraciones"  # nothing moves before acceptance
        assert_no_personal_data(response, pe_case)

    def test_it_defaults_the_deadline_from_the_policy(self, client_for, pe_caseworker, cl_agency, pe_case, consent,
                                                      settings):
        settings.PUENTE = {**settings.PUENTE, "HANDOFF_RESPONSE_HOURS": 48}
        with time_machine.travel(datetime.datetime(2026, 12, 1, 15, 0, tzinfo=datetime.UTC), tick=False):
            response = client_for(pe_caseworker).post(URL, payload(pe_case))
        assert response.status_code == 201, response.content
        assert Handoff.objects.get().response_due == datetime.datetime(2026, 12, 3, 15, 0, tzinfo=datetime.UTC)
        assert response.json()["response_due"].startswith("2026-12-03T")

    def test_it_keeps_a_deadline_given_in_santiago_time_as_the_same_instant(self, client_for, cl_caseworker,
                                                                             pe_agency, cl_agency):
        """Chile is on summer time (UTC−3) in December, Peru on UTC−5 all year."""
        case = CaseFactory(owner_agency=cl_agency)
        with time_machine.travel(datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC), tick=False):
            response = client_for(cl_caseworker).post(URL, payload(
                case, to_agency="pe-migraciones", legal_basis="cooperation_agreement",
                legal_basis_note="Acuerdo binacional.", response_due="2026-12-04T14:00:00-03:00"))
        assert response.status_code == 201, response.content
        assert Handoff.objects.get().response_due == datetime.datetime(2026, 12, 4, 17, 0, tzinfo=datetime.UTC)
        shown = datetime.datetime.fromisoformat(response.json()["response_due"])
        assert shown == datetime.datetime(2026, 12, 4, 17, 0, tzinfo=datetime.UTC)

    def test_it_creates_a_referral_to_an_international_organisation(self, client_for, pe_caseworker, int_agency,
                                                                     pe_case, consent):
        response = client_for(pe_caseworker).post(URL, payload(
            pe_case, to_agency="int-acnur-tacna", kind="referral", services_requested="Orientación sobre refugio."))
        assert response.status_code == 201, response.content
        assert response.json()["is_cross_border"] is True
        assert Handoff.objects.get().services_requested == "Orientación sobre refugio."

    def test_it_needs_no_legal_basis_within_one_country(self, client_for, pe_caseworker, outsider_agency, pe_case):
        response = client_for(pe_caseworker).post(URL, payload(
            pe_case, to_agency="pe-defensoria", legal_basis=""))
        assert response.status_code == 201, response.content
        assert response.json()["is_cross_border"] is False
        assert Handoff.objects.get().legal_basis == ""

    def test_it_hands_a_case_back_after_a_transfer(self, client_for, pe_caseworker, cl_caseworker, pe_case,
                                                   consent):
        """Peru → Chile → Peru: the receiver, now the owner, may hand it back."""
        first = client_for(pe_caseworker).post(URL, payload(pe_case)).json()
        assert client_for(cl_caseworker).post(f"{URL}{first['id']}/accept/", {}).status_code == 200
        back = client_for(cl_caseworker).post(URL, payload(pe_case, to_agency="pe-migraciones"))
        assert back.status_code == 201, back.content
        assert (back.json()["from_agency"], back.json()["to_agency"]) == ("cl-sermig", "pe-migraciones")
        assert client_for(pe_caseworker).post(f"{URL}{back.json()['id']}/accept/", {}).status_code == 200
        pe_case.refresh_from_db()
        assert pe_case.owner_agency.code == "pe-migraciones"
        assert pe_case.version == 3
        chain = client_for(pe_caseworker).get(f"/api/v1/cases/{pe_case.pk}/handoffs/").json()["results"]
        assert [(h["from_agency"], h["to_agency"], h["status"]) for h in chain] == [
            ("pe-migraciones", "cl-sermig", "accepted"), ("cl-sermig", "pe-migraciones", "accepted")]


# --- Refusals: one table ---------------------------------------------------------
# (name, caller fixture, payload changes, setup, status, code, field)

def _close(case, **_):
    Case.objects.filter(pk=case.pk).update(status="closed", closure_reason="resolved")


def _pending_transfer(case, pe_agency, **_):
    HandoffFactory(case=case, from_agency=pe_agency, to_agency=AgencyFactory(code="cl-pdi-chacalluta", country="CL"))


def _inactive_receiver(case, **_):
    AgencyFactory(code="cl-inactive", country="CL", active=False)


def _accepted_referral_to_cl(case, pe_agency, **_):
    HandoffFactory(case=case, from_agency=pe_agency, to_agency=AgencyFactory(code="cl-sermig", country="CL"),
                   kind="referral", status="accepted")


def _pending_transfer_to_cl(case, pe_agency, **_):
    HandoffFactory(case=case, from_agency=pe_agency, to_agency=AgencyFactory(code="cl-sermig", country="CL"))


PAST = "2020-01-01T00:00:00Z"

REFUSALS = [
    ("outsider", "outsider", {}, None, 404, "not_found", None),
    ("committee member", "committee_member", {}, None, 404, "not_found", None),
    ("secretariat", "secretariat", {}, None, 403, "not_case_owner", None),
    ("collaborator", "cl_caseworker", {"to_agency": "pe-defensoria"}, _accepted_referral_to_cl, 403,
     "not_case_owner", None),
    ("pending recipient", "cl_caseworker", {"to_agency": "pe-defensoria"}, _pending_transfer_to_cl, 403,
     "not_case_owner", None),
    ("user of the owner without the caseworker role", "pe_clerk", {}, None, 404, "not_found", None),
    ("closed case", "pe_caseworker", {}, _close, 409, "case_closed", None),
    ("pending transfer", "pe_caseworker", {}, _pending_transfer, 409, "pending_transfer_exists", None),
    ("unknown agency", "pe_caseworker", {"to_agency": "cl-nowhere"}, None, 422, "unknown_agency", "to_agency"),
    ("inactive agency", "pe_caseworker", {"to_agency": "cl-inactive"}, _inactive_receiver, 422,
     "agency_inactive", "to_agency"),
    ("own agency", "pe_caseworker", {"to_agency": "pe-migraciones"}, None, 422, "same_agency", "to_agency"),
    ("deadline in the past", "pe_caseworker", {"response_due": PAST}, None, 422, "response_due_not_in_future",
     "response_due"),
    ("referral without services", "pe_caseworker", {"kind": "referral"}, None, 422, "services_required",
     "services_requested"),
    ("blank reason", "pe_caseworker", {"reason": "  "}, None, 400, "validation_error", "reason"),
    ("unknown kind", "pe_caseworker", {"kind": "loan"}, None, 400, "validation_error", "kind"),
    ("no case", "pe_caseworker", {"case": None}, None, 400, "validation_error", "case"),
    ("case that does not exist", "pe_caseworker", {"case": "6f1c1a4e-0000-4000-8000-000000000000"}, None, 404,
     "not_found", None),
]


@pytest.fixture
def pe_clerk(pe_agency):
    return UserFactory(username="pe.clerk", agency=pe_agency)


@pytest.mark.django_db
class TestCreateHandoffRefusals:
    @pytest.mark.parametrize("name,caller,changes,setup,status,code,field", REFUSALS, ids=[r[0] for r in REFUSALS])
    def test_it_refuses(self, request, client_for, pe_agency, cl_agency, outsider_agency, pe_case, consent, counts,
                        name, caller, changes, setup, status, code, field):
        if setup:
            setup(pe_case, pe_agency=pe_agency)
        before = Handoff.objects.count()
        written = counts()
        body = {key: value for key, value in payload(pe_case, **changes).items() if value is not None}
        response = client_for(request.getfixturevalue(caller)).post(URL, body)
        assert response.status_code == status, response.content
        assert response["Content-Type"].startswith("application/problem+json")
        assert response.json()["code"] == code
        if field:
            assert field in [error["field"] for error in response.json()["errors"]]
        assert Handoff.objects.count() == before
        written.assert_nothing_written()


# --- The consent gate --------------------------------------------------------------
# (to agency, legal basis, consent on the case, justification, status, code)

CONSENT_GATE = [
    ("cl-sermig", "", "active", "", 422, "legal_basis_required"),
    ("int-acnur-tacna", "", "active", "", 422, "legal_basis_required"),
    ("cl-sermig", "consent", None, "", 422, "consent_required"),
    ("cl-sermig", "consent", "withdrawn", "", 422, "consent_required"),
    ("cl-sermig", "consent", "committee only", "", 422, "consent_required"),
    ("cl-sermig", "consent", "active", "", 201, None),
    ("int-acnur-tacna", "consent", "active", "", 201, None),
    ("cl-sermig", "vital_interest", None, "", 422, "justification_required"),
    ("cl-sermig", "vital_interest", None, "Menor en riesgo de trata.", 201, None),
    ("cl-sermig", "legal_obligation", None, "", 422, "justification_required"),
    ("cl-sermig", "legal_obligation", None, "Orden del juzgado de familia de Tacna.", 201, None),
    ("cl-sermig", "cooperation_agreement", None, "", 422, "justification_required"),
    ("cl-sermig", "cooperation_agreement", None, "Acuerdo binacional de cooperación.", 201, None),
    ("int-acnur-tacna", "legal_obligation", "withdrawn", "Mandato de protección internacional.", 201, None),
    ("pe-defensoria", "", None, "", 201, None),
    ("pe-defensoria", "consent", None, "", 422, "consent_required"),
    ("pe-defensoria", "vital_interest", None, "", 422, "justification_required"),
]


@pytest.mark.django_db
class TestCreateHandoffConsentGate:
    @pytest.mark.parametrize("to_agency,legal_basis,consent_state,note,status,code", CONSENT_GATE)
    def test_it_applies_the_consent_gate(self, client_for, pe_caseworker, cl_agency, int_agency, outsider_agency,
                                         pe_case, counts, to_agency, legal_basis, consent_state, note, status, code):
        if consent_state == "active":
            ConsentFactory(case=pe_case)
        elif consent_state == "withdrawn":
            ConsentFactory(case=pe_case, withdrawn_at=timezone.now())
        elif consent_state == "committee only":
            ConsentFactory(case=pe_case, scope="share_committee")
        written = counts()
        response = client_for(pe_caseworker).post(URL, payload(
            pe_case, to_agency=to_agency, legal_basis=legal_basis, legal_basis_note=note))
        assert response.status_code == status, response.content
        if code:
            assert response.json()["code"] == code
            assert not Handoff.objects.exists()
            written.assert_nothing_written()
        else:
            handoff = Handoff.objects.get()
            assert (handoff.legal_basis, handoff.legal_basis_note) == (legal_basis, note)
            assert written.events == ["handoff.created"]


@pytest.mark.django_db
class TestCreateHandoffMessages:
    def test_it_answers_in_spanish_and_english(self, client_for, pe_caseworker, cl_agency, pe_case):
        spanish = client_for(pe_caseworker, HTTP_ACCEPT_LANGUAGE="es").post(URL, payload(pe_case))
        english = client_for(pe_caseworker, HTTP_ACCEPT_LANGUAGE="en").post(URL, payload(pe_case))
        assert spanish.status_code == english.status_code == 422
        assert english.json()["detail"] == "The case has no active consent to share its data across the border."
        assert spanish.json()["detail"] == (
            "El caso no tiene un consentimiento vigente para compartir sus datos al otro lado de la frontera.")



@pytest.mark.django_db
class TestCreateHandoffContract:
    """What the schema says a handoff request may hold is what the server takes."""

    @pytest.mark.parametrize("changes,field", [
        ({"to_agency": 7}, "to_agency"),
        ({"to_agency": "cl sermig"}, "to_agency"),
        ({"reason": 7}, "reason"),
        ({"legal_basis": "Consent"}, "legal_basis"),
    ])
    def test_a_request_the_schema_refuses_is_a_400_naming_the_field(self, client_for, pe_caseworker, cl_agency,
                                                                    pe_case, consent, counts, changes, field):
        from tests.openapi import conforms

        body = payload(pe_case, **changes)
        assert not conforms("HandoffCreateRequest", body)
        written = counts()
        response = client_for(pe_caseworker).post(URL, body, format="json")
        assert response.status_code == 400, response.content
        assert [error["field"] for error in response.json()["errors"]] == [field]
        assert not Handoff.objects.exists()
        written.assert_nothing_written()

    def test_a_pending_handoff_fits_the_schema_with_its_blank_answers(self, client_for, pe_caseworker, cl_agency,
                                                                     pe_case, consent):
        from tests.openapi import conforms

        response = client_for(pe_caseworker).post(URL, payload(pe_case), format="json")
        body = response.json()
        assert response.status_code == 201
        assert body["rejection_reason"] == "" and body["legal_basis"] == "consent"
        assert conforms("Handoff", body)
        domestic = client_for(pe_caseworker).get(f"/api/v1/handoffs/{body['id']}/").json()
        assert conforms("Handoff", {**domestic, "legal_basis": ""})
