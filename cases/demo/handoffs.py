"""Demo handoffs between Peruvian, Chilean and international agencies at the
Tacna–Arica border, in both directions: pending, accepted, rejected, withdrawn,
completed and overdue, and one case handed back (Peru → Chile → Peru).

Created through the handoff services, as a caseworker of each agency would.
The cases come from the casework demo when it has one owned by the sending
agency; otherwise a small case of our own is created. Each scenario is known
by its reason text, so running the demo again changes nothing."""
import datetime
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from cases.models import Case, CaseMember, Consent, ConsentScope, Handoff, Person
from cases.roles import Role
from cases.services import handoffs as services


@dataclass(frozen=True)
class Scenario:
    name: str
    from_agency: str
    to_agency: str
    kind: str
    outcome: str  # pending | accepted | rejected | withdrawn | completed | overdue
    legal_basis: str
    reason: str
    services_requested: str = ""
    legal_basis_note: str = ""
    rejection_reason: str = ""
    note: str = ""
    follows: str = ""  # hand back the case of that scenario


COOPERATION = ("Acuerdo binacional de cooperación migratoria Perú–Chile, mecanismo de coordinación "
               "fronteriza Tacna–Arica.")

SCENARIOS = [
    Scenario("pe_cl_transfer_accepted", "pe-migraciones", "cl-sermig", "transfer", "accepted", "consent",
             "La familia cuenta con residencia temporal en trámite en Arica y pide continuar el proceso en Chile.",
             note="Recibimos el caso; la familia se presentará en la oficina de Arica."),
    Scenario("cl_pe_handback_pending", "cl-sermig", "pe-migraciones", "transfer", "pending", "consent",
             "La solicitud de residencia en Chile fue desistida; la familia regresa a Tacna y pide retomar su "
             "trámite de Permiso Temporal de Permanencia en Perú.", follows="pe_cl_transfer_accepted"),
    Scenario("cl_pe_transfer_pending", "cl-pdi-chacalluta", "pe-migraciones", "transfer", "pending",
             "cooperation_agreement",
             "Familia retenida en el complejo Chacalluta sin autorización de ingreso a Chile; solicita volver "
             "a Tacna.", legal_basis_note=COOPERATION),
    Scenario("pe_cl_transfer_pending", "pe-migraciones", "cl-sermig", "transfer", "pending", "consent",
             "Reunificación familiar: el padre reside regularmente en Arica."),
    Scenario("cl_pe_referral_accepted", "cl-sermig", "pe-upe-tacna", "referral", "accepted", "vital_interest",
             "Niños con signos de desnutrición que cruzan a Tacna con su madre.",
             services_requested="Evaluación de protección y atención de salud infantil en Tacna.",
             legal_basis_note="Riesgo para la salud de dos niños menores de cinco años."),
    Scenario("pe_int_referral_accepted", "pe-migraciones", "int-acnur-tacna", "referral", "accepted", "consent",
             "El jefe de familia expresa temor de regresar a Venezuela.",
             services_requested="Orientación sobre la solicitud de refugio y albergue temporal."),
    Scenario("cl_int_referral_completed", "cl-sermig", "int-oim-arica", "referral", "completed", "consent",
             "Familia que decide retornar voluntariamente y necesita apoyo para el traslado.",
             services_requested="Asistencia para retorno voluntario: pasajes y alimentación en ruta.",
             note="Traslado realizado."),
    Scenario("pe_cl_referral_rejected", "pe-migraciones", "cl-pdi-chacalluta", "referral", "rejected",
             "cooperation_agreement", "Verificar si la familia registra un ingreso previo por Chacalluta.",
             services_requested="Consulta de registros de control fronterizo.", legal_basis_note=COOPERATION,
             rejection_reason="out_of_mandate",
             note="La consulta de registros debe hacerse por el canal consular."),
    Scenario("cl_pe_transfer_rejected", "cl-sermig", "pe-migraciones", "transfer", "rejected", "consent",
             "La familia indica que continuará su trámite en Tacna.", rejection_reason="person_not_located",
             note="La familia no se presentó en la Jefatura Zonal de Tacna."),
    Scenario("pe_cl_transfer_withdrawn", "pe-migraciones", "cl-sermig", "transfer", "withdrawn", "consent",
             "Traslado a Arica para tratamiento médico de la madre.",
             note="La madre fue atendida en el hospital de Tacna; ya no es necesario el traslado."),
    Scenario("pe_pe_referral_pending", "pe-migraciones", "pe-upe-tacna", "referral", "pending", "",
             "Niña de siete años que viaja con su tía sin autorización de los padres.",
             services_requested="Evaluación de la situación de protección de la niña."),
    Scenario("pe_cl_transfer_overdue", "pe-upe-tacna", "cl-mejor-ninez-arica", "transfer", "overdue",
             "vital_interest", "Adolescente no acompañado cuyo tutor legal reside en Arica.",
             legal_basis_note="Menor no acompañado expuesto a riesgo de trata en la zona de frontera."),
    Scenario("cl_pe_referral_overdue", "cl-sermig", "pe-migraciones", "referral", "overdue", "consent",
             "Familia sin documentos que regresa a Tacna.",
             services_requested="Orientación para obtener el Permiso Temporal de Permanencia."),
]

