"""Load a realistic Puente dataset into a fresh PostgreSQL database, fast.

    .venv/bin/python -m bench.generate --cases 100000 [--seed 1] [--anchor 2026-11-26] [--database NAME]

What it writes, for N cases (the same rows for the same seed, N and anchor):

- the demo agencies and users (through ``seed_demo``'s own code) and, per
  agency, a caseworker ``bench.<code>`` with an API token (the tokens are in
  ``var/bench/datasets/<database>.json``, the only place they are kept);
- N cases spread over the three years before the anchor, with gapless
  references per year and ``CaseReferenceCounter`` at the last number used;
- about 2.5 people per case (a head of family, spouses, children, relatives),
  with documents, nationalities and phones; ``member_count`` matches;
- handoffs on about half the cases: transfers and referrals, within and across
  the border, pending (a third of them overdue), accepted, rejected,
  withdrawn, completed; an accepted transfer has moved the case's ownership;
- consents (cross-border, committee, a few withdrawn), a few notes per case,
  the history and the outbox events those changes would have written, all
  numbered in the change feed, and the statistics rollup built from them;
- the binational committee (the demo's delegates and more of each country,
  observers, each member with an API token in the same manifest), one
  meeting a week over the three years and the next one scheduled, with
  agendas linking cases and handoffs (more of them with more cases),
  decisions, action items, attendance and minutes.

How: the schema comes from ``migrate``; then every index and constraint of
the bulk tables is dropped, the rows are streamed with ``COPY`` (psycopg 3
``cursor.copy``), and the indexes and constraints are rebuilt from their saved
definitions. Rebuilding makes PostgreSQL check every primary key, unique,
check and foreign-key constraint over the loaded rows, so a dataset that
loads is a dataset that respects them all.

``--profile sweep`` writes instead one pending, overdue, never announced
transfer per case (all cases open): the backlog for the overdue sweep bench.
"""
import argparse
import bisect
import functools
import heapq
import io
import json
import random
import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bench import common

HOUR = 3600.0
DAY = 24 * HOUR
LIMA = ZoneInfo("America/Lima")

# Share of the cases each demo agency registers.
AGENCY_WEIGHTS = {
    "pe-migraciones": 0.22, "cl-sermig": 0.22, "pe-upe-tacna": 0.08, "cl-mejor-ninez-arica": 0.08,
    "pe-pnp-tacna": 0.06, "cl-pdi-chacalluta": 0.08, "int-acnur-tacna": 0.08, "int-oim-arica": 0.07,
    "pe-albergue-tacna": 0.05, "pe-defensoria-tacna": 0.03, "cl-indh-arica": 0.03,
}

GIVEN_FEMALE = ["María", "José", "Ana", "Carmen", "Yusmary", "Daniela", "Andreína", "Rosa", "Luisa", "Valentina",
                "Gabriela", "Mariana", "Isabel", "Yelitza", "Karla", "Fabiola", "Milagros", "Génesis", "Dayana",
                "Paola", "Sofía", "Camila", "Victoria", "Elena", "Lucía", "Nathaly", "Yoselin", "Beatriz"]
GIVEN_MALE = ["Luis", "Carlos", "José", "Jesús", "Pedro", "Juan", "Miguel", "Alejandro", "Eduardo", "Alberto",
              "Jhonny", "Wilmer", "Yorman", "Andrés", "Rafael", "Ángel", "Daniel", "Diego", "Víctor", "Oscar",
              "Ricardo", "Fernando", "Kelvin", "Brayan", "Samuel", "Gabriel", "Manuel", "Héctor"]
FAMILY = ["González", "Rodríguez", "Pérez", "Hernández", "García", "Martínez", "López", "Díaz", "Sánchez",
          "Ramírez", "Torres", "Rojas", "Flores", "Silva", "Morales", "Castillo", "Mendoza", "Vargas", "Romero",
          "Suárez", "Medina", "Herrera", "Aguilar", "Chávez", "Ortiz", "Gutiérrez", "Jiménez", "Ruiz", "Álvarez",
          "Moreno", "Castro", "Vásquez", "Rivas", "Guerrero", "Blanco", "Marcano", "Quintero", "Salazar",
          "Parra", "Contreras", "Bermúdez", "Figueroa", "Acosta", "Carrasco", "Zambrano", "Peña", "Montilla",
          "Camacho", "Pacheco", "Navarro", "Colmenares", "Briceño", "Urdaneta", "Villalobos", "Quispe", "Mamani",
          "Condori", "Huanca", "Araya", "Soto", "Muñoz", "Fuentes", "Valenzuela", "Cárdenas"]
NATIONALITIES = [("VE", 0.78), ("CO", 0.07), ("HT", 0.05), ("EC", 0.03), ("PE", 0.03), ("CL", 0.02), ("BO", 0.02)]
SUMMARIES = [
    "Familia varada en el complejo fronterizo; solicita orientación sobre su situación migratoria.",
    "Grupo familiar sin alojamiento en Tacna; requiere albergue temporal.",
    "Persona con necesidad médica detectada en el control fronterizo.",
    "Solicita reunificación familiar con parientes en el otro país.",
    "Ingreso por paso no habilitado; requiere evaluación de protección.",
    "Menores con documentación incompleta; se coordina con protección de la niñez.",
    "Solicitud de refugio en trámite; requiere asesoría legal.",
    "Familia retenida en la línea de frontera a la espera de transporte.",
]
NOTES = [
    "Entrevista realizada en el albergue; la familia confirma su intención de continuar el viaje.",
    "Se coordinó atención médica en el centro de salud más cercano.",
    "Se entregó kit de higiene y alimentos para tres días.",
    "Pendiente verificar documentación con el consulado.",
    "La persona solicita contacto con su familia en el país de destino.",
    "Se derivó a orientación legal gratuita.",
]
REASONS = [
    "La familia solicita continuar su trámite en el otro país.",
    "Se requiere evaluación especializada de protección de la niñez.",
    "Derivación para atención médica y alojamiento temporal.",
    "Continuidad del caso tras el cruce por Chacalluta–Santa Rosa.",
]
BORDER_POINTS = [("chacalluta_santa_rosa", 0.55), ("tacna_city", 0.2), ("arica_city", 0.15), ("other", 0.1)]
PRIORITIES = [("low", 0.15), ("normal", 0.55), ("high", 0.22), ("urgent", 0.08)]
FAMILY_SIZES = [(1, 0.35), (2, 0.20), (3, 0.20), (4, 0.15), (5, 0.07), (6, 0.03)]  # mean 2.48
CLOSURE_REASONS = ["resolved", "resolved", "resolved", "no_contact", "left_region", "duplicate", "other"]
REJECTION_REASONS = ["no_capacity", "out_of_mandate", "insufficient_information", "person_not_located"]
# Vulnerability flags of the case table, in column order, with how often each is set.
FLAG_RATES = [("unaccompanied_minor", None), ("family_with_children", None), ("pregnancy", 0.05),
              ("disability", 0.03), ("medical_need", 0.08), ("elderly", 0.05), ("asylum_seeker", 0.20),
              ("trafficking_risk", 0.02), ("gbv_risk", 0.03)]
