"""POST /api/v1/handoffs/{id}/accept|reject|withdraw|complete|reschedule/:
every transition, allowed or refused, by each role and agency — generated
from one table — and what each one writes."""
import datetime
import itertools

import pytest
from django.utils import timezone

from cases.models import Case, Handoff, HistoryEntry
from tests.factories import ConsentFactory, UserFactory
from tests.privacy import assert_no_personal_data

STATUSES = ["pending", "accepted", "rejected", "withdrawn", "completed"]
ACTIONS = ["accept", "reject", "withdraw", "complete", "reschedule", "end"]
KINDS = ["transfer", "referral"]
# sender: caseworker of pe-migraciones; receiver: caseworker of cl-sermig;
# receiver_clerk: a user of cl-sermig without the caseworker role.
ACTORS = ["sender", "receiver", "secretariat", "outsider", "committee_member", "receiver_clerk"]
CANNOT_SEE = {"outsider", "committee_member", "receiver_clerk"}

# (status, action) → who may do it. Everything else is refused. The sender
# owns the case here, so it is the one who ends an accepted referral.
ALLOWED_FOR_KIND = {("referral", "accepted", "end"): "sender"}
ALLOWED = {
    ("pending", "accept"): "receiver",
    ("pending", "reject"): "receiver",
    ("pending", "withdraw"): "sender",
    ("accepted", "complete"): "receiver",
    ("pending", "reschedule"): "sender",
}
RESULT = {"accept": "accepted", "reject": "rejected", "withdraw": "withdrawn", "complete": "completed",
          "reschedule": "pending", "end": "withdrawn"}
EVENT = {"accept": "handoff.accepted", "reject": "handoff.rejected", "withdraw": "handoff.withdrawn",
         "complete": "handoff.completed", "reschedule": "handoff.rescheduled", "end": "handoff.withdrawn"}


def body_for(action):
    return {
        "accept": {"note": "Recibido."},
        "reject": {"reason": "no_capacity", "note": "Sin cupos en el albergue."},
        "withdraw": {"note": "La familia ya no lo necesita."},
        "complete": {"note": "Servicio prestado."},
        "end": {"note": "Seguimos nosotros."},
        "reschedule": {"response_due": (timezone.now() + datetime.timedelta(days=5)).isoformat()},
    }[action]


def expected(actor, status, action, kind):
    if actor in CANNOT_SEE:
        return 404
    allowed = ALLOWED_FOR_KIND.get((kind, status, action)) or ALLOWED.get((status, action))
    return 200 if allowed == actor else 409


MATRIX = list(itertools.product(KINDS, STATUSES, ACTIONS, ACTORS))


@pytest.fixture
def actors(pe_caseworker, cl_caseworker, secretariat, outsider, committee_member, cl_agency):
    return {"sender": pe_caseworker, "receiver": cl_caseworker, "secretariat": secretariat, "outsider": outsider,
            "committee_member": committee_member,
            "receiver_clerk": UserFactory(username="cl.clerk", agency=cl_agency)}


@pytest.mark.django_db
class TestHandoffTransitionMatrix:
    @pytest.mark.parametrize("kind,status,action,actor", MATRIX, ids=["-".join(row) for row in MATRIX])
    def test_it_allows_or_refuses(self, client_for, actors, make_handoff, pe_case, counts, kind, status, action,
                                  actor):
        handoff = make_handoff(status=status, kind=kind)
        written = counts()
        response = client_for(actors[actor]).post(f"/api/v1/handoffs/{handoff.pk}/{action}/", body_for(action))

        want = expected(actor, status, action, kind)
        assert response.status_code == want, response.content
        handoff.refresh_from_db()
        pe_case.refresh_from_db()
        if want == 200:
            assert response.json()["status"] == handoff.status == RESULT[action]
            assert_no_personal_data(response, pe_case)
            moves = kind == "transfer" and action == "accept"
            assert written.events == [EVENT[action]]
            assert written.history == [EVENT[action]] + (["case.owner_changed"] if moves else [])
            assert pe_case.owner_agency.code == ("cl-sermig" if moves else "pe-migraciones")
            assert pe_case.version == (2 if moves else 1)
        else:
            assert response["Content-Type"].startswith("application/problem+json")
            assert response.json()["code"] == ("not_found" if want == 404 else "invalid_transition")
            assert handoff.status == status
            assert pe_case.owner_agency.code == "pe-migraciones" and pe_case.version == 1
            written.assert_nothing_written()


