"""Demo data for the committee: the binational committee with its Peruvian
and Chilean delegations, a meeting held in Tacna with approved minutes, and
the next one (hybrid, in Arica) with an agenda built from the docket. Built
through the services, like the secretariat would; idempotent."""
import datetime
import zoneinfo

from django.utils import timezone, translation

from cases.models import Agency, Case

from . import services
from .models import AgendaItemKind, Committee, Meeting, MeetingMode, Membership
from .selectors import docket_for

COMMITTEE_CODE = "comite-binacional"
HELD_TITLE = "I Sesión ordinaria del Comité Binacional"
NEXT_TITLE = "II Sesión ordinaria del Comité Binacional"
LIMA = zoneinfo.ZoneInfo("America/Lima")
SANTIAGO = zoneinfo.ZoneInfo("America/Santiago")

MEMBERS = [
    # username, role, delegation
    ("delegado.pe", "chair", "PE"),
    ("delegada.cl", "member", "CL"),
    ("secretaria", "secretary", "PE"),
]

MINUTES = """En la ciudad de Tacna, en la sede del Gobierno Regional, se reúne el Comité Binacional de Cooperación \
Migratoria Perú–Chile, con la presencia de la delegación del Perú y de la delegación de Chile. Se constata el quórum.

1. Se instala el Comité y se aprueba su reglamento interno.
2. Migraciones (Tacna) y SERMIG (Arica) informan sobre la situación en el complejo fronterizo Chacalluta–Santa Rosa: \
las familias varadas reciben atención en los albergues temporales de ambas ciudades.
3. Se aprueba el protocolo binacional de derivación de niños, niñas y adolescentes no acompañados.
4. La capacidad de los albergues se tratará en la próxima sesión, con cifras de ambas ciudades.

Se levanta la sesión a las 12:40 horas."""


def _local(zone, days_from_today: int, hour: int, minute: int = 0) -> datetime.datetime:
    day = timezone.localtime(timezone.now(), zone).date() + datetime.timedelta(days=days_from_today)
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zone)


def _first(objects, model):
    return next((obj for obj in (objects or {}).values() if isinstance(obj, model)), None)


def seed_committee(accounts, cases, handoffs) -> None:
    """The committee and its two meetings. ``cases`` and ``handoffs`` may be
    empty; when they are not, a case is reviewed at the first meeting and the
    docket of the second picks up overdue and rejected handoffs."""
    with translation.override("es"):
        _seed(accounts, cases)


def _seed(accounts, cases) -> None:
    users = accounts.users
    committee, _ = Committee.objects.get_or_create(code=COMMITTEE_CODE, defaults={
        "name": "Comité Binacional de Cooperación Migratoria Perú–Chile",
        "description": "Instancia de coordinación entre ambos gobiernos para la atención de la población migrante "
                       "en la frontera Tacna–Arica.",
    })
    for username, role, delegation in MEMBERS:
        Membership.objects.get_or_create(committee=committee, user=users[username],
                                         defaults={"role": role, "delegation": delegation})
    secretariat = users["secretaria"]
    if not committee.meetings.filter(title=HELD_TITLE).exists():
        _held_meeting(committee, secretariat, users, accounts.agencies, _first(cases, Case))
    if not committee.meetings.filter(title=NEXT_TITLE).exists():
        _next_meeting(committee, secretariat)