OPEN_MIX = [("pending", 0.40), ("accepted", 0.22), ("rejected", 0.12), ("withdrawn", 0.06), ("completed", 0.20)]
CLOSED_MIX = [("accepted", 0.20), ("rejected", 0.20), ("withdrawn", 0.10), ("completed", 0.50)]

# The tables loaded in bulk; their indexes and constraints are rebuilt after the load.
BULK_TABLES = ["cases_person", "cases_case", "cases_casemember", "cases_consent", "cases_note", "cases_handoff",
               "cases_historyentry", "cases_event", "cases_event_agencies"]


def weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=False)
    cumulative, total = [], 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    return lambda: values[_bisect(cumulative, rng.random() * total)]


def _bisect(cumulative, x):
    for index, edge in enumerate(cumulative):
        if x < edge:
            return index
    return len(cumulative) - 1


class Ids:
    """Deterministic, random-looking UUIDs (version 4 layout): the n-th id of a
    kind is the same for the same seed, whichever table asks for it."""

    def __init__(self, seed: int):
        self.seed = seed
        self.lists: dict[str, list[str]] = {}

    def make(self, kind: str, count: int) -> list[str]:
        rng = random.Random(f"{self.seed}:{kind}")
        bits = rng.getrandbits
        ids = []
        for _ in range(count):
            ids.append(random_uuid(bits))
        self.lists[kind] = ids
        return ids

    def __call__(self, kind: str, n: int) -> str:
        return self.lists[kind][n]


def random_uuid(bits) -> str:
    h = f"{bits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def ts(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(sep=" ")


def text(value) -> str:
    """One COPY text-format field."""
    if value.__class__ is str:
        return value
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


class Writer:
    """Streams rows into one table with COPY, in chunks of about a megabyte."""

    def __init__(self, cursor, table: str, columns: list[str]):
        self.copy_cm = cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN")
        self.copy = self.copy_cm.__enter__()
        self.buffer = io.StringIO()
        self.rows = 0

    def row(self, *values) -> None:
        self.line("\t".join(map(text, values)))

    def line(self, line: str) -> None:
        """A row already in COPY text format, without its newline."""
        self.buffer.write(line)
        self.buffer.write("\n")
        self.rows += 1
        if self.buffer.tell() > 1 << 20:
            self.flush()

    def flush(self) -> None:
        self.copy.write(self.buffer.getvalue())
        self.buffer = io.StringIO()

    def close(self) -> int:
        self.flush()
        self.copy_cm.__exit__(None, None, None)
        return self.rows


# --- The plan: who owns what, when, in which state ---------------------------------------------


class Plan:
    """Per-case facts that several tables need, kept in flat lists."""

    def __init__(self, *, cases: int, seed: int, anchor: datetime, agencies: dict, profile: str):
        self.n = cases
        self.seed = seed
        self.anchor = anchor.timestamp()
        self.agencies = agencies  # code -> (id, country, bench user id)
        self.profile = profile
        self.ids = Ids(seed)


def build_plan(plan: Plan) -> None:
    rng = random.Random(plan.seed)
    n, anchor = plan.n, plan.anchor
    codes = list(AGENCY_WEIGHTS)
    pick_owner = weighted(rng, [(code, AGENCY_WEIGHTS[code]) for code in codes])
    pick_size = weighted(rng, FAMILY_SIZES)
    start = anchor - 3 * 365 * DAY
    created = sorted(rng.uniform(start, anchor - HOUR) for _ in range(n))

    plan.created = created
    plan.owner = []          # code of the agency that registered the case
    plan.final_owner = []    # code of the agency that owns it now
    plan.size = []
    plan.person_start = []
    plan.status = []         # "open" / "closed"
    plan.closed_at = []
    plan.consent = []        # 0 none, 1 active cross-border, 2 withdrawn cross-border
    plan.references = []
    plan.handoffs = []       # per case: list of handoff dicts
    plan.updated = []
    plan.version = []
    counters: dict[int, int] = {}
    person = 0
    for index in range(n):
        owner = pick_owner()
        size = pick_size()
        age = anchor - created[index]
        closed = False if plan.profile == "sweep" else rng.random() < min(0.6, 0.45 * age / (365 * DAY))
        closed_at = created[index] + rng.uniform(DAY, max(2 * DAY, min(age, 180 * DAY))) if closed else None
        if closed_at is not None and closed_at > anchor - HOUR:
            closed_at = anchor - HOUR
        year = datetime.fromtimestamp(created[index], LIMA).year
        counters[year] = counters.get(year, 0) + 1
        plan.references.append(f"BC-{year}-{counters[year]:06d}")
        plan.owner.append(owner)
        plan.final_owner.append(owner)
        plan.size.append(size)
        plan.person_start.append(person)
        person += size
        plan.status.append("closed" if closed else "open")
        plan.closed_at.append(closed_at)
        roll = rng.random()
        plan.consent.append(1 if roll < 0.43 else 2 if roll < 0.45 else 0)
        plan.handoffs.append([])
        plan.updated.append(closed_at or created[index])
        plan.version.append(2 if closed else 1)
    plan.people = person
    plan.counters = counters
    plan.created_s = [ts(at) for at in created]
    plan.ids.make("case", n)
    plan.ids.make("person", person)

    handoff_number = 0

    pick_open, pick_closed = weighted(rng, OPEN_MIX), weighted(rng, CLOSED_MIX)

    def other_agency(owner: str, cross: bool) -> str:
        country = plan.agencies[owner][1]
        pool = [c for c in codes if c != owner and ((plan.agencies[c][1] != country) == cross)]
        return rng.choice(pool or [c for c in codes if c != owner])

    for index in range(n):
        owner = plan.owner[index]
        created_at = created[index]
        has_handoff = plan.profile == "sweep" or rng.random() < 0.5
        if not has_handoff:
            continue
        status = (pick_open if plan.status[index] == "open" else pick_closed)() if plan.profile != "sweep" \
            else "pending"
        kind = "transfer" if plan.profile == "sweep" or rng.random() < 0.55 else "referral"
        cross = rng.random() < 0.7
        to = other_agency(owner, cross)
        cross_border = plan.agencies[owner][1] != plan.agencies[to][1] or "INT" in (
            plan.agencies[owner][1], plan.agencies[to][1])
        limit = plan.closed_at[index] or anchor - 60
        if status == "pending":
            if plan.profile == "sweep" or rng.random() < 1 / 3:
                at = anchor - rng.uniform(73 * HOUR, 14 * DAY)  # overdue
            else:
                at = anchor - rng.uniform(60, 70 * HOUR)
            at = max(at, created_at + 60)
        else:
            at = created_at + rng.uniform(60, max(120, min(30 * DAY, (limit - created_at) / 2)))
        if plan.consent[index] == 1 and cross_border:
            basis, note = "consent", ""
        elif cross_border:
            basis = rng.choice(["vital_interest", "legal_obligation", "cooperation_agreement"])
            note = "Acuerdo binacional de cooperación migratoria; riesgo para la integridad de la familia."
        else:
            basis, note = ("cooperation_agreement", "Convenio interinstitucional vigente.") if rng.random() < 0.5 \
                else ("", "")
        handoff = {"n": handoff_number, "kind": kind, "status": status, "from": owner, "to": to, "created": at,
                   "due": at + 72 * HOUR, "basis": basis, "note": note, "responded": None, "withdrawn": None,
                   "completed": None, "announced": False}
        handoff_number += 1
        if status in ("accepted", "rejected", "completed"):
            handoff["responded"] = min(at + rng.uniform(HOUR, 72 * HOUR), limit)
        if status == "withdrawn":
            handoff["withdrawn"] = min(at + rng.uniform(HOUR, 48 * HOUR), limit)
        if status == "completed":
            handoff["completed"] = min(handoff["responded"] + rng.uniform(DAY, 10 * DAY), limit)
        if status == "pending" and handoff["due"] < anchor - 60 and plan.profile != "sweep":
            handoff["announced"] = True  # the sweep has run since it fell due
        if status in ("accepted", "completed") and kind == "transfer":
            plan.final_owner[index] = to
            plan.version[index] += 1
        # Some cases were first offered elsewhere and turned down.
        if plan.profile != "sweep" and rng.random() < 0.1:
            earlier_to = other_agency(owner, cross)
            first = created_at + (at - created_at) * 0.3
            plan.handoffs[index].append({
                "n": handoff_number, "kind": "referral", "status": "rejected", "from": owner, "to": earlier_to,
                "created": first, "due": first + 72 * HOUR, "basis": "cooperation_agreement",
                "note": "Convenio interinstitucional vigente.", "responded": first + rng.uniform(HOUR, 48 * HOUR),
                "withdrawn": None, "completed": None, "announced": False})
            handoff_number += 1
        plan.handoffs[index].append(handoff)
        last = max(v for v in (handoff["created"], handoff["responded"], handoff["withdrawn"],
                               handoff["completed"]) if v is not None)
        plan.updated[index] = max(plan.updated[index], last)
    plan.handoff_count = handoff_number
    plan.ids.make("handoff", handoff_number)