@pytest.mark.django_db
class TestAcceptHandoff:
    def test_it_moves_ownership_with_a_transfer(self, client_for, cl_caseworker, pe_caseworker, make_handoff,
                                                pe_case, counts):
        Case.objects.filter(pk=pe_case.pk).update(assigned_to=pe_caseworker)
        handoff = make_handoff()
        written = counts()
        response = client_for(cl_caseworker).post(f"/api/v1/handoffs/{handoff.pk}/accept/", {"note": "Recibido."})
        assert response.status_code == 200, response.content
        assert response.json()["response_note"] == "Recibido."
        assert response.json()["responded_at"] is not None
        pe_case.refresh_from_db()
        handoff.refresh_from_db()
        assert pe_case.owner_agency.code == "cl-sermig"
        assert pe_case.assigned_to is None  # a caseworker of the old owner no longer fits
        assert pe_case.version == 2
        assert handoff.responded_by == cl_caseworker
        owner_change = HistoryEntry.objects.get(action="case.owner_changed")
        assert owner_change.object_type == "case" and owner_change.case == pe_case
        assert owner_change.changes == {
            "owner_agency": [handoff.from_agency_id, handoff.to_agency_id],
            "assigned_to": [pe_caseworker.pk, None],
        }
        assert written.events == ["handoff.accepted"]

    def test_it_makes_the_receiver_a_collaborator_with_a_referral(self, client_for, cl_caseworker, make_handoff,
                                                                  pe_case, counts):
        handoff = make_handoff(kind="referral", services_requested="Atención psicológica.")
        written = counts()
        response = client_for(cl_caseworker).post(f"/api/v1/handoffs/{handoff.pk}/accept/", {})
        assert response.status_code == 200, response.content
        pe_case.refresh_from_db()
        assert pe_case.owner_agency.code == "pe-migraciones" and pe_case.version == 1
        assert written.history == ["handoff.accepted"]

    @pytest.mark.parametrize("kind", KINDS)
    def test_it_refuses_when_the_consent_was_withdrawn(self, client_for, cl_caseworker, make_handoff, pe_case,
                                                       consent, counts, kind):
        handoff = make_handoff(kind=kind, legal_basis="consent", legal_basis_note="")
        consent.withdrawn_at = timezone.now()
        consent.save()
        written = counts()
        response = client_for(cl_caseworker).post(f"/api/v1/handoffs/{handoff.pk}/accept/", {})
        assert response.status_code == 422, response.content
        assert response.json()["code"] == "consent_withdrawn"
        handoff.refresh_from_db()
        pe_case.refresh_from_db()
        assert handoff.status == "pending" and pe_case.owner_agency.code == "pe-migraciones"
        written.assert_nothing_written()

    def test_it_accepts_when_a_new_consent_replaced_the_withdrawn_one(self, client_for, cl_caseworker, make_handoff,
                                                                      pe_case, consent):
        handoff = make_handoff(legal_basis="consent")
        consent.withdrawn_at = timezone.now()
        consent.save()
        ConsentFactory(case=pe_case)
        response = client_for(cl_caseworker).post(f"/api/v1/handoffs/{handoff.pk}/accept/", {})
        assert response.status_code == 200, response.content

    @pytest.mark.parametrize("legal_basis", ["vital_interest", "legal_obligation", "cooperation_agreement"])
    def test_it_does_not_need_the_consent_on_another_basis(self, client_for, cl_caseworker, make_handoff, pe_case,
                                                           consent, legal_basis):
        handoff = make_handoff(legal_basis=legal_basis, legal_basis_note="Justificación registrada.")
        consent.withdrawn_at = timezone.now()
        consent.save()
        response = client_for(cl_caseworker).post(f"/api/v1/handoffs/{handoff.pk}/accept/", {})
        assert response.status_code == 200, response.content
        pe_case.refresh_from_db()
        assert pe_case.owner_agency.code == "cl-sermig"

    def test_it_refuses_a_closed_case(self, client_for, cl_caseworker, make_handoff, pe_case, counts):
        handoff = make_handoff()
        Case.objects.filter(pk=pe_case.pk).update(status="closed", closure_reason="left_region")
        written = counts()
        response = client_for(cl_caseworker).post(f"/api/v1/handoffs/{handoff.pk}/accept/", {})
        assert response.status_code == 409
        assert response.json()["code"] == "case_closed"
        written.assert_nothing_written()

    def test_it_refuses_a_transfer_whose_sender_no_longer_owns_the_case(self, client_for, cl_caseworker,
                                                                        make_handoff, pe_case, outsider_agency):
        handoff = make_handoff()
        Case.objects.filter(pk=pe_case.pk).update(owner_agency=outsider_agency)
        response = client_for(cl_caseworker).post(f"/api/v1/handoffs/{handoff.pk}/accept/", {})
        assert response.status_code == 409
        assert response.json()["code"] == "handoff_sender_not_owner"
        pe_case.refresh_from_db()
        assert pe_case.owner_agency == outsider_agency

    def test_it_answers_404_for_an_id_that_is_not_a_uuid(self, client_for, cl_caseworker):
        response = client_for(cl_caseworker).post("/api/v1/handoffs/not-a-uuid/accept/", {})
        assert response.status_code == 404