def _held_meeting(committee: Committee, actor, users, agencies: dict, case: Case | None) -> Meeting:
    starts_at = _local(LIMA, -21, 10)
    meeting = services.meeting_create(
        actor=actor, committee=committee, title=HELD_TITLE, starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(hours=3), time_zone="America/Lima", mode=MeetingMode.IN_PERSON,
        place="Gobierno Regional de Tacna, sala de sesiones")

    def add(title, kind, minutes, **links):
        return services.agenda_item_add(actor=actor, meeting=meeting, title=title, kind=kind,
                                        planned_minutes=minutes, **links)

    installation = add("Instalación del Comité y aprobación de su reglamento", AgendaItemKind.DECISION, 20)
    situation = add("Situación en el complejo fronterizo Chacalluta–Santa Rosa", AgendaItemKind.INFORMATION, 30)
    protocol = add("Protocolo binacional de derivación de niños, niñas y adolescentes no acompañados",
                   AgendaItemKind.DECISION, 40)
    shelters = add("Capacidad de los albergues temporales de Tacna y Arica", AgendaItemKind.DISCUSSION, 30)
    reviewed = add(f"Revisión del caso {case.reference}", AgendaItemKind.CASE_REVIEW, 15, case=case) \
        if case is not None else None

    services.meeting_schedule(actor=actor, meeting=meeting)
    services.attendance_set(actor=actor, meeting=meeting, entries=[
        {"user": users["delegado.pe"], "status": "present"},
        {"user": users["delegada.cl"], "status": "present"},
        {"user": users["secretaria"], "status": "present"},
    ])
    both_in_favour = {"PE": "in_favour", "CL": "in_favour"}
    services.decision_record(actor=actor, agenda_item=installation, outcome="adopted", positions=both_in_favour,
                             text="Se instala el Comité y se aprueba su reglamento interno.")
    services.decision_record(actor=actor, agenda_item=situation, outcome="noted",
                             text="El Comité toma nota de los informes de Migraciones y de SERMIG.")
    protocol_decision = services.decision_record(
        actor=actor, agenda_item=protocol, outcome="adopted", positions=both_in_favour,
        text="Se aprueba el protocolo: toda derivación de un niño no acompañado se comunica a la Unidad de "
             "Protección Especial de Tacna y al Servicio de Protección Especializada de Arica en 24 horas.")
    services.agenda_item_update(actor=actor, item=shelters, changes={"status": "deferred"})

    done = services.action_item_create(
        actor=actor, title="Designar los puntos focales de cada agencia para las derivaciones",
        owner_agency=agencies["pe-upe-tacna"], due_at=starts_at + datetime.timedelta(days=7),
        decision=protocol_decision)
    services.action_item_complete(actor=actor, item=done, note="Puntos focales comunicados por correo oficial.")
    services.action_item_create(
        actor=actor, title="Habilitar un canal de contacto permanente entre SERMIG Arica y Migraciones Tacna",
        owner_agency=agencies["cl-sermig"], due_at=starts_at + datetime.timedelta(days=18),
        decision=protocol_decision)
    services.action_item_create(
        actor=actor, title="Informe de necesidades de protección internacional en los albergues",
        owner_agency=agencies["int-acnur-tacna"], due_at=_local(LIMA, 10, 18), meeting=meeting)
    if reviewed is not None:
        services.decision_record(actor=actor, agenda_item=reviewed, outcome="noted",
                                 text="El Comité toma nota del caso y pide un informe a la agencia a cargo.")
        owner = Agency.objects.get(pk=case.owner_agency_id)
        services.action_item_create(actor=actor, title=f"Informe sobre el caso {case.reference}",
                                    owner_agency=owner, due_at=_local(LIMA, 5, 18), agenda_item=reviewed)

    services.meeting_mark_held(actor=actor, meeting=meeting)
    services.meeting_update(actor=actor, meeting=meeting, changes={"minutes": MINUTES})
    services.minutes_circulate(actor=actor, meeting=meeting)
    return services.minutes_approve(actor=actor, meeting=meeting)


def _next_meeting(committee: Committee, actor) -> Meeting:
    starts_at = _local(SANTIAGO, 12, 15)
    meeting = services.meeting_create(
        actor=actor, committee=committee, title=NEXT_TITLE, starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(hours=2, minutes=30), time_zone="America/Santiago",
        mode=MeetingMode.HYBRID, place="Delegación Presidencial Regional de Arica y Parinacota, salón auditorio",
        video_link="https://reuniones.comite-binacional.example.org/ii-sesion")
    services.agenda_item_add(actor=actor, meeting=meeting, title="Aprobación del acta de la I Sesión",
                             kind=AgendaItemKind.MINUTES_APPROVAL, planned_minutes=10)
    proposals = docket_for(meeting)
    if proposals:
        services.docket_add(actor=actor, meeting=meeting,
                            items=[{"source": proposal.source, "id": proposal.id} for proposal in proposals])
    services.agenda_item_add(actor=actor, meeting=meeting, title="Varios", kind=AgendaItemKind.INFORMATION,
                             planned_minutes=10)
    return services.meeting_schedule(actor=actor, meeting=meeting)