# --- The tables ----------------------------------------------------------------------------------


def write_cases(cursor, plan: Plan) -> int:
    rng = random.Random(plan.seed + 1)
    pick_priority = weighted(rng, PRIORITIES)
    pick_border = weighted(rng, BORDER_POINTS)
    flags = [f"vulnerable_{name}" for name, _rate in FLAG_RATES]
    columns = ["id", "reference", "summary", "status", "closure_reason", "closure_note", "closed_at", "priority",
               "border_point", *flags, "member_count", "search_document", "version", "anonymised_at", "created_at",
               "updated_at", "assigned_to_id", "created_by_id", "owner_agency_id"]
    out = Writer(cursor, "cases_case", columns)
    agencies = plan.agencies
    for i in range(plan.n):
        size = plan.size[i]
        closed = plan.status[i] == "closed"
        values = []
        for name, rate in FLAG_RATES:
            if name == "family_with_children":
                values.append(size >= 3 or (size == 2 and rng.random() < 0.3))
            elif name == "unaccompanied_minor":
                values.append(size == 1 and rng.random() < 0.08)
            else:
                values.append(rng.random() < rate)
        owner, final = plan.owner[i], plan.final_owner[i]
        # An accepted transfer leaves the case unassigned until the new owner assigns someone.
        assigned = agencies[final][2] if owner == final and rng.random() < 0.5 else None
        out.row(plan.ids("case", i), plan.references[i], rng.choice(SUMMARIES), plan.status[i],
                rng.choice(CLOSURE_REASONS) if closed else "", "Cierre registrado por la agencia." if closed else "",
                ts(plan.closed_at[i]) if closed else None, pick_priority(), pick_border(), *values, size,
                plan.search_documents[i].replace("\n", "\\n"), plan.version[i], None, plan.created_s[i],
                ts(plan.updated[i]), assigned, agencies[owner][2],
                agencies[final][0])
    return out.close()


def write_people_and_members(cursor, plan: Plan) -> tuple[int, int]:
    rng = random.Random(plan.seed + 2)
    pick_nationality = weighted(rng, NATIONALITIES)
    adult_document = weighted(rng, [("national_id", 0.45), ("passport", 0.35), ("none", 0.15), ("refugee_id", 0.05)])
    child_document = weighted(rng, [("birth_certificate", 0.5), ("passport", 0.2), ("none", 0.3)])
    anchor_year = datetime.fromtimestamp(plan.anchor, UTC).year
    person_columns = ["id", "given_names", "family_names", "sex", "date_of_birth", "date_of_birth_is_estimate",
                      "nationality", "document_type", "document_country", "document_number",
                      "document_number_normalised", "phone", "languages", "version", "anonymised_at", "created_at",
                      "updated_at", "created_by_agency_id"]
    people = Writer(cursor, "cases_person", person_columns)
    member_rows = []  # written after the people: one COPY at a time per connection
    # The search document of each case, as cases.services.search writes it (the cases are written after).
    from cases.services import search
    name_words = functools.lru_cache(maxsize=None)(lambda names: " ".join(search.search_words(names)))
    plan.search_documents = []
    case_ids, person_ids = plan.ids.lists["case"], plan.ids.lists["person"]
    for i in range(plan.n):
        nationality = pick_nationality()
        family_a, family_b = rng.choice(FAMILY), rng.choice(FAMILY)
        created = plan.created_s[i]
        case_id = case_ids[i]
        agency_id = plan.agencies[plan.owner[i]][0]
        lines = []
        for m in range(plan.size[i]):
            index = plan.person_start[i] + m
            if m == 0:
                relationship, adult = "head", True
            elif m == 1 and plan.size[i] >= 2 and rng.random() < 0.75:
                relationship, adult = "spouse", True
            elif rng.random() < 0.1:
                relationship, adult = "other_relative", True
            else:
                relationship, adult = "child", False
            sex = "female" if rng.random() < 0.55 else "male"
            given = rng.choice(GIVEN_FEMALE if sex == "female" else GIVEN_MALE)
            if rng.random() < 0.6:
                given += " " + rng.choice(GIVEN_FEMALE if sex == "female" else GIVEN_MALE)
            family = f"{family_a} {family_b}" if relationship in ("head", "child") else \
                f"{rng.choice(FAMILY)} {rng.choice(FAMILY)}"
            if adult:
                born = date(rng.randint(1955, anchor_year - 19), rng.randint(1, 12), rng.randint(1, 28))
                document_type = adult_document()
            else:
                born = date(rng.randint(anchor_year - 17, anchor_year - 1), rng.randint(1, 12), rng.randint(1, 28))
                document_type = child_document()
            # Unique per document type: a bijection of the person's index.
            serial = (index * 7_919 + 10_000_019) % 100_000_000
            if document_type == "none":
                number = normalised = ""
                country = ""
            elif document_type == "national_id" and nationality == "VE":
                number = f"V-{serial // 1_000_000:02d}.{serial // 1000 % 1000:03d}.{serial % 1000:03d}"
                normalised, country = f"V{serial:08d}", nationality
            else:
                prefix = {"national_id": "N", "passport": "P", "refugee_id": "R", "birth_certificate": "A"}[
                    document_type]
                number = f"{prefix}{serial:08d}"
                normalised, country = number, nationality
            phone = f"+58 4{rng.randint(12, 26)} {rng.randint(1_000_000, 9_999_999)}" if adult and \
                rng.random() < 0.7 else ""
            languages = '["ht", "fr"]' if nationality == "HT" else '["es"]'
            person_id = person_ids[index]
            people.line(f"{person_id}\t{given}\t{family}\t{sex}\t{born.isoformat()}\t"
                        f"{'t' if rng.random() < 0.1 else 'f'}\t{nationality}\t{document_type}\t{country}\t"
                        f"{number}\t{normalised}\t{phone}\t{languages}\t1\t\\N\t{created}\t{created}\t{agency_id}")
            member_rows.append(f"{index + 1}\t{relationship}\t{created}\t{case_id}\t{person_id}")
            lines.append(" ".join(w for w in [name_words(given), name_words(family), *search.document_words(number)]
                                  if w))
        plan.search_documents.append(search.MEMBER_SEPARATOR.join(lines))
    people_count = people.close()
    members = Writer(cursor, "cases_casemember", ["id", "relationship", "added_at", "case_id", "person_id"])
    for row in member_rows:
        members.line(row)
    return people_count, members.close()


