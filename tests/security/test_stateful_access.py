"""Random sequences of casework, checked after every step against a small
model of who may read what.

Three agencies (two Peruvian, one Chilean) and the secretariat register cases
and families, give and withdraw consent, write notes, take members off,
close and reopen cases, link and edit people, and create, accept, reject,
withdraw, reschedule, complete and end transfers and referrals — through the
services, as every entry point does. The model predicts whether each step is
allowed, and after each step:

- every caller's access to every case (owner, collaborator, limited, former_owner, none)
  is the model's;
- no personal value — names, document numbers, dates of birth, phones, note
  bodies — is readable by a caller the model does not allow, through the
  case, its members, notes, history and handoffs, the people endpoint, the
  lists and the events feed (webhook payloads are the feed's items);
- each agency's export of a person on the last case touched holds no case,
  handoff or data-protection request the agency cannot read directly, and
  no personal value it may not read.

CI runs a bounded number of sequences. A long run:
``make fuzz`` (``FUZZ_EXAMPLES``, ``FUZZ_STEPS``; docs/security.md).
"""
import datetime
import itertools
import os
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from rest_framework.test import APIClient

from api_core.errors import ServiceError
from api_core.services import token_issue
from cases.models import Case
from cases.roles import Role
from cases.selectors import cases_visible_to
from cases.services import casework, handoffs
from dataprotection import services as dataprotection
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("PUENTE_FUZZ_EXAMPLES", "4"))
STEPS = int(os.environ.get("PUENTE_FUZZ_STEPS", "15"))

AGENCIES = [("pe-fuzz-a", "PE"), ("pe-fuzz-b", "PE"), ("cl-fuzz-a", "CL")]
MAX_CASES = 3
FULL = {"owner", "collaborator"}

index = st.integers(min_value=0, max_value=50)
agency = st.integers(min_value=0, max_value=len(AGENCIES) - 1)


# --- The model ------------------------------------------------------------------

@dataclass
class PersonModel:
    id: object
    values: set = field(default_factory=set)  # every value ever given: old ones stay in the history
    cases: set = field(default_factory=set)  # indexes of the cases the person is on now


@dataclass
class CaseModel:
    id: object
    owner: int
    open: bool = True
    members: dict = field(default_factory=dict)  # person id → relationship
    notes: list = field(default_factory=list)  # (body, agency, visibility)
    consents: list = field(default_factory=list)  # [consent id, active]
    ever_members: set = field(default_factory=set)

    @property
    def consent_active(self) -> bool:
        return any(active for _id, active in self.consents)


@dataclass
class HandoffModel:
    id: object
    case: int
    kind: str
    sender: int
    receiver: int
    basis: str
    status: str = "pending"


class CaseworkMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.agencies = [AgencyFactory(code=code, country=country) for code, country in AGENCIES]
        self.users = [UserFactory(username=f"{code}.cw", agency=agency, roles=[Role.CASEWORKER])
                      for (code, _country), agency in zip(AGENCIES, self.agencies, strict=True)]
        self.secretariat = UserFactory(username="fuzz.secretaria", roles=[Role.SECRETARIAT], is_staff=True)
        self.clients = {}
        for user in [*self.users, self.secretariat]:
            _, raw = token_issue(user=user, name="fuzz")
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
            self.clients[user.pk] = client
        self.cases: list[CaseModel] = []
        self.people: dict = {}
        self.handoffs: list[HandoffModel] = []
        self.notes: dict = {}  # body → case index
        self.requests: list = []  # (reference, agency index, person id) of data-protection requests
        self.counter = itertools.count(1)
        self.touched: int | None = None

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers ---

    def _attempt(self, allowed: bool, call, what: str):
        try:
            result = call()
        except (ServiceError, Http404) as exc:
            assert not allowed, f"{what}: refused ({exc!r}) but the model allows it"
            return None
        assert allowed, f"{what}: done but the model refuses it"
        return result

    def _person_fields(self, relationship: str) -> dict:
        n = next(self.counter)
        return {
            "relationship": relationship, "given_names": f"Gn{n}x", "family_names": f"Fm{n}x", "sex": "female",
            "date_of_birth": datetime.date(1940, 1, 1) + datetime.timedelta(days=41 * n), "nationality": "VE",
            "document_type": "passport", "document_country": "VE", "document_number": f"DOC{n:06d}Z",
            "phone": f"+569{n:07d}",
        }

    @staticmethod
    def _secrets(fields: dict) -> set:
        return {fields["given_names"], fields["family_names"], fields["document_number"], fields["phone"],
                fields["date_of_birth"].isoformat()}

    def _pick(self, items, i):
        return (i % len(items), items[i % len(items)]) if items else (None, None)

    def access(self, who: int, case_index: int) -> str | None:
        """The model's access of agency ``who`` to the case."""
        case = self.cases[case_index]
        if case.owner == who:
            return "owner"
        mine = [h for h in self.handoffs if h.case == case_index]
        if any(h.kind == "referral" and h.receiver == who and h.status == "accepted" for h in mine):
            return "collaborator"
        if any(h.receiver == who and h.status == "pending" and h.sender == case.owner for h in mine):
            return "limited"
        if any(h.kind == "transfer" and h.sender == who and h.status in ("accepted", "completed") for h in mine):
            return "former_owner"
        return None

    def _add_person(self, case_index: int, membership, fields: dict) -> None:
        person = self.people.setdefault(membership.person_id, PersonModel(membership.person_id))
        person.values |= self._secrets(fields)
        person.cases.add(case_index)
        self.cases[case_index].members[membership.person_id] = fields["relationship"]
        self.cases[case_index].ever_members.add(membership.person_id)

    # --- cases, members, people ---

    @precondition(lambda self: len(self.cases) < MAX_CASES)
    @rule(who=agency, children=st.integers(min_value=0, max_value=2))
    def create_case(self, who, children):
        members = [self._person_fields("head")] + [self._person_fields("child") for _ in range(children)]
        case = casework.case_create(actor=self.users[who], members=members, summary="",
                                    border_point="chacalluta_santa_rosa")
        self.cases.append(CaseModel(case.pk, owner=who))
        for membership, fields in zip(case.created_memberships, members, strict=True):
            self._add_person(len(self.cases) - 1, membership, fields)
        self.touched = len(self.cases) - 1

    @precondition(lambda self: self.cases)
    @rule(who=agency, i=index)
    def add_member(self, who, i):
        c, case = self._pick(self.cases, i)
        fields = self._person_fields("other")
        allowed = case.owner == who and case.open
        membership = self._attempt(allowed, lambda: casework.member_add(
            actor=self.users[who], case_id=case.id, **fields), "member_add")
        if membership is not None:
            self._add_person(c, membership, fields)
        self.touched = c

    @precondition(lambda self: self.cases)
    @rule(who=agency, i=index, j=index)
    def link_person(self, who, i, j):
        """Put a person already stored on another case."""
        c, case = self._pick(self.cases, i)
        _p, person = self._pick(list(self.people.values()), j)
        allowed = (case.owner == who and case.open and person.id not in case.members
                   and any(self.cases[other].owner == who for other in person.cases))
        membership = self._attempt(allowed, lambda: casework.member_add(
            actor=self.users[who], case_id=case.id, relationship="other", person=person.id), "link person")
        if membership is not None:
            person.cases.add(c)
            case.members[person.id] = "other"
            case.ever_members.add(person.id)
        self.touched = c

    @precondition(lambda self: self.cases)
    @rule(who=agency, i=index, j=index)
    def remove_member(self, who, i, j):
        c, case = self._pick(self.cases, i)
        _m, person_id = self._pick(list(case.members), j)  # in the order they were added: replays are exact
        allowed = case.owner == who and case.open and case.members[person_id] != "head"
        done = self._attempt(allowed, lambda: casework.member_remove(
            actor=self.users[who], case_id=case.id, person_id=person_id) or True, "member_remove")
        if done:
            del case.members[person_id]
            self.people[person_id].cases.discard(c)
        self.touched = c

    @precondition(lambda self: self.people)
    @rule(who=agency, j=index)
    def edit_person(self, who, j):
        _p, person = self._pick(list(self.people.values()), j)
        n = next(self.counter)
        allowed = bool(person.cases) and all(self.cases[c].owner == who for c in person.cases)
        done = self._attempt(allowed, lambda: casework.person_update(
            actor=self.users[who], person_id=person.id, given_names=f"Gn{n}x", phone=f"+569{n:07d}"), "person_update")
        if done is not None:
            person.values |= {f"Gn{n}x", f"+569{n:07d}"}
        if person.cases:
            self.touched = min(person.cases)

    @precondition(lambda self: self.cases)
    @rule(who=agency, i=index, shared=st.booleans())
    def add_note(self, who, i, shared):
        c, case = self._pick(self.cases, i)
        body = f"Nota{next(self.counter)}q"
        visibility = "shared" if shared else "agency"
        allowed = self.access(who, c) in FULL and case.open
        note = self._attempt(allowed, lambda: casework.note_add(
            actor=self.users[who], case_id=case.id, body=body, visibility=visibility), "note_add")
        if note is not None:
            case.notes.append((body, who, visibility))
        self.notes[body] = c
        self.touched = c

    @precondition(lambda self: self.cases)
    @rule(who=agency, i=index)
    def give_consent(self, who, i):
        c, case = self._pick(self.cases, i)
        head = next(person_id for person_id, relationship in case.members.items() if relationship == "head")
        allowed = case.owner == who and case.open
        consent = self._attempt(allowed, lambda: casework.consent_record(
            actor=self.users[who], case_id=case.id, scope="share_cross_border", method="written",
            given_at=timezone.now(), given_by=head), "consent_record")
        if consent is not None:
            case.consents.append([consent.pk, True])
        self.touched = c

    @precondition(lambda self: any(case.consents for case in self.cases))
    @rule(who=agency, i=index)
    def withdraw_consent(self, who, i):
        c, case = self._pick([case for case in self.cases if case.consents], i)
        c = self.cases.index(case)
        consent = case.consents[-1]
        allowed = case.owner == who and consent[1]
        done = self._attempt(allowed, lambda: casework.consent_withdraw(
            actor=self.users[who], case_id=case.id, consent_id=consent[0]), "consent_withdraw")
        if done is not None:
            consent[1] = False
        self.touched = c

    @precondition(lambda self: self.cases)
    @rule(who=agency, i=index, close=st.booleans())
    def close_or_reopen(self, who, i, close):
        c, case = self._pick(self.cases, i)
        if close:
            allowed = case.owner == who and case.open
            done = self._attempt(allowed, lambda: casework.case_close(
                actor=self.users[who], case_id=case.id, reason="resolved"), "case_close")
        else:
            allowed = case.owner == who and not case.open
            done = self._attempt(allowed, lambda: casework.case_reopen(
                actor=self.users[who], case_id=case.id), "case_reopen")
        if done is not None:
            case.open = not close
        self.touched = c

    # --- handoffs ---

    @precondition(lambda self: self.cases)
    @rule(who=agency, i=index, to=agency, kind=st.sampled_from(["transfer", "referral"]),
          basis=st.sampled_from(["consent", "vital_interest"]))
    def create_handoff(self, who, i, to, kind, basis):
        c, case = self._pick(self.cases, i)
        pending_transfer = any(h.case == c and h.kind == "transfer" and h.status == "pending" for h in self.handoffs)
        allowed = (case.owner == who and case.open and to != case.owner
                   and not (kind == "transfer" and pending_transfer)
                   and (basis != "consent" or case.consent_active))
        handoff = self._attempt(allowed, lambda: handoffs.handoff_create(
            actor=self.users[who], case_id=case.id, to_agency=AGENCIES[to][0], kind=kind, reason="Motivo.",
            services_requested="Albergue." if kind == "referral" else "", legal_basis=basis,
            legal_basis_note="" if basis == "consent" else "Riesgo vital."), "handoff_create")
        if handoff is not None:
            self.handoffs.append(HandoffModel(handoff.pk, c, kind, who, to, basis))
        self.touched = c

    def _handoff_step(self, who, i, action):
        h, handoff = self._pick(self.handoffs, i)
        case = self.cases[handoff.case]
        current = handoff.sender == case.owner or handoff.status != "pending"
        allowed = current and {
            "accept": handoff.status == "pending" and who == handoff.receiver and case.open
            and (handoff.basis != "consent" or case.consent_active),
            "reject": handoff.status == "pending" and who == handoff.receiver,
            "withdraw": handoff.status == "pending" and who == case.owner,
            "end": handoff.status == "accepted" and handoff.kind == "referral" and who == case.owner,
            "complete": handoff.status == "accepted" and who == handoff.receiver,
            "reschedule": handoff.status == "pending" and who == case.owner,
        }[action]
        actor = self.users[who]
        call = {
            "accept": lambda: handoffs.handoff_accept(actor=actor, handoff_id=handoff.id),
            "reject": lambda: handoffs.handoff_reject(actor=actor, handoff_id=handoff.id, reason="no_capacity"),
            "withdraw": lambda: handoffs.handoff_withdraw(actor=actor, handoff_id=handoff.id),
            "end": lambda: handoffs.handoff_end(actor=actor, handoff_id=handoff.id),
            "complete": lambda: handoffs.handoff_complete(actor=actor, handoff_id=handoff.id),
            "reschedule": lambda: handoffs.handoff_reschedule(
                actor=actor, handoff_id=handoff.id, response_due=timezone.now() + datetime.timedelta(days=9),
                note="Más plazo."),
        }[action]
        done = self._attempt(allowed, call, f"handoff {action} ({handoff})")
        if done is not None:
            handoff.status = {"accept": "accepted", "reject": "rejected", "withdraw": "withdrawn", "end": "withdrawn",
                              "complete": "completed", "reschedule": "pending"}[action]
            if action == "accept" and handoff.kind == "transfer":
                case.owner = handoff.receiver
                for other in self.handoffs:
                    if other.case == handoff.case and other.status == "pending":
                        other.status = "withdrawn"
        self.touched = handoff.case

    @precondition(lambda self: self.handoffs)
    @rule(who=agency, i=index,
          action=st.sampled_from(["accept", "reject", "withdraw", "complete", "reschedule", "end"]))
    def handoff_step(self, who, i, action):
        self._handoff_step(who, i, action)

    # --- data-protection requests ---

    @precondition(lambda self: self.people)
    @rule(who=agency, j=index)
    def file_access_request(self, who, j):
        """An agency records a person's request for access to their data."""
        _p, person = self._pick(list(self.people.values()), j)
        allowed = any(self.cases[c].owner == who for c in person.cases)
        data_request = self._attempt(allowed, lambda: dataprotection.data_request_create(
            actor=self.users[who], person=person.id, kind="access", received_at=timezone.now(), channel="email"),
            "data_request_create")
        if data_request is not None:
            self.requests.append((data_request.reference, who, person.id))
        if person.cases:
            self.touched = min(person.cases)

    # --- reads ---

    @precondition(lambda self: self.cases)
    @rule(who=st.integers(min_value=0, max_value=len(AGENCIES)))
    def read_everything(self, who):
        """One caller (the secretariat as the last) reads every list, case and person."""
        self._check_reads(who, range(len(self.cases)), lists=True)

    @invariant()
    def access_is_the_models(self):
        ids = [case.id for case in self.cases]
        for who, user in enumerate(self.users):
            stored = dict(cases_visible_to(user).filter(pk__in=ids).values_list("pk", "access"))
            expected = {case.id: self.access(who, c) for c, case in enumerate(self.cases) if self.access(who, c)}
            assert stored == expected, f"agency {AGENCIES[who][0]}"
        assert set(cases_visible_to(self.secretariat).filter(pk__in=ids).values_list("pk", flat=True)) == set(ids)

    @invariant()
    def nothing_leaks_from_the_last_case_touched(self):
        if self.touched is None:
            return
        for who in range(len(AGENCIES) + 1):
            self._check_reads(who, [self.touched], lists=False)

    @invariant()
    def exports_hold_only_what_the_agency_reads(self):
        if self.touched is None:
            return
        references = dict(Case.objects.filter(pk__in=[case.id for case in self.cases])
                          .values_list("pk", "reference"))
        for who in range(len(AGENCIES)):
            for person_id in self.cases[self.touched].members:
                self._check_export(who, person_id, references)

    def _check_export(self, who, person_id, references):
        """An owner exports; a collaborator gets 403, anyone else 404. The
        export names only the cases the agency reads in full, their handoffs
        and the agency's own requests, and only values it may read."""
        person = self.people[person_id]
        full = {c for c in person.cases if self.access(who, c) in FULL}
        owns = any(self.cases[c].owner == who for c in full)
        response = self.clients[self.users[who].pk].get(f"/api/v1/people/{person_id}/export/")
        assert response.status_code == (200 if owns else 403 if full else 404), (person_id, response.status_code)
        if not owns:
            return
        body, text = response.json(), response.content.decode()
        readable = {references[self.cases[c].id] for c in full}
        assert {case["reference"] for case in body["cases"]} == readable
        assert {handoff["case"] for handoff in body["handoffs"]} <= readable
        assert {consent["case"] for consent in body["consents"]} <= {
            references[case.id] for c, case in enumerate(self.cases) if self.access(who, c) in FULL}
        hidden = [references[case.id] for c, case in enumerate(self.cases) if self.access(who, c) not in FULL]
        hidden += [reference for reference, agency_index, _person in self.requests if agency_index != who]
        leaked = sorted(value for value in hidden if value in text)
        assert not leaked, f"{AGENCIES[who][0]} exports {leaked}"
        assert {item["reference"] for item in body["data_requests"]} == {
            reference for reference, agency_index, subject in self.requests if agency_index == who
            and subject == person_id}
        secrets = set(self.notes)
        for other in self.people.values():
            secrets |= other.values
        leaked = sorted(value for value in secrets - self._allowed_values(who) if value in text)
        assert not leaked, f"{AGENCIES[who][0]} exports {leaked}"

    def _allowed_values(self, who) -> set:
        """What the caller may read: the people on the cases it reads in full,
        and the notes of those cases it may read."""
        secretariat = who == len(AGENCIES)
        allowed = set()
        for c, case in enumerate(self.cases):
            if not (secretariat or self.access(who, c) in FULL):
                continue
            for person_id in case.members:
                allowed |= self.people[person_id].values
            allowed |= {body for body, writer, visibility in case.notes
                        if secretariat or writer == who or visibility == "shared"}
        return allowed

    def _check_reads(self, who, case_indexes, *, lists: bool):
        """``lists``: the whole read — every sub-resource, person and list;
        otherwise the case, its members and its history (after every step)."""
        secretariat = who == len(AGENCIES)
        client = self.clients[(self.secretariat if secretariat else self.users[who]).pk]
        bodies = []
        for c in case_indexes:
            case = self.cases[c]
            access = "oversight" if secretariat else self.access(who, c)
            base = f"/api/v1/cases/{case.id}/"
            detail = client.get(base)
            assert detail.status_code == (404 if access is None else 200), (base, detail.status_code)
            if access is not None:
                assert detail.json()["access"] == access
            bodies.append(detail)
            subs = ("members/", "notes/", "history/?page_size=200", "handoffs/") if lists else (
                "members/", "history/?page_size=200")
            for sub in subs:
                response = client.get(base + sub)
                if access is None:
                    assert response.status_code == 404
                elif access in ("limited", "former_owner") and sub != "handoffs/":
                    assert response.status_code == 403
                else:
                    assert response.status_code == 200, (sub, response.content)
                bodies.append(response)
            for person_id in case.ever_members if lists else ():
                response = client.get(f"/api/v1/people/{person_id}/")
                readable = secretariat or any(self.access(who, other) in FULL
                                              for other in self.people[person_id].cases)
                if not secretariat:
                    assert response.status_code == (200 if readable else 404), (person_id, response.status_code)
                bodies.append(response)
        if lists:
            bodies += [client.get("/api/v1/cases/?page_size=200"), client.get("/api/v1/handoffs/?page_size=200"),
                       client.get("/api/v1/events/?page_size=200")]
        text = "\n".join(response.content.decode() for response in bodies)
        allowed = self._allowed_values(who)
        secrets = set(self.notes)
        for person in self.people.values():
            secrets |= person.values
        leaked = sorted(value for value in secrets - allowed if value in text)
        assert not leaked, f"{'secretariat' if secretariat else AGENCIES[who][0]} reads {leaked}"


def test_casework_keeps_to_the_model():
    """Random sequences of casework never give anyone more than the model allows."""
    run_state_machine_as_test(CaseworkMachine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


def test_the_exports_keep_to_the_model_after_a_shared_person_is_transferred():
    """A sequence the random ones rarely reach: an agency puts a person on two
    of its cases and transfers one across the border; each agency then
    records an access request. Neither agency's export shows the other's
    case, handoff or request."""
    machine = CaseworkMachine()
    try:
        machine.create_case(who=0, children=0)
        machine.create_case(who=0, children=0)
        machine.link_person(who=0, i=1, j=0)  # the first head onto the second case
        machine.create_handoff(who=0, i=1, to=2, kind="transfer", basis="vital_interest")
        machine.handoff_step(who=2, i=0, action="accept")
        machine.file_access_request(who=2, j=0)
        machine.file_access_request(who=0, j=0)
        assert machine.access(0, 1) == "former_owner" and machine.access(2, 0) is None
        for touched in (0, 1):
            machine.touched = touched
            machine.exports_hold_only_what_the_agency_reads()
            machine.nothing_leaks_from_the_last_case_touched()
    finally:
        machine.teardown()
