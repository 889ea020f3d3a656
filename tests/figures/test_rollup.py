"""The rollup answers exactly what the live queries answer (figures.rollup).

A random dataset (cases over four months, registered at any hour, some just
before or after midnight in the committee's zone; members of several
nationalities or none; handoffs of every kind and status, answered after
random times, some due earlier today); every statistics answer — each
grouping by none, one or two dimensions, for a caseworker's agency and for
everyone, with and without filters — is taken live, then again from the
rollup, and must be the same, suppression included.
"""
import datetime
import itertools
import random
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from cases.models import (
    VULNERABILITIES,
    BorderPoint,
    Case,
    CaseMember,
    CaseStatus,
    Handoff,
    HandoffKind,
    HandoffStatus,
    Priority,
    vulnerability_field,
)
from cases.roles import Role
from cases.services.casework import case_close, case_update
from cases.services.handoffs import handoff_accept, handoff_create
from figures import rollup
from figures.models import CaseRollup, HandoffResponseTimes, RollupState
from figures.selectors import (
    CASE_DIMENSIONS,
    HANDOFF_DIMENSIONS,
    REPORT_HANDOFF_DIMENSIONS,
    CaseFilters,
    HandoffFilters,
    case_figures,
    handoff_figures,
)
from figures.tasks import refresh_statistics
from tests.factories import AgencyFactory, CaseFactory, ConsentFactory, HandoffFactory, PersonFactory, UserFactory

LIMA = ZoneInfo("America/Lima")
NATIONALITIES = ["VE", "VE", "VE", "CO", "PE", "HT", ""]


def _groupings(dimensions) -> list[list[str]]:
    names = list(dimensions)
    return [[]] + [[name] for name in names] + [list(pair) for pair in itertools.combinations(names, 2)]


@pytest.fixture
def world(pe_agency, cl_agency, int_agency):
    rng = random.Random(20261202)
    agencies = [pe_agency, cl_agency, int_agency, AgencyFactory(code="cl-pdi", country="CL")]
    now = timezone.now()
    cases = []
    for _ in range(140):
        flags = {vulnerability_field(flag): rng.random() < 0.3 for flag in VULNERABILITIES}
        status = rng.choice([CaseStatus.OPEN, CaseStatus.OPEN, CaseStatus.CLOSED])
        case = CaseFactory(owner_agency=rng.choice(agencies), status=status,
                           closure_reason="resolved" if status == CaseStatus.CLOSED else "",
                           border_point=rng.choice(BorderPoint.values), priority=rng.choice(Priority.values), **flags)
        members = rng.choice([0, 1, 2, 3, 4])
        for index in range(members):
            person = PersonFactory(nationality=rng.choice(NATIONALITIES), created_by_agency=case.owner_agency)
            CaseMember.objects.create(case=case, person=person, relationship="head" if index == 0 else "child")
        # Any hour of the last four months; one in five within minutes of midnight in Lima.
        moment = now - datetime.timedelta(days=rng.uniform(0, 120))
        if rng.random() < 0.2:
            local = moment.astimezone(LIMA)
            moment = local.replace(hour=0, minute=0, second=0) + datetime.timedelta(minutes=rng.choice([-3, 2]))
        Case.objects.filter(pk=case.pk).update(created_at=moment, member_count=members)
        cases.append(Case.objects.get(pk=case.pk))
    for case in rng.sample(cases, 90):
        to_agency = rng.choice([agency for agency in agencies if agency != case.owner_agency])
        kind = rng.choice(HandoffKind.values)
        status = rng.choice(HandoffStatus.values)
        if kind == HandoffKind.TRANSFER and status == HandoffStatus.PENDING and case.handoffs.filter(
                kind=kind, status=status).exists():
            status = HandoffStatus.REJECTED
        handoff = HandoffFactory(case=case, kind=kind, to_agency=to_agency, status=status,
                                 rejection_reason="no_capacity" if status == HandoffStatus.REJECTED else "")
        created = case.created_at + datetime.timedelta(hours=rng.uniform(0, 48))
        fields = {"created_at": created,
                  "response_due": rng.choice([now - datetime.timedelta(hours=rng.uniform(0, 20)),
                                              now - datetime.timedelta(days=rng.uniform(1, 30)),
                                              now + datetime.timedelta(days=rng.uniform(0, 3))])}
        if status not in (HandoffStatus.PENDING, HandoffStatus.WITHDRAWN):
            fields["responded_at"] = created + datetime.timedelta(seconds=rng.uniform(60, 200 * 3600))
        Handoff.objects.filter(pk=handoff.pk).update(**fields)
    # A case two accepted referrals share with the same agency counts once for it.
    twice = cases[0]
    for _ in range(2):
        HandoffFactory(case=twice, kind=HandoffKind.REFERRAL, to_agency=cl_agency if twice.owner_agency != cl_agency
                       else pe_agency, status=HandoffStatus.ACCEPTED)
    callers = [UserFactory(roles=[Role.SECRETARIAT])]
    callers += [UserFactory(agency=agency, roles=[Role.CASEWORKER]) for agency in (pe_agency, cl_agency)]
    return {"callers": callers, "now": now, "cases": cases, "agencies": agencies}