def write_consents_and_notes(cursor, plan: Plan) -> tuple[int, int]:
    rng = random.Random(plan.seed + 3)
    consents = Writer(cursor, "cases_consent", ["id", "scope", "method", "given_at", "withdrawn_at", "created_at",
                                                "case_id", "recorded_by_id", "recorded_by_agency_id",
                                                "withdrawn_by_id", "given_by_id"])
    number = 0
    for i in range(plan.n):
        head = plan.ids("person", plan.person_start[i])
        agency_id, user_id = plan.agencies[plan.owner[i]][0], plan.agencies[plan.owner[i]][2]
        given = plan.created[i] + rng.uniform(60, 2 * HOUR)
        scopes = []
        if plan.consent[i]:
            scopes.append(("share_cross_border", plan.consent[i] == 2))
        if rng.random() < 0.15:
            scopes.append(("share_committee", False))
        for scope, withdrawn in scopes:
            withdrawn_at = plan.updated[i] if withdrawn else None
            consents.row(random_uuid(rng.getrandbits), scope, rng.choice(["verbal", "written", "digital"]), ts(given),
                         ts(withdrawn_at) if withdrawn_at else None, ts(given), plan.ids("case", i), user_id,
                         agency_id, user_id if withdrawn else None, head)
            number += 1
    consent_count = consents.close()

    notes = Writer(cursor, "cases_note", ["id", "body", "visibility", "created_at", "agency_id", "author_id",
                                          "case_id"])
    number = 0
    for i in range(plan.n):
        roll = rng.random()
        count = 0 if roll < 0.6 else 1 if roll < 0.85 else 2 if roll < 0.95 else 3
        agency_id, user_id = plan.agencies[plan.owner[i]][0], plan.agencies[plan.owner[i]][2]
        for _ in range(count):
            at = plan.created[i] + rng.uniform(HOUR, 20 * DAY)
            at = min(at, plan.anchor - 60)
            notes.row(random_uuid(rng.getrandbits), rng.choice(NOTES), "shared" if rng.random() < 0.4 else "agency",
                      ts(at), agency_id, user_id, plan.ids("case", i))
            number += 1
    return consent_count, notes.close()


EVENT_TYPES = ["case.created", "handoff.created", "handoff.accepted", "handoff.rejected", "handoff.withdrawn",
               "handoff.completed", "handoff.overdue"]


def write_handoffs_history_events(cursor, plan: Plan) -> dict[str, int]:
    agencies = plan.agencies
    handoffs = Writer(cursor, "cases_handoff", [
        "id", "kind", "reason", "services_requested", "response_due", "status", "legal_basis", "legal_basis_note",
        "responded_at", "response_note", "rejection_reason", "withdrawn_at", "completed_at", "completion_note",
        "overdue_emitted_for", "created_at", "updated_at", "case_id", "completed_by_id", "from_agency_id",
        "requested_by_id", "responded_by_id", "to_agency_id"])
    rng = random.Random(plan.seed + 4)
    handoff_events = []  # (time, type index, case index, handoff number, from code, to code)
    for i in range(plan.n):
        for h in plan.handoffs[i]:
            from_id, to_id = agencies[h["from"]][0], agencies[h["to"]][0]
            from_user, to_user = agencies[h["from"]][2], agencies[h["to"]][2]
            status = h["status"]
            updated = max(v for v in (h["created"], h["responded"], h["withdrawn"], h["completed"]) if v)
            handoffs.row(
                plan.ids("handoff", h["n"]), h["kind"], rng.choice(REASONS),
                "Alojamiento temporal y orientación legal." if h["kind"] == "referral" else "", ts(h["due"]),
                status, h["basis"], h["note"], ts(h["responded"]) if h["responded"] else None,
                "", rng.choice(REJECTION_REASONS) if status == "rejected" else "",
                ts(h["withdrawn"]) if h["withdrawn"] else None, ts(h["completed"]) if h["completed"] else None,
                "Servicio prestado." if h["completed"] else "", ts(h["due"]) if h["announced"] else None,
                ts(h["created"]), ts(updated), plan.ids("case", i), to_user if h["completed"] else None,
                from_id, from_user, to_user if h["responded"] else None, to_id)
            handoff_events.append((h["created"], 1, i, h["n"], h["from"], h["to"]))
            answered = h["responded"] or h["withdrawn"]
            if answered:
                kind = {"rejected": 3, "withdrawn": 4}.get(status, 2)
                handoff_events.append((answered, kind, i, h["n"], h["from"], h["to"]))
            if h["completed"]:
                handoff_events.append((h["completed"], 5, i, h["n"], h["from"], h["to"]))
            if h["announced"]:
                handoff_events.append((h["due"] + 30, 6, i, h["n"], h["from"], h["to"]))
    counts = {"handoffs": handoffs.close()}
    handoff_events.sort()

    # Outbox ids follow time, as they would have been written.
    case_events = ((plan.created[i], 0, i, -1, plan.owner[i], None) for i in range(plan.n))
    case_ids, handoff_ids = plan.ids.lists["case"], plan.ids.lists["handoff"]
    events = Writer(cursor, "cases_event", ["id", "type", "occurred_at", "object_type", "object_id",
                                            "case_reference", "case_id"])
    audience = []
    for number, (at, kind, i, h, first, second) in enumerate(heapq.merge(case_events, handoff_events), start=1):
        case_id = case_ids[i]
        object_type, object_id = ("case", case_id) if kind == 0 else ("handoff", handoff_ids[h])
        at_s = plan.created_s[i] if kind == 0 else ts(at)
        events.line(f"{number}\t{EVENT_TYPES[kind]}\t{at_s}\t{object_type}\t{object_id}\t{plan.references[i]}\t"
                    f"{case_id}")
        audience.append((number, agencies[first][0]))
        if second is not None:
            audience.append((number, agencies[second][0]))
    counts["events"] = events.close()
    links = Writer(cursor, "cases_event_agencies", ["id", "event_id", "agency_id"])
    for number, (event_id, agency_id) in enumerate(audience, start=1):
        links.line(f"{number}\t{event_id}\t{agency_id}")
    counts["event_agencies"] = links.close()
    del audience

    # History: the creation of each case, and each handoff step.
    history = Writer(cursor, "cases_historyentry", ["id", "at", "action", "object_type", "object_id", "changes",
                                                    "actor_id", "agency_id", "case_id"])
    number = 0
    for i in range(plan.n):
        number += 1
        owner = plan.owner[i]
        history.line(f"{number}\t{plan.created_s[i]}\tcase.created\tcase\t{case_ids[i]}\t"
                     f'{{"reference": [null, "{plan.references[i]}"], "owner_agency": [null, "{owner}"]}}\t'
                     f"{agencies[owner][2]}\t{agencies[owner][0]}\t{case_ids[i]}")
    for at, kind, i, h, first, second in handoff_events:
        if kind == 6:
            continue  # the sweep writes an event, not history
        number += 1
        action = EVENT_TYPES[kind]
        actor = agencies[first if kind in (1, 4) else second]
        history.line(f"{number}\t{ts(at)}\t{action}\thandoff\t{handoff_ids[h]}\t"
                     f'{{"status": [null, "{action.split(".")[1]}"]}}\t{actor[2]}\t{actor[0]}\t{case_ids[i]}')
    counts["history"] = history.close()
    return counts


