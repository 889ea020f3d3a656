from dataclasses import dataclass, field

from cases.models import Agency, User
from cases.roles import Role
from cases.services import agency_upsert, user_upsert
from signin.services import has_second_factor, totp_device_provision

from .credentials import DEMO_PASSWORD, DEMO_TOTP_SECRET

AGENCIES = [
    # code, name, country, kind, email, language
    ("pe-migraciones", "Superintendencia Nacional de Migraciones — Jefatura Zonal Tacna", "PE",
     "migration_authority", "tacna@migraciones.example.pe", "es"),
    ("pe-pnp-tacna", "Policía Nacional del Perú — División de Frontera Tacna", "PE", "police",
     "frontera.tacna@pnp.example.pe", "es"),
    ("pe-upe-tacna", "MIMP — Unidad de Protección Especial Tacna", "PE", "child_protection",
     "upe.tacna@mimp.example.pe", "es"),
    ("pe-defensoria-tacna", "Defensoría del Pueblo — Oficina Defensorial de Tacna", "PE", "ombudsman",
     "tacna@defensoria.example.pe", "es"),
    ("pe-albergue-tacna", "Albergue Temporal para Migrantes de Tacna", "PE", "shelter",
     "contacto@albergue-tacna.example.pe", "es"),
    ("cl-sermig", "Servicio Nacional de Migraciones — Dirección Regional Arica y Parinacota", "CL",
     "migration_authority", "arica@sermig.example.cl", "es"),
    ("cl-pdi-chacalluta", "Policía de Investigaciones — Complejo Fronterizo Chacalluta", "CL", "police",
     "chacalluta@pdi.example.cl", "es"),
    ("cl-mejor-ninez-arica", "Servicio de Protección Especializada a la Niñez — Arica", "CL",
     "child_protection", "arica@mejorninez.example.cl", "es"),
    ("cl-indh-arica", "Instituto Nacional de Derechos Humanos — Sede Arica", "CL", "ombudsman",
     "arica@indh.example.cl", "es"),
    ("int-acnur-tacna", "ACNUR — Oficina de Terreno Tacna", "INT", "international_organisation",
     "tacna@acnur.example.org", "es"),
    ("int-oim-arica", "OIM — Oficina de Terreno Arica", "INT", "international_organisation",
     "arica@oim.example.org", "en"),
]

USERS = [
    # username, email, agency, role, language
    ("secretaria", "secretaria@comite-binacional.example.org", None, Role.SECRETARIAT, "es"),
    ("pe.migraciones", "r.quispe@migraciones.example.pe", "pe-migraciones", Role.CASEWORKER, "es"),
    ("pe.upe", "l.mamani@mimp.example.pe", "pe-upe-tacna", Role.CASEWORKER, "es"),
    ("cl.sermig", "c.araya@sermig.example.cl", "cl-sermig", Role.CASEWORKER, "es"),
    ("cl.pdi", "j.soto@pdi.example.cl", "cl-pdi-chacalluta", Role.CASEWORKER, "es"),
    ("acnur.tacna", "m.fernandez@acnur.example.org", "int-acnur-tacna", Role.CASEWORKER, "es"),
    ("oim.arica", "s.walker@oim.example.org", "int-oim-arica", Role.CASEWORKER, "en"),
    ("delegado.pe", "delegado.pe@rree.example.pe", None, Role.COMMITTEE_MEMBER, "es"),
    ("delegada.cl", "delegada.cl@minrel.example.cl", None, Role.COMMITTEE_MEMBER, "es"),
]


@dataclass
class DemoAccounts:
    agencies: dict[str, Agency] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    password: str = DEMO_PASSWORD
    totp_secret: str = DEMO_TOTP_SECRET


def seed_accounts() -> DemoAccounts:
    accounts = DemoAccounts()
    for code, name, country, kind, email, language in AGENCIES:
        accounts.agencies[code], _ = agency_upsert(
            code=code, name=name, country=country, kind=kind, contact_email=email, language=language)
    for username, email, agency, role, language in USERS:
        time_zone = "America/Santiago" if username.startswith(("cl.", "delegada.cl", "oim.")) else None
        existing = User.objects.filter(username=username).first()
        needs_password = existing is None or not existing.has_usable_password()
        user, _created = user_upsert(username=username, email=email, agency_code=agency, role=role,
                                     language=language, time_zone=time_zone,
                                     password=DEMO_PASSWORD if needs_password else None)
        if user.is_staff and not has_second_factor(user):
            totp_device_provision(user=user, secret=DEMO_TOTP_SECRET)
        accounts.users[username] = user
    return accounts