def _case_filters(now) -> list[CaseFilters]:
    today = timezone.localtime(now, LIMA).date()
    return [
        CaseFilters(),
        CaseFilters(registered_from=today - datetime.timedelta(days=50), registered_to=today - datetime.timedelta(
            days=9)),
        CaseFilters(registered_to=today - datetime.timedelta(days=17), status=CaseStatus.OPEN),
        CaseFilters(registered_from=today - datetime.timedelta(days=3), border_point=BorderPoint.ARICA_CITY),
        CaseFilters(vulnerability="family_with_children"),
        # The situation report's windows: from one meeting's start to another's.
        CaseFilters(registered_since=now - datetime.timedelta(days=33, hours=5),
                    registered_until=now - datetime.timedelta(hours=7)),
    ]


def _handoff_filters(now) -> list[HandoffFilters]:
    today = timezone.localtime(now, LIMA).date()
    start = datetime.datetime.combine(today - datetime.timedelta(days=40), datetime.time.min, tzinfo=LIMA)
    return [
        HandoffFilters(),
        HandoffFilters(created_since=start, created_until=start + datetime.timedelta(days=26)),
        HandoffFilters(created_since=now - datetime.timedelta(days=61, hours=3), cross_border_only=True),
    ]


def _counts(figures) -> dict:
    """An answer without the moment it was counted at (two answers are counted at two moments)."""
    return {key: value for key, value in figures.as_dict().items() if key != "as_of"}


def _answers(world, *, filtered: bool = True) -> dict:
    now = world["now"]
    answers = {}
    for user in world["callers"]:
        for filters in _case_filters(now)[:None if filtered else 1]:
            for group_by in _groupings(CASE_DIMENSIONS):
                answers[("cases", user.pk, filters, tuple(group_by))] = _counts(case_figures(
                    user, group_by=group_by, filters=filters))
        for filters in _handoff_filters(now)[:None if filtered else 1]:
            for group_by in _groupings(HANDOFF_DIMENSIONS | REPORT_HANDOFF_DIMENSIONS):
                answers[("handoffs", user.pk, filters, tuple(group_by))] = _counts(handoff_figures(
                    user, group_by=group_by, filters=filters, now=now))
    return answers


def _assert_same(live: dict, rolled: dict) -> None:
    different = [key for key in live if live[key] != rolled[key]]
    assert not different, (len(different), different[0], live[different[0]], rolled[different[0]])


@pytest.mark.django_db
def test_the_rollup_answers_what_the_live_queries_answer(world):
    """Every grouping, both scopes, every filter: the same answer from the rollup as live."""
    live = _answers(world)
    assert rollup.refresh() == 0
    assert RollupState.objects.filter(pk=1).exists() and CaseRollup.objects.exists()
    rolled = _answers(world)
    _assert_same(live, rolled)
    # Not a vacuous comparison: the figures have shown and hidden cells, and medians.
    everything = live[("cases", world["callers"][0].pk, CaseFilters(), ("border_point",))]
    assert everything["total"]["cases"] == 140
    assert any(row["suppressed"] for answer in live.values() for row in answer["rows"])
    assert any(answer["total"].get("median_response_hours") for answer in live.values())


@pytest.mark.django_db
def test_changes_since_the_last_refresh_are_counted_at_once(world, pe_agency, cl_agency):
    """Changes made through the services are counted by the very next answer
    (the periods they touch are read live until the refresh takes them), the
    same answers as after the refresh and as the live queries give."""
    rollup.refresh()
    pe_worker = UserFactory(agency=pe_agency, roles=[Role.CASEWORKER])
    cl_worker = UserFactory(agency=cl_agency, roles=[Role.CASEWORKER])
    def collaborator_count():  # the count before rounding, from the rollup and its live edge
        grouped, _total = rollup.case_counts(scope_agency_id=cl_agency.pk, group_by=[], lower=None, upper=None,
                                             status=None, border_point=None, vulnerability=None)
        return grouped[0]["all_cases"]

    before = collaborator_count()
    owned = [case for case in world["cases"] if case.owner_agency_id == pe_agency.pk and case.status == "open"]
    case_close(actor=pe_worker, case_id=owned[0].pk, reason="resolved")
    case_update(actor=pe_worker, case_id=owned[1].pk, border_point=BorderPoint.TACNA_CITY,
                vulnerabilities=["pregnancy"])
    ConsentFactory(case=owned[2])
    referral = handoff_create(actor=pe_worker, case_id=owned[2].pk, to_agency=cl_agency.code,
                              kind=HandoffKind.REFERRAL, reason="Atención psicológica",
                              services_requested="Apoyo psicológico", legal_basis="consent")
    handoff_accept(actor=cl_worker, handoff_id=referral.pk)

    assert rollup.rollup_version().events_since >= 4  # not taken by the rollup yet
    assert collaborator_count() == before + 1  # the collaboration is counted already
    edged = _answers(world)
    assert rollup.refresh() >= 4
    assert rollup.rollup_version().events_since == 0
    rolled = _answers(world)
    _assert_same(edged, rolled)
    RollupState.objects.all().delete()
    _assert_same(_answers(world), rolled)