@pytest.mark.django_db
class TestRejectHandoff:
    def test_it_records_the_coded_reason_and_the_note(self, client_for, cl_caseworker, make_handoff, counts):
        handoff = make_handoff()
        written = counts()
        response = client_for(cl_caseworker).post(f"/api/v1/handoffs/{handoff.pk}/reject/",
                                                  {"reason": "out_of_mandate", "note": "Corresponde a la PDI."})
        assert response.status_code == 200, response.content
        assert response.json()["rejection_reason"] == "out_of_mandate"
        handoff.refresh_from_db()
        assert (handoff.status, handoff.rejection_reason, handoff.response_note) == (
            "rejected", "out_of_mandate", "Corresponde a la PDI.")
        assert handoff.responded_by == cl_caseworker and handoff.responded_at is not None
        entry = HistoryEntry.objects.get(action="handoff.rejected")
        assert entry.changes["status"] == ["pending", "rejected"]
        assert entry.changes["rejection_reason"] == ["", "out_of_mandate"]
        assert written.events == ["handoff.rejected"]

    @pytest.mark.parametrize("body,status,code,field", [
        ({}, 400, "validation_error", "reason"),
        ({"reason": "tired"}, 400, "validation_error", "reason"),
        ({"reason": "other"}, 422, "note_required", "note"),
        ({"reason": "other", "note": "   "}, 422, "note_required", "note"),
    ])
    def test_it_needs_a_coded_reason(self, client_for, cl_caseworker, make_handoff, counts, body, status, code,
                                     field):
        handoff = make_handoff()
        written = counts()
        response = client_for(cl_caseworker).post(f"/api/v1/handoffs/{handoff.pk}/reject/", body)
        assert response.status_code == status
        assert response.json()["code"] == code
        assert [error["field"] for error in response.json()["errors"]] == [field]
        handoff.refresh_from_db()
        assert handoff.status == "pending"
        written.assert_nothing_written()

    def test_it_accepts_other_with_a_note(self, client_for, cl_caseworker, make_handoff):
        handoff = make_handoff()
        response = client_for(cl_caseworker).post(f"/api/v1/handoffs/{handoff.pk}/reject/",
                                                  {"reason": "other", "note": "El albergue está en cuarentena."})
        assert response.status_code == 200
        assert Handoff.objects.get(pk=handoff.pk).rejection_reason == "other"


@pytest.mark.django_db
class TestWithdrawHandoff:
    def test_it_keeps_the_note_for_the_receiver(self, client_for, pe_caseworker, cl_caseworker, make_handoff):
        handoff = make_handoff()
        response = client_for(pe_caseworker).post(f"/api/v1/handoffs/{handoff.pk}/withdraw/",
                                                  {"note": "La familia decidió quedarse en Tacna."})
        assert response.status_code == 200, response.content
        handoff.refresh_from_db()
        assert handoff.status == "withdrawn" and handoff.withdrawn_at is not None
        assert handoff.responded_at is None and handoff.responded_by is None
        seen_by_receiver = client_for(cl_caseworker).get(f"/api/v1/handoffs/{handoff.pk}/").json()
        assert seen_by_receiver["response_note"] == "La familia decidió quedarse en Tacna."
        assert seen_by_receiver["withdrawn_at"] is not None


@pytest.mark.django_db
class TestCompleteHandoff:
    def test_it_records_who_completed_it(self, client_for, cl_caseworker, make_handoff, pe_case):
        handoff = make_handoff(status="accepted", kind="referral")
        response = client_for(cl_caseworker).post(f"/api/v1/handoffs/{handoff.pk}/complete/",
                                                  {"note": "Atención prestada el 3 de diciembre."})
        assert response.status_code == 200, response.content
        assert response.json()["completion_note"] == "Atención prestada el 3 de diciembre."
        handoff.refresh_from_db()
        assert handoff.completed_by == cl_caseworker and handoff.completed_at is not None
        pe_case.refresh_from_db()
        assert pe_case.owner_agency.code == "pe-migraciones"


@pytest.mark.django_db
class TestRescheduleHandoff:
    def test_it_moves_the_deadline(self, client_for, pe_caseworker, make_handoff, counts):
        handoff = make_handoff()
        new_due = timezone.now() + datetime.timedelta(days=7)
        written = counts()
        response = client_for(pe_caseworker).post(f"/api/v1/handoffs/{handoff.pk}/reschedule/",
                                                  {"response_due": new_due.isoformat(), "note": "Feriado en Arica."})
        assert response.status_code == 200, response.content
        handoff.refresh_from_db()
        assert handoff.response_due == new_due and handoff.status == "pending"
        entry = HistoryEntry.objects.get(action="handoff.rescheduled")
        assert entry.changes["note"] == [None, "Feriado en Arica."]
        assert set(entry.changes) == {"response_due", "note"}
        assert written.events == ["handoff.rescheduled"]

    def test_it_refuses_a_deadline_in_the_past(self, client_for, pe_caseworker, make_handoff, counts):
        handoff = make_handoff()
        written = counts()
        response = client_for(pe_caseworker).post(f"/api/v1/handoffs/{handoff.pk}/reschedule/",
                                                  {"response_due": "2020-01-01T00:00:00Z"})
        assert response.status_code == 422
        assert response.json()["code"] == "response_due_not_in_future"
        written.assert_nothing_written()