# --- The committee: members, a meeting a week, agendas, decisions, follow-up ------------------

# Beyond the demo's delegates (``committee.demo.MEMBERS``): more delegates of
# each country, observers of the international organisations.
BENCH_MEMBERS = [
    # username, role, delegation, time zone
    ("bench.delegado.pe.1", "member", "PE", "America/Lima"),
    ("bench.delegado.pe.2", "member", "PE", "America/Lima"),
    ("bench.delegado.pe.3", "member", "PE", "America/Lima"),
    ("bench.delegado.cl.1", "chair", "CL", "America/Santiago"),
    ("bench.delegado.cl.2", "member", "CL", "America/Santiago"),
    ("bench.delegado.cl.3", "member", "CL", "America/Santiago"),
    ("bench.observador.acnur", "observer", "INT", "America/Lima"),
    ("bench.observador.oim", "observer", "INT", "America/Santiago"),
]
COMMITTEE_NAME = "Comité Binacional de Cooperación Migratoria Perú–Chile"
PLACES = [("America/Lima", "Gobierno Regional de Tacna, sala de sesiones"),
          ("America/Santiago", "Delegación Presidencial Regional de Arica y Parinacota, salón auditorio")]
STANDING_ITEMS = [
    ("information", "Situación en el complejo fronterizo Chacalluta–Santa Rosa", 20),
    ("discussion", "Capacidad de los albergues temporales de Tacna y Arica", 20),
    ("decision", "Coordinación de derivaciones de niños, niñas y adolescentes no acompañados", 25),
]
DECISION_TEXTS = {
    "information": ("noted", "El Comité toma nota de los informes de ambas delegaciones."),
    "discussion": ("noted", "El Comité acuerda continuar el seguimiento con cifras de ambas ciudades."),
    "decision": ("adopted", "Se aprueba el procedimiento: toda derivación se comunica a las unidades de protección "
                            "de ambos países en 24 horas."),
    "case_review": ("noted", "El Comité toma nota del caso y pide un informe a la agencia a cargo."),
    "minutes_approval": ("adopted", "Se aprueba el acta de la sesión anterior."),
}
ATTENDANCE_MIX = [("present", 0.85), ("excused", 0.10), ("absent", 0.05)]


class Rows:
    """Rows of a small table kept until ``close``: the committee's tables are
    written together, and a connection streams one COPY at a time."""

    def __init__(self, cursor, table: str, columns: list[str]):
        self.cursor, self.table, self.columns, self.lines = cursor, table, columns, []

    def row(self, *values) -> None:
        self.lines.append("\t".join(text(value).replace("\\", "\\\\").replace("\n", "\\n")
                                    if value is not None else "\\N" for value in values))

    def close(self) -> int:
        out = Writer(self.cursor, self.table, self.columns)
        for line in self.lines:
            out.line(line)
        return out.close()