@pytest.mark.django_db
def test_everyones_response_times_are_computed_by_the_refresh_that_takes_handoff_events(world, pe_agency,
                                                                                       cl_agency):
    """Everyone's all-time medians are read from the figures the refresh
    computed (not sorted again per call); a handoff answered through the
    services changes them at the next refresh, a change to a case alone
    leaves them as they were."""
    rollup.refresh()
    secretariat = world["callers"][0]
    assert list(rollup.RESPONSE_TIME_DIMENSIONS) == list(HANDOFF_DIMENSIONS)
    answered = Handoff.objects.filter(responded_at__isnull=False).count()
    assert HandoffResponseTimes.objects.get(grouping="").answered == answered
    computed = set(HandoffResponseTimes.objects.values_list("pk", flat=True))
    # Read from the table: altered there, the answer shows it; an agency's figures are its own sort.
    HandoffResponseTimes.objects.filter(grouping="").update(median=999.0)
    assert handoff_figures(secretariat, group_by=[]).total["median_response_hours"] == 999.0
    assert handoff_figures(world["callers"][1], group_by=[]).total["median_response_hours"] != 999.0

    pe_worker = UserFactory(agency=pe_agency, roles=[Role.CASEWORKER])
    owned = [case for case in world["cases"] if case.owner_agency_id == pe_agency.pk and case.status == "open"]
    case_update(actor=pe_worker, case_id=owned[0].pk, border_point=BorderPoint.TACNA_CITY)
    assert rollup.refresh() >= 1
    assert set(HandoffResponseTimes.objects.values_list("pk", flat=True)) == computed  # not computed again

    ConsentFactory(case=owned[1])
    referral = handoff_create(actor=pe_worker, case_id=owned[1].pk, to_agency=cl_agency.code,
                              kind=HandoffKind.REFERRAL, reason="Atención psicológica",
                              services_requested="Apoyo psicológico", legal_basis="consent")
    handoff_accept(actor=UserFactory(agency=cl_agency, roles=[Role.CASEWORKER]), handoff_id=referral.pk)
    assert rollup.refresh() >= 2
    assert HandoffResponseTimes.objects.get(grouping="").answered == answered + 1
    rolled = {tuple(group_by): _counts(handoff_figures(secretariat, group_by=group_by))
              for group_by in _groupings(HANDOFF_DIMENSIONS)}
    RollupState.objects.all().delete()  # live again
    assert rolled == {tuple(group_by): _counts(handoff_figures(secretariat, group_by=group_by))
                      for group_by in _groupings(HANDOFF_DIMENSIONS)}


@pytest.mark.django_db(transaction=True)
def test_a_second_refresh_at_the_same_time_leaves_at_once(pe_agency):
    """Two beats: the refresh that cannot take the lock does nothing and says so."""
    CaseFactory(owner_agency=pe_agency)
    assert rollup.refresh() == 0 and CaseRollup.objects.count() == 1
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [rollup.REFRESH_LOCK])
        # The lock is per session: another connection (a thread's) sees it held.
        outcome = []
        thread = threading.Thread(target=lambda: (outcome.append(rollup.refresh()), connection.close()))
        thread.start()
        thread.join()
    assert outcome == [None]


@pytest.mark.django_db
def test_an_answer_is_computed_once_per_refresh(pe_agency, secretariat, django_assert_num_queries):
    """Asked again before the next refresh, an answer comes from the cache; after it, from the rollup again."""
    CaseFactory.create_batch(6, owner_agency=pe_agency, border_point=BorderPoint.TACNA_CITY)
    rollup.refresh()
    first = case_figures(secretariat, group_by=["border_point"])
    with django_assert_num_queries(1):  # when the rollup was refreshed, and nothing else
        assert case_figures(secretariat, group_by=["border_point"]) == first
    CaseFactory.create_batch(4, owner_agency=pe_agency, border_point=BorderPoint.TACNA_CITY)  # no event: by hand
    call_command("refresh_statistics", "--rebuild", verbosity=0)
    assert case_figures(secretariat, group_by=["border_point"]).total["cases"] == 10


@pytest.mark.django_db
def test_the_beat_task_builds_then_follows_the_rollup(pe_agency):
    """The periodic task builds the rollup on its first run, and takes nothing when nothing changed."""
    CaseFactory.create_batch(3, owner_agency=pe_agency)
    assert rollup.rollup_version() is None
    assert refresh_statistics.apply().get() == 0
    assert rollup.rollup_version() is not None
    assert sum(CaseRollup.objects.values_list("cases", flat=True)) == 3
    assert refresh_statistics.apply().get() == 0
