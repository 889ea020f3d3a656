"""Request examples for the cases and handoffs API. Each one succeeds against the
demo (``manage.py seed_demo``) as a caseworker of pe-migraciones, once the ids
in it name objects of that caller (tests/test_schema_examples.py sends every
example to the API)."""
from drf_spectacular.utils import OpenApiExample

# Ids in examples stand for objects of the caller's; the documentation says whose.
EXAMPLE_CASE_ID = "0b9d7f1e-5c3a-4e8b-9f21-6a4d2c8e7b10"
EXAMPLE_PERSON_ID = "5e8a1c3d-2f4b-4a6e-8d9c-1b7f3e5a2c40"

CASE_CREATE = OpenApiExample(
    "A family stranded at Santa Rosa",
    request_only=True,
    value={
        "summary": ("Familia venezolana de tres personas varada en el lado peruano del paso Santa Rosa. "
                    "Piden continuar hacia Lima, donde vive una tía."),
        "priority": "high",
        "vulnerabilities": ["family_with_children"],
        "border_point": "chacalluta_santa_rosa",
        "members": [
            {"relationship": "head", "given_names": "Andreína", "family_names": "Colmenares Rivas",
             "sex": "female", "date_of_birth": "1992-05-17", "nationality": "VE", "document_type": "passport",
             "document_country": "VE", "document_number": "149382716", "phone": "+51 952 334 810",
             "languages": ["es"]},
            {"relationship": "child", "given_names": "Samuel", "family_names": "Colmenares", "sex": "male",
             "date_of_birth": "2018-09-03", "nationality": "VE", "document_type": "birth_certificate",
             "document_country": "VE", "document_number": "2291-2018"},
            {"relationship": "child", "given_names": "Valentina", "family_names": "Colmenares", "sex": "female",
             "date_of_birth": "2022-01-01", "date_of_birth_is_estimate": True, "nationality": "CL",
             "document_type": "none"},
        ],
    },
)

MEMBER_ADD = OpenApiExample(
    "A new person",
    request_only=True,
    value={"relationship": "spouse", "given_names": "Rafael Antonio", "family_names": "Colmenares Díaz",
           "sex": "male", "date_of_birth": "1989-10-02", "nationality": "VE", "document_type": "national_id",
           "document_country": "VE", "document_number": "V-18.440.917"},
)

NOTE_ADD = OpenApiExample(
    "A note for every agency with access",
    request_only=True,
    value={"body": "Se coordinó con el albergue temporal de Tacna una plaza para la familia esta noche.",
           "visibility": "shared"},
)

CONSENT_RECORD = OpenApiExample(
    "Written consent to share across the border",
    description="`given_by` is the id of a member of the case (`GET /cases/{case_id}/members/`).",
    request_only=True,
    value={"scope": "share_cross_border", "method": "written", "given_at": "2026-11-28T10:30:00-05:00",
           "given_by": EXAMPLE_PERSON_ID},
)

HANDOFF_CREATE = OpenApiExample(
    "A transfer from Peru to Chile, with the family's consent",
    description="`case` is the id of an open case your agency owns, with an active `share_cross_border` consent.",
    request_only=True,
    value={"case": EXAMPLE_CASE_ID, "to_agency": "cl-sermig", "kind": "transfer",
           "reason": "La familia tiene un trámite de residencia temporal en curso en Arica y pide continuarlo en "
                     "Chile.",
           "legal_basis": "consent"},
)

HANDOFF_ACCEPT = OpenApiExample(
    "Accept with a note",
    request_only=True,
    value={"note": "Recibimos el caso; la familia se presentará en la Jefatura Zonal de Tacna."},
)

HANDOFF_REJECT = OpenApiExample(
    "Reject: outside the agency's mandate",
    request_only=True,
    value={"reason": "out_of_mandate", "note": "La consulta de registros debe hacerse por el canal consular."},
)