def agenda_reviews_per_meeting(cases: int) -> int:
    """Case and handoff reviews on one agenda: two at 10k cases, 7 at 100k, 24
    (the most a session of three hours gets through) from 440k."""
    return min(24, 2 + cases // 20_000)


def seed_committee_members() -> list[dict]:
    """The committee's members (the demo's delegates and the bench's), each with
    an API token: the agenda is read with a member's token."""
    from api_core.services import token_issue
    from cases.models import User
    from cases.roles import Role
    from cases.services import user_upsert
    from committee.demo import MEMBERS

    members = []
    for username, role, delegation in MEMBERS:
        members.append((User.objects.get(username=username), role, delegation))
    for username, role, delegation, zone in BENCH_MEMBERS:
        user, _created = user_upsert(username=username, email=f"{username}@comite-binacional.example.org",
                                     role=Role.COMMITTEE_MEMBER, language="es", time_zone=zone)
        members.append((user, role, delegation))
    result = []
    for user, role, delegation in members:
        token = None
        if user.has_role(Role.COMMITTEE_MEMBER):
            _token, token = token_issue(user=user, name="bench")
        result.append({"username": user.username, "id": user.pk, "role": role, "delegation": delegation,
                       "token": token})
    return result


def _meeting_cases(plan: Plan, rng: random.Random, at: float, wanted: int) -> list[tuple[int, dict | None]]:
    """Cases for one agenda: open then, registered in the two months before;
    up to half with a handoff overdue or rejected by then (as the docket
    proposes them), the rest plain case reviews."""
    low, high = bisect.bisect_left(plan.created, at - 60 * DAY), bisect.bisect_left(plan.created, at - DAY)
    if high <= low:
        return []
    with_handoff, plain, seen = [], [], set()
    for _attempt in range(wanted * 20):
        if len(with_handoff) >= (wanted + 1) // 2 and len(plain) >= wanted:
            break
        i = rng.randrange(low, high)
        if i in seen or (plan.closed_at[i] is not None and plan.closed_at[i] < at):
            continue
        seen.add(i)
        handoff = next((h for h in plan.handoffs[i]
                        if (h["status"] == "rejected" and h["responded"] and h["responded"] < at)
                        or (h["due"] < at and (h["responded"] or h["withdrawn"] or plan.anchor) > at)), None)
        (with_handoff if handoff else plain).append((i, handoff))
    # Half the reviews, at most, come from the docket's overdue and rejected handoffs.
    chosen = with_handoff[:(wanted + 1) // 2]
    return chosen + plain[:wanted - len(chosen)]


def write_committee(conn, plan: Plan, members: list[dict]) -> dict[str, int]:
    """One meeting a week over the dataset's three years, alternating Tacna and
    Arica (held, a few cancelled, the last minutes still circulating), and the
    next one scheduled a few days after the anchor with its docket. Agendas
    link cases and handoffs by reference (no personal data); held meetings have
    attendance, decisions and action items, some done, some overdue."""
    rng = random.Random(plan.seed + 7)
    bits = rng.getrandbits
    anchor = plan.anchor
    secretary = next(m["id"] for m in members if m["role"] == "secretary")
    committee_id = random_uuid(bits)
    reviews = agenda_reviews_per_meeting(plan.n)
    pick_attendance = weighted(rng, ATTENDANCE_MIX)
    case_ids, handoff_ids = plan.ids.lists["case"], plan.ids.lists["handoff"]
    since = anchor - 3 * 365 * DAY
    codes = {code: values[0] for code, values in plan.agencies.items()}
    counts = {}
    with conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO committee_committee (id, code, name, description, quorum_pe, quorum_cl, quorum_int, active, "
            "created_at, updated_at, parent_id) VALUES (%s, %s, %s, %s, 1, 1, 0, true, %s, %s, NULL)",
            [committee_id, "comite-binacional", COMMITTEE_NAME,
             "Instancia de coordinación entre ambos gobiernos para la atención de la población migrante en la "
             "frontera Tacna–Arica.", ts(since), ts(since)])
        memberships = Writer(cursor, "committee_membership", ["committee_id", "user_id", "role", "delegation",
                                                              "created_at"])
        for member in members:
            memberships.row(committee_id, member["id"], member["role"], member["delegation"], ts(since))
        counts["committee_members"] = memberships.close()

        meetings = Rows(cursor, "committee_meeting", [
            "id", "committee_id", "title", "starts_at", "ends_at", "time_zone", "mode", "place", "video_link", "status",
            "sequence", "cancelled_at", "cancellation_reason", "minutes", "minutes_status", "minutes_circulated_at",
            "minutes_approved_at", "minutes_approved_by_id", "version", "created_by_id", "created_at", "updated_at"])
        items = Rows(cursor, "committee_agendaitem", [
            "id", "meeting_id", "position", "kind", "title", "notes", "planned_minutes", "case_id", "case_label",
            "handoff_id", "handoff_label", "action_item_id", "action_item_label", "status", "deferred_from_id",
            "created_at", "updated_at"])
        decisions = Rows(cursor, "committee_decision", [
            "id", "agenda_item_id", "text", "outcome", "position_pe", "position_cl", "position_int",
            "recorded_by_id", "created_at"])
        actions = Rows(cursor, "committee_actionitem", [
            "id", "title", "description", "owner_agency_id", "assignee_id", "due_at", "status", "completed_at",
            "completed_by_id", "completion_note", "cancelled_at", "cancellation_reason", "meeting_id",
            "agenda_item_id", "decision_id", "case_id", "version", "created_by_id", "created_at", "updated_at"])
        attendance = Rows(cursor, "committee_attendance", ["meeting_id", "user_id", "delegation", "status",
                                                            "counts_for_quorum"])
        deferred: list[tuple[str, str, str, int | None]] = []  # (item id, kind, title, case index) to carry over
        follow_up: list[tuple[float, str, str, float | None]] = []  # (due, id, title, done at) of action items
        weeks = int((anchor - since) // (7 * DAY))
        number = 0
        for week in range(weeks + 3):
            zone, place = PLACES[week % 2]
            local_day = datetime.fromtimestamp(since + (week * 7 + 2) * DAY, ZoneInfo(zone)).date()
            starts = datetime(local_day.year, local_day.month, local_day.day, 10, tzinfo=ZoneInfo(zone)).timestamp()
            upcoming = starts > anchor
            if upcoming and starts > anchor + 14 * DAY:
                break
            if not upcoming and starts > anchor - 3 * HOUR:
                continue  # the session of the anchor's own day: not held yet, not the next one either
            number += 1
            meeting_id = random_uuid(bits)
            cancelled = not upcoming and rng.random() < 0.04
            status = "scheduled" if upcoming else "cancelled" if cancelled else "held"
            held = status == "held"
            mode = rng.choice(["in_person", "in_person", "hybrid", "online"])
            created = starts - rng.uniform(7, 10) * DAY
            ends = starts + 3 * HOUR
            # The minutes of the last session are circulating; older ones approved a week later.
            recent = held and starts > anchor - 7 * DAY
            minutes_status = "draft" if not held else "circulated" if recent else "approved"
            circulated = ends + DAY if held else None
            approved = starts + 7 * DAY if minutes_status == "approved" else None
            title = f"Sesión {number} del Comité Binacional"

            agenda = []  # (kind, title, minutes, case index, handoff, action (id, title), deferred from)
            if number > 1:
                agenda.append(("minutes_approval", "Aprobación del acta de la sesión anterior", 10, None, None, None,
                               None))
            for item_id, kind, item_title, case_index in deferred:
                agenda.append((kind, item_title, 20, case_index, None, None, item_id))
            deferred = []
            for kind, item_title, minutes in STANDING_ITEMS:
                agenda.append((kind, item_title, minutes, None, None, None, None))
            for i, handoff in _meeting_cases(plan, rng, min(starts - DAY, anchor - HOUR), reviews):
                if handoff is None:
                    agenda.append(("case_review", f"Revisión del caso {plan.references[i]}", 15, i, None, None, None))
                else:
                    state = "rechazado" if handoff["status"] == "rejected" and (handoff["responded"] or 0) < starts \
                        else "vencido"
                    word = "Traslado" if handoff["kind"] == "transfer" else "Derivación"
                    agenda.append(("case_review", f"{word} {state}: {plan.references[i]} "
                                                  f"({handoff['from']} → {handoff['to']})", 15, i, handoff, None, None))
            still_open = [entry for entry in follow_up if entry[0] < starts and (entry[3] is None or entry[3] > starts)]
            for _due, action_id, action_title, _done in still_open[:2]:
                agenda.append(("discussion", f"Seguimiento: {action_title}", 10, None, None, (action_id, action_title),
                               None))
            follow_up = [entry for entry in follow_up if entry not in still_open[:2] and entry[0] > starts - 60 * DAY]
            agenda.append(("information", "Varios", 10, None, None, None, None))

            version = 1 + len(agenda)
            for position, (kind, item_title, minutes, i, handoff, action, carried) in enumerate(agenda, start=1):
                item_id = random_uuid(bits)
                item_status = "pending"
                if held:
                    item_status = "deferred" if kind in ("discussion", "case_review") and rng.random() < 0.05 \
                        else "discussed"
                if item_status == "deferred":
                    deferred.append((item_id, kind, item_title, i))
                added = created + rng.uniform(0, 5 * DAY)
                case_id = case_ids[i] if i is not None else None
                handoff_id = handoff_ids[handoff["n"]] if handoff else None
                handoff_label = (f"{plan.references[i]} · {handoff['kind']} · {handoff['from']} → {handoff['to']}"
                                 if handoff else "")
                items.row(item_id, meeting_id, position, kind, item_title, "", minutes, case_id,
                          plan.references[i] if i is not None else "", handoff_id, handoff_label,
                          action[0] if action else None, action[1] if action else "", item_status, carried,
                          ts(added), ts(ends if held else added))
                if item_status != "discussed":
                    continue
                outcome, text_ = DECISION_TEXTS[kind]
                decision_id = None
                if kind != "discussion" or rng.random() < 0.5:
                    decision_id = random_uuid(bits)
                    voted = outcome == "adopted"
                    decisions.row(decision_id, item_id, text_, outcome, "in_favour" if voted else "",
                                  "in_favour" if voted else "", "", secretary, ts(starts + position * 10 * 60))
                    version += 1
                if kind in ("case_review", "decision") and decision_id:
                    owner = plan.final_owner[i] if i is not None else rng.choice(list(codes))
                    due = starts + rng.uniform(7, 30) * DAY
                    done_at = cancelled_at = None
                    roll = rng.random()
                    if due < anchor - 10 * DAY and roll < 0.85:
                        done_at = min(due - rng.uniform(0, 6) * DAY, anchor - HOUR)
                    elif due < anchor - 10 * DAY and roll < 0.9:
                        cancelled_at = min(due, anchor - HOUR)
                    action_status = "done" if done_at else "cancelled" if cancelled_at else "open"
                    action_id = random_uuid(bits)
                    action_title = (f"Informe sobre el caso {plan.references[i]}" if i is not None
                                    else "Designar los puntos focales de cada agencia para las derivaciones")
                    updated = done_at or cancelled_at or ends
                    actions.row(action_id, action_title, "", codes[owner], None, ts(due), action_status,
                                ts(done_at) if done_at else None, secretary if done_at else None,
                                "Informe remitido al Comité." if done_at else "",
                                ts(cancelled_at) if cancelled_at else None,
                                "Ya no es necesario." if cancelled_at else "", meeting_id, item_id, decision_id,
                                case_id, 2 if action_status != "open" else 1, secretary, ts(ends), ts(updated))
                    if action_status != "cancelled":
                        follow_up.append((due, action_id, action_title, done_at))
            presences = []
            for _member in members:
                if held:
                    presences.append(pick_attendance())
                elif upcoming:
                    presences.append("confirmed" if rng.random() < 0.6 else "invited")
                else:
                    presences.append("invited")
            if held:  # a session is held only with the quorum: a voting delegate of each country present
                for delegation in ("PE", "CL"):
                    voters = [k for k, m in enumerate(members)
                              if m["delegation"] == delegation and m["role"] in ("chair", "member")]
                    if all(presences[k] != "present" for k in voters):
                        presences[voters[0]] = "present"
            for member, presence in zip(members, presences, strict=True):
                attendance.row(meeting_id, member["id"], member["delegation"], presence,
                               member["role"] in ("chair", "member"))
            meetings.row(
                meeting_id, committee_id, title, ts(starts), ts(ends), zone, mode,
                place if mode != "online" else "",
                f"https://reuniones.comite-binacional.example.org/sesion-{number}" if mode != "in_person" else "",
                status, 1 if cancelled else 0, ts(created + DAY) if cancelled else None,
                "Falta de quórum confirmado." if cancelled else "",
                minutes_text(number, place if mode != "online" else "") if held else "", minutes_status,
                ts(circulated) if circulated else None,
                ts(approved) if approved else None, secretary if approved else None, version, secretary, ts(created),
                ts(approved or circulated or created))
        counts["meetings"] = meetings.close()
        counts["agenda_items"] = items.close()
        counts["decisions"] = decisions.close()
        counts["action_items"] = actions.close()
        counts["attendance"] = attendance.close()
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT coalesce(max(id), 0) + 1 FROM "
                       "committee_membership), false)", ["committee_membership"])
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT coalesce(max(id), 0) + 1 FROM "
                       "committee_attendance), false)", ["committee_attendance"])
    conn.commit()
    return counts


def minutes_text(number: int, place: str) -> str:
    where = f"En {place}" if place else "En sesión en línea"
    return (f"{where}, se reúne la Sesión {number} del Comité Binacional con la presencia de las delegaciones del "
            "Perú y de Chile. Se constata el quórum.\n\n1. Se aprueba el acta de la sesión anterior.\n"
            "2. Las agencias informan sobre la situación en el complejo fronterizo Chacalluta–Santa Rosa.\n"
            "3. Se revisan los casos y derivaciones de la agenda; los acuerdos constan en cada punto.")


def number_events(cursor) -> None:
    """Feed positions for the loaded events: they were all committed long ago,
    so the sequencer would have numbered them in id order, which is time order."""
    cursor.execute("UPDATE cases_event SET position = id")


def check_committee(conn, plan: Plan) -> None:
    """What the committee's services keep that no constraint states."""
    gaps = conn.execute(
        "SELECT count(*) FROM (SELECT meeting_id FROM committee_agendaitem GROUP BY meeting_id "
        "HAVING max(position) <> count(*)) AS gapped").fetchone()[0]
    assert gaps == 0, f"{gaps} agendas with gaps in their positions"
    undecided = conn.execute(
        "SELECT count(*) FROM committee_agendaitem i JOIN committee_meeting m ON m.id = i.meeting_id "
        "WHERE m.status = 'held' AND i.status = 'discussed' AND i.kind IN ('decision', 'case_review', "
        "'minutes_approval') AND NOT EXISTS (SELECT 1 FROM committee_decision d WHERE d.agenda_item_id = i.id)"
    ).fetchone()[0]
    assert undecided == 0, f"{undecided} discussed items of held meetings without a decision"
    early = conn.execute(
        "SELECT count(*) FROM committee_decision d JOIN committee_agendaitem i ON i.id = d.agenda_item_id "
        "JOIN committee_meeting m ON m.id = i.meeting_id WHERE m.status <> 'held'").fetchone()[0]
    assert early == 0, f"{early} decisions on meetings not held"
    wrong_delegation = conn.execute(
        "SELECT count(*) FROM committee_attendance a JOIN committee_meeting m ON m.id = a.meeting_id "
        "JOIN committee_membership s ON s.committee_id = m.committee_id AND s.user_id = a.user_id "
        "WHERE s.delegation <> a.delegation OR a.counts_for_quorum <> (s.role IN ('chair', 'member'))"
    ).fetchone()[0]
    assert wrong_delegation == 0, f"{wrong_delegation} attendance rows disagreeing with the membership"
    unknown = conn.execute(
        "SELECT count(*) FROM committee_attendance a WHERE NOT EXISTS (SELECT 1 FROM committee_membership s "
        "JOIN committee_meeting m ON m.committee_id = s.committee_id WHERE m.id = a.meeting_id "
        "AND s.user_id = a.user_id)").fetchone()[0]
    assert unknown == 0, f"{unknown} attendance rows of non-members"
    future_cases = conn.execute(
        "SELECT count(*) FROM committee_agendaitem i JOIN cases_case c ON c.id = i.case_id "
        "JOIN committee_meeting m ON m.id = i.meeting_id WHERE c.created_at > m.starts_at "
        "OR c.reference <> i.case_label").fetchone()[0]
    assert future_cases == 0, f"{future_cases} agenda items about a case registered after the meeting or mislabelled"
    without_quorum = conn.execute(
        "SELECT count(*) FROM committee_meeting m CROSS JOIN (VALUES ('PE'), ('CL')) AS d (delegation) "
        "WHERE m.status = 'held' AND NOT EXISTS (SELECT 1 FROM committee_attendance a WHERE a.meeting_id = m.id "
        "AND a.delegation = d.delegation AND a.status = 'present' AND a.counts_for_quorum)").fetchone()[0]
    assert without_quorum == 0, f"{without_quorum} held meetings without a voting delegate of each country"
    unnumbered = conn.execute("SELECT count(*) FROM cases_event WHERE position IS NULL").fetchone()[0]
    assert unnumbered == 0, f"{unnumbered} events without a feed position"


# --- Schema: drop and rebuild indexes and constraints around the load ------------------------


def saved_schema(cursor) -> tuple[list, list]:
    """(constraints, indexes) touching the bulk tables, as (table, name, definition)."""
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype
        FROM pg_constraint c
        WHERE c.contype IN ('p', 'u', 'c', 'f')
          AND (c.conrelid::regclass::text = ANY(%(t)s) OR c.confrelid::regclass::text = ANY(%(t)s))
        """,
        {"t": BULK_TABLES},
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename = ANY(%(t)s)
          AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))
        """,
        {"t": BULK_TABLES},
    )
    return constraints, cursor.fetchall()


