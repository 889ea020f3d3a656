"""Demo handoffs between Peruvian, Chilean and international agencies at the
Tacna–Arica border, in both directions: pending, accepted, rejected, withdrawn,
completed and overdue, and one case handed back (Peru → Chile → Peru).

Created through the handoff services, as a caseworker of each agency would.
The cases come from the casework demo when it has one owned by the sending
agency; otherwise a small case of our own is registered through the casework
services. Each scenario is known
by its reason text, so running the demo again changes nothing."""
import datetime
from dataclasses import dataclass

from django.utils import timezone

from cases.models import Case, ConsentScope, Handoff
from cases.roles import Role
from cases.services import handoffs as services
from cases.services.casework import case_create, consent_record


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

# A case of our own (vulnerability, summary, head of family) for each scenario
# that finds none in the casework demo, registered like any other case.
OWN_CASES = {
    "pe_cl_transfer_accepted": ("family_with_children", "Familia con dos hijos en el albergue de Tacna.",
                                ("Yorbelis", "Contreras Paredes", "female", 1991)),
    "cl_pe_transfer_pending": ("family_with_children", "Familia retenida en la línea de frontera.",
                               ("Jhoan", "Medina Salas", "male", 1987)),
    "pe_cl_transfer_pending": ("family_with_children", "Madre con hijo pequeño en Tacna.",
                               ("Ana Karina", "Villalobos", "female", 1995)),
    "cl_pe_referral_accepted": ("medical_need", "Madre con dos niños pequeños en Arica.",
                                ("Deivis", "Guerrero Lugo", "female", 1993)),
    "pe_int_referral_accepted": ("asylum_seeker", "Familia que expresa temor de retorno.",
                                 ("Wilmer", "Rangel Ortiz", "male", 1984)),
    "cl_int_referral_completed": ("family_with_children", "Familia que decide retornar.",
                                  ("Mariela", "Sánchez Bello", "female", 1990)),
    "pe_cl_referral_rejected": ("family_with_children", "Familia sin registro de ingreso.",
                                ("Richard", "Colmenares", "male", 1986)),
    "cl_pe_transfer_rejected": ("elderly", "Pareja de adultos mayores en Arica.",
                                ("Nelson", "Aguilera Rivas", "male", 1951)),
    "pe_cl_transfer_withdrawn": ("pregnancy", "Gestante en el albergue de Tacna.",
                                 ("Génesis", "Marcano", "female", 2001)),
    "pe_pe_referral_pending": ("family_with_children", "Niña que viaja con su tía en Tacna.",
                               ("Luisana", "Pacheco Díaz", "female", 1979)),
    "pe_cl_transfer_overdue": ("unaccompanied_minor", "Adolescente no acompañado en Tacna.",
                               ("Kleiver", "Montilla", "male", 2010)),
    "cl_pe_referral_overdue": ("family_with_children", "Familia sin documentos en Arica.",
                               ("Yusleidy", "Parra Ochoa", "female", 1994)),
}


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
                case = _pick_case(scenario, candidates) or _own_case(scenario, caseworkers)
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


def _own_case(scenario, caseworkers) -> Case:
    flag, summary, (given, family, sex, born) = OWN_CASES[scenario.name]
    existing = Case.objects.filter(summary=summary).first()
    if existing is not None:
        return existing
    return case_create(
        actor=caseworkers[scenario.from_agency], summary=summary, vulnerabilities=[flag],
        priority="high" if flag == "unaccompanied_minor" else "normal", border_point="chacalluta_santa_rosa",
        members=[{"relationship": "head", "given_names": given, "family_names": family, "sex": sex,
                  "date_of_birth": datetime.date(born, 4, 12), "date_of_birth_is_estimate": True,
                  "nationality": "VE", "document_type": "none"}],
    )


def _ensure_consent(case: Case, recorded_by) -> None:
    if services.has_active_cross_border_consent(case.pk):
        return
    head = case.memberships.select_related("person").filter(relationship="head").first()
    if head is None:
        return  # the handoff will be refused; better no demo handoff than a made-up consent
    consent_record(actor=recorded_by, case_id=case.pk, scope=ConsentScope.SHARE_CROSS_BORDER, method="written",
                   given_at=timezone.now() - datetime.timedelta(days=1), given_by=head.person_id)


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