# A case of our own (reference number, vulnerability, summary) for each scenario
# that finds none in the casework demo.
OWN_CASES = {
    "pe_cl_transfer_accepted": (901, "family_with_children", "Familia con dos hijos en el albergue de Tacna."),
    "cl_pe_transfer_pending": (902, "family_with_children", "Familia retenida en la línea de frontera."),
    "pe_cl_transfer_pending": (903, "family_with_children", "Madre con hijo pequeño en Tacna."),
    "cl_pe_referral_accepted": (904, "medical_need", "Madre con dos niños pequeños en Arica."),
    "pe_int_referral_accepted": (905, "asylum_seeker", "Familia que expresa temor de retorno."),
    "cl_int_referral_completed": (906, "family_with_children", "Familia que decide retornar."),
    "pe_cl_referral_rejected": (907, "family_with_children", "Familia sin registro de ingreso."),
    "cl_pe_transfer_rejected": (908, "elderly", "Pareja de adultos mayores en Arica."),
    "pe_cl_transfer_withdrawn": (909, "pregnancy", "Gestante en el albergue de Tacna."),
    "pe_pe_referral_pending": (910, "family_with_children", "Niña que viaja con su tía en Tacna."),
    "pe_cl_transfer_overdue": (911, "unaccompanied_minor", "Adolescente no acompañado en Tacna."),
    "cl_pe_referral_overdue": (912, "family_with_children", "Familia sin documentos en Arica."),
}

OWN_PEOPLE = [("Yorbelis", "Contreras Paredes"), ("Jhoan", "Medina Salas"), ("Ana Karina", "Villalobos"),
              ("Deivis", "Guerrero Lugo")]


def seed_handoffs(accounts, cases) -> dict:
    """Handoffs in both directions: pending, accepted, rejected, overdue."""
    caseworkers = {
        user.agency.code: user for user in accounts.users.values()
        if user.agency_id is not None and user.has_role(Role.CASEWORKER)
    }
    candidates = [case for case in (cases or {}).values() if isinstance(case, Case)]
    seeded: dict[str, Handoff] = {}
    for scenario in SCENARIOS:
        existing = Handoff.objects.filter(reason=scenario.reason).first()
        if existing is None:
            if scenario.follows:
                case = seeded[scenario.follows].case
            else:
                case = _pick_case(scenario, candidates) or _own_case(scenario, accounts)
            existing = _play(scenario, case, caseworkers)
        seeded[scenario.name] = existing
    return seeded


def _pick_case(scenario, candidates):
    for case in candidates:
        case.refresh_from_db()
        if (case.owner_agency.code == scenario.from_agency and case.status == "open"
                and not case.handoffs.exists()):
            return case
    return None


def _own_case(scenario, accounts) -> Case:
    number, flag, summary = OWN_CASES[scenario.name]
    owner = accounts.agencies[scenario.from_agency]
    case, created = Case.objects.get_or_create(
        reference=f"BC-2025-{number:06d}",
        defaults={"summary": summary, "priority": "high" if flag == "unaccompanied_minor" else "normal",
                  "border_point": "chacalluta_santa_rosa", "owner_agency": owner},
    )
    if created:
        case.set_vulnerabilities([flag])
        case.save()
        given, family = OWN_PEOPLE[number % len(OWN_PEOPLE)]
        person = Person.objects.create(
            given_names=given, family_names=family, sex="unknown", nationality="VE", created_by_agency=owner,
            date_of_birth=datetime.date(2009 if flag == "unaccompanied_minor" else 1988, 4, 12))
        CaseMember.objects.create(case=case, person=person, relationship="head")
        Case.objects.filter(pk=case.pk).update(member_count=F("member_count") + 1)
    return case


def _ensure_consent(case: Case, recorded_by) -> None:
    if services.has_active_cross_border_consent(case.pk):
        return
    head = case.memberships.select_related("person").first()
    if head is None:
        return  # the handoff will be refused; better no demo handoff than a made-up consent
    Consent.objects.create(case=case, scope=ConsentScope.SHARE_CROSS_BORDER, method="written",
                           given_at=timezone.now() - datetime.timedelta(days=1), given_by=head.person,
                           recorded_by=recorded_by, recorded_by_agency=case.owner_agency)


def _play(scenario, case, caseworkers) -> Handoff:
    sender, receiver = caseworkers[scenario.from_agency], caseworkers.get(scenario.to_agency)
    if scenario.legal_basis == "consent":
        _ensure_consent(case, sender)
    handoff = services.handoff_create(
        actor=sender, case_id=case.pk, to_agency=scenario.to_agency, kind=scenario.kind, reason=scenario.reason,
        services_requested=scenario.services_requested, legal_basis=scenario.legal_basis,
        legal_basis_note=scenario.legal_basis_note)
    if scenario.outcome in ("accepted", "completed"):
        handoff = services.handoff_accept(actor=receiver, handoff_id=handoff.pk,
                                          note="" if scenario.outcome == "completed" else scenario.note)
    if scenario.outcome == "completed":
        handoff = services.handoff_complete(actor=receiver, handoff_id=handoff.pk, note=scenario.note)
    elif scenario.outcome == "rejected":
        handoff = services.handoff_reject(actor=receiver, handoff_id=handoff.pk, reason=scenario.rejection_reason,
                                          note=scenario.note)
    elif scenario.outcome == "withdrawn":
        handoff = services.handoff_withdraw(actor=sender, handoff_id=handoff.pk, note=scenario.note)
    elif scenario.outcome == "overdue":
        # Deadlines are in the future when set; only time makes them pass.
        now = timezone.now()
        Handoff.objects.filter(pk=handoff.pk).update(created_at=now - datetime.timedelta(hours=90),
                                                     response_due=now - datetime.timedelta(hours=18))
        handoff.refresh_from_db()
    return handoff