def drop_schema(cursor, constraints, indexes) -> None:
    for table, name, _definition, _kind in sorted(constraints, key=lambda c: c[3] != "f"):
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT IF EXISTS "{name}"')
    for _table, name, _definition in indexes:
        cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


def rebuild_schema(cursor, constraints, indexes) -> None:
    # Keys first (foreign keys need them), then plain indexes, then foreign keys.
    for table, name, definition, kind in constraints:
        if kind in ("p", "u", "c"):
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _table, _name, definition in indexes:
        cursor.execute(definition)
    for table, name, definition, kind in constraints:
        if kind == "f":
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


# --- Accounts, through the application's own code --------------------------------------------


def seed_accounts_and_tokens() -> dict:
    from api_core.services import token_issue
    from cases.demo.accounts import seed_accounts
    from cases.roles import Role
    from cases.services import user_upsert

    accounts = seed_accounts()
    agencies, tokens = {}, {}
    for code in AGENCY_WEIGHTS:
        agency = accounts.agencies[code]
        user, _created = user_upsert(username=f"bench.{code}", email=f"bench@{code}.example", agency_code=code,
                                     role=Role.CASEWORKER, language="es")
        _token, raw = token_issue(user=user, name="bench")
        agencies[code] = (agency.pk, agency.country, user.pk)
        tokens[code] = raw
    return {"agencies": agencies, "tokens": tokens}


