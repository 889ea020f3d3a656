"""Open cases at the Chacalluta–Santa Rosa crossing, late 2025: mostly
Venezuelan families who left Chile before the runoff and were stranded between
the two border posts. Created through the services, as an agency would over
the API; a case whose summary already exists is not created again."""
import datetime

from django.utils import timezone

from cases.models import Case
from cases.services.casework import case_create, consent_record, note_add


def _person(relationship, given_names, family_names, sex, born, nationality="VE", document_type="none",
            document_number="", document_country=None, phone="", estimate=False):
    return {
        "relationship": relationship, "given_names": given_names, "family_names": family_names, "sex": sex,
        "date_of_birth": datetime.date.fromisoformat(born) if born else None,
        "date_of_birth_is_estimate": estimate, "nationality": nationality, "document_type": document_type,
        "document_country": (document_country or nationality) if document_type != "none" else "",
        "document_number": document_number, "phone": phone,
    }


CASES = [
    {
        "name": "familia_rodriguez_mendoza",
        "actor": "cl.sermig",
        "summary": ("Familia venezolana de cuatro personas que salió de Santiago por temor a una expulsión. "
                    "No pudo ingresar por Santa Rosa y pasó dos noches junto a la carretera en el lado chileno "
                    "del complejo Chacalluta. Piden continuar hacia Lima, donde vive un hermano."),
        "priority": "high",
        "vulnerabilities": ["family_with_children"],
        "border_point": "chacalluta_santa_rosa",
        "members": [
            _person("head", "Yusmary Carolina", "Rodríguez Pérez", "female", "1991-04-12", document_type="passport",
                    document_number="158734920", phone="+56 9 6123 4410"),
            _person("spouse", "José Gregorio", "Mendoza Ruiz", "male", "1988-11-02", document_type="national_id",
                    document_number="V-19.874.552"),
            _person("child", "Sofía Valentina", "Mendoza Rodríguez", "female", "2016-06-21",
                    document_type="birth_certificate", document_number="1432-2016"),
            _person("child", "Santiago José", "Mendoza Rodríguez", "male", "2020-01-30", nationality="CL",
                    document_type="birth_certificate", document_number="CL-2020-88412"),
        ],
        "consent": {"scope": "share_cross_border", "method": "verbal"},
        "note": ("Entrevista en el control de Chacalluta con intérprete no requerido. La niña mayor tiene asma; "
                 "se entregó inhalador.", "shared"),
    },
    {
        "name": "menor_no_acompanado",
        "actor": "pe.upe",
        "summary": ("Adolescente de unos 16 años encontrado solo cerca del paso Santa Rosa por la PNP. Dice que su "
                    "madre trabaja en Arica y que cruzó con un grupo que lo dejó atrás. Sin documentos."),
        "priority": "urgent",
        "vulnerabilities": ["unaccompanied_minor"],
        "border_point": "chacalluta_santa_rosa",
        "members": [
            _person("head", "Luis Ángel", "Castillo", "male", "2009-07-01", estimate=True),
        ],
        "note": ("Acogido provisionalmente en el albergue de la UPE Tacna. Se intenta ubicar a la madre por "
                 "teléfono.", "agency"),
    },
    {
        "name": "solicitante_asilo",
        "actor": "acnur.tacna",
        "summary": ("Periodista venezolano que pide protección internacional en el Perú; fue amenazado por su "
                    "trabajo y teme ser devuelto a Venezuela si Chile lo expulsa."),
        "priority": "high",
        "vulnerabilities": ["asylum_seeker"],
        "border_point": "tacna_city",
        "members": [
            _person("head", "Carlos Eduardo", "Hernández Salas", "male", "1984-03-15", document_type="passport",
                    document_number="112093847", phone="+51 952 118 734"),
        ],
        "consent": {"scope": "share_committee", "method": "written"},
    },
    {
        "name": "embarazada",
        "actor": "pe.migraciones",
        "summary": ("Mujer con embarazo de 32 semanas y su hijo de dos años, varados en el lado peruano del paso "
                    "Santa Rosa. Sin control prenatal desde hace dos meses."),
        "priority": "urgent",
        "vulnerabilities": ["pregnancy", "medical_need", "family_with_children"],
        "border_point": "chacalluta_santa_rosa",
        "members": [
            _person("head", "Daniela Alejandra", "Mendoza Briceño", "female", "1998-09-09",
                    document_type="national_id", document_number="V-27.115.093", phone="+51 987 220 415"),
            _person("child", "Thiago", "Mendoza", "male", "2023-05-14", nationality="CL",
                    document_type="birth_certificate", document_number="CL-2023-10377"),
        ],
        "consent": {"scope": "share_cross_border", "method": "written"},
        "note": ("Derivada al Hospital Hipólito Unanue de Tacna para control prenatal.", "shared"),
    },
    {
        "name": "familia_gonzalez",
        "actor": "pe.migraciones",
        "summary": ("Madre, hija y abuela de 71 años con hipertensión. Llegaron a pie desde Arica; piden seguir "
                    "hacia Lima y preguntan por el procedimiento de regularización."),
        "priority": "normal",
        "vulnerabilities": ["elderly", "family_with_children", "medical_need"],
        "border_point": "chacalluta_santa_rosa",
        "members": [
            _person("head", "María José", "González Pérez", "female", "1985-02-27", document_type="passport",
                    document_number="094418273"),
            _person("other_relative", "Carmen Elena", "Pérez de González", "female", "1954-10-08",
                    document_type="national_id", document_number="V-4.556.201"),
            _person("child", "Valeria", "González", "female", "2014-12-03", document_type="birth_certificate",
                    document_number="3318-2014"),
        ],
    },
    {
        "name": "familia_pierre",
        "actor": "cl.pdi",
        "summary": ("Familia haitiana con una bebé nacida en Arica; su permiso de residencia en Chile venció. "
                    "Quieren ir al Perú, donde viven familiares en Tacna."),
        "priority": "high",
        "vulnerabilities": ["family_with_children"],
        "border_point": "chacalluta_santa_rosa",
        "members": [
            _person("head", "Jean-Baptiste", "Pierre", "male", "1990-08-19", nationality="HT",
                    document_type="passport", document_number="HT4471920"),
            _person("spouse", "Marie-Claude", "Joseph", "female", "1993-01-05", nationality="HT",
                    document_type="passport", document_number="HT5583014"),
            _person("child", "Widlyne", "Pierre Joseph", "female", "2024-11-22", nationality="CL",
                    document_type="birth_certificate", document_number="CL-2024-55190"),
        ],
    },
    {
        "name": "riesgo_trata",
        "actor": "cl.sermig",
        "summary": ("Mujer joven que relata haber sido captada en Tacna con una oferta de empleo en Santiago; le "
                    "retuvieron el documento. Posible riesgo de trata."),
        "priority": "urgent",
        "vulnerabilities": ["trafficking_risk", "gbv_risk"],
        "border_point": "arica_city",
        "members": [
            _person("head", "Yorgelis Andreína", "Salazar", "female", "2003-06-30"),
        ],
    },
]


def seed_cases(accounts) -> dict:
    """Open cases at the Chacalluta–Santa Rosa crossing, keyed by a short name."""
    cases = {}
    for spec in CASES:
        existing = Case.objects.filter(summary=spec["summary"]).first()
        if existing is not None:
            cases[spec["name"]] = existing
            continue
        actor = accounts.users[spec["actor"]]
        case = case_create(actor=actor, summary=spec["summary"], priority=spec["priority"],
                           vulnerabilities=spec["vulnerabilities"], border_point=spec["border_point"],
                           members=spec["members"])
        if "consent" in spec:
            head = case.created_memberships[0].person
            consent_record(actor=actor, case_id=case.pk, given_at=timezone.now(), given_by=head.pk,
                           **spec["consent"])
        if "note" in spec:
            body, visibility = spec["note"]
            note_add(actor=actor, case_id=case.pk, body=body, visibility=visibility)
        case.refresh_from_db()
        cases[spec["name"]] = case
    return cases