# --- Main ------------------------------------------------------------------------------------------


def generate(*, cases: int, seed: int, anchor: datetime, database: str, profile: str = "standard") -> dict:
    common.check_name(database)
    started = time.monotonic()
    steps = {}

    def step(name, since):
        steps[name] = round(time.monotonic() - since, 1)
        print(f"  {name}: {steps[name]} s", flush=True)

    print(f"generating {database}: {cases} cases, seed {seed}, anchor {anchor.isoformat()}, profile {profile}",
          flush=True)
    t = time.monotonic()
    common.create_database(database)
    common.django_setup(database)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    accounts = seed_accounts_and_tokens()
    members = seed_committee_members()
    connection.close()
    step("schema and accounts", t)

    t = time.monotonic()
    plan = Plan(cases=cases, seed=seed, anchor=anchor, agencies=accounts["agencies"], profile=profile)
    build_plan(plan)
    step("plan", t)

    counts = {}
    import psycopg

    with psycopg.connect(common.database_url(database)) as conn:
        with conn.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '1GB'")
            cursor.execute("SET synchronous_commit = off")
            constraints, indexes = saved_schema(cursor)
            drop_schema(cursor, constraints, indexes)
            t = time.monotonic()
            # People first: the cases carry their members' search document.
            counts["people"], counts["members"] = write_people_and_members(cursor, plan)
            counts["cases"] = write_cases(cursor, plan)
            counts["consents"], counts["notes"] = write_consents_and_notes(cursor, plan)
            counts.update(write_handoffs_history_events(cursor, plan))
            number_events(cursor)
            step("copy", t)
            t = time.monotonic()
            for year, last in sorted(plan.counters.items()):
                cursor.execute("INSERT INTO cases_casereferencecounter (year, last_number) VALUES (%s, %s)",
                               [year, last])
            for table in ("cases_casemember", "cases_historyentry", "cases_event", "cases_event_agencies"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
            rebuild_schema(cursor, constraints, indexes)
            conn.commit()
            step("indexes and constraints", t)
        t = time.monotonic()
        counts.update(write_committee(conn, plan, members))
        step("committee", t)
        t = time.monotonic()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE)")
        step("vacuum analyze", t)
        t = time.monotonic()
        # What beat's first run of the statistics refresh does in a running installation.
        call_command("refresh_statistics", verbosity=0)
        connection.close()
        conn.execute("VACUUM (ANALYZE) figures_caserollup, figures_casenationalityrollup, figures_handoffrollup")
        step("statistics rollup", t)
        check_consistency(conn, plan)
        check_committee(conn, plan)

    elapsed = round(time.monotonic() - started, 1)
    manifest = {
        "database": database, "cases": cases, "seed": seed, "anchor": anchor.isoformat(), "profile": profile,
        "schema": common.schema_fingerprint(),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "seconds": elapsed, "steps": steps,
        "rows": counts, "tokens": accounts["tokens"],
        "agencies": {code: {"id": a[0], "country": a[1], "user": a[2]} for code, a in accounts["agencies"].items()},
        "committee_members": {m["username"]: m for m in members},
    }
    common.DATASETS_DIR.mkdir(parents=True, exist_ok=True)
    common.manifest_path(database).write_text(json.dumps(manifest, indent=2))
    print(f"generated {database} in {elapsed} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
    return manifest


def check_consistency(conn, plan: Plan) -> None:
    """The invariants the services keep that no database constraint states."""
    wrong = conn.execute(
        "SELECT count(*) FROM cases_case c WHERE member_count <> "
        "(SELECT count(*) FROM cases_casemember m WHERE m.case_id = c.id)").fetchone()[0]
    assert wrong == 0, f"{wrong} cases with a wrong member_count"
    rows = conn.execute(
        "SELECT split_part(reference, '-', 2)::int AS year, count(*), max(split_part(reference, '-', 3)::int) "
        "FROM cases_case GROUP BY 1 ORDER BY 1").fetchall()
    counters = dict(conn.execute("SELECT year, last_number FROM cases_casereferencecounter").fetchall())
    for year, count, highest in rows:
        assert count == highest == counters.get(year), f"references of {year} are not gapless or the counter is off"
    heads = conn.execute(
        "SELECT count(*) FROM cases_case c WHERE NOT EXISTS (SELECT 1 FROM cases_casemember m "
        "WHERE m.case_id = c.id AND m.relationship = 'head')").fetchone()[0]
    assert heads == 0, f"{heads} cases without a head of family"
    from cases.services.search import case_search_documents
    stored = dict(conn.execute("SELECT id, search_document FROM cases_case TABLESAMPLE SYSTEM (1) LIMIT 500"))
    rebuilt = case_search_documents(stored)
    wrong = [case_id for case_id, document in stored.items() if rebuilt[case_id] != document]
    assert not wrong, f"{len(wrong)} of {len(stored)} sampled cases with a search document the services would not write"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, required=True, help="10000, 100000 or 1000000 (any number works)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--anchor", type=date.fromisoformat, default=None,
                        help="the dataset's 'now' (a date, midnight UTC); default today")
    parser.add_argument("--database", default=None, help=f"default {common.DB_PREFIX}_<scale>")
    parser.add_argument("--profile", choices=["standard", "sweep"], default="standard")
    args = parser.parse_args(argv)
    anchor_day = args.anchor or datetime.now(UTC).date()
    anchor = datetime(anchor_day.year, anchor_day.month, anchor_day.day, tzinfo=UTC)
    suffix = common.scale_label(args.cases) + ("_sweep" if args.profile == "sweep" else "")
    database = args.database or f"{common.DB_PREFIX}_{suffix}"
    generate(cases=args.cases, seed=args.seed, anchor=anchor, database=database, profile=args.profile)


if __name__ == "__main__":
    main()
