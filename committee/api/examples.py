"""Request examples for the committee API; each succeeds against the demo
(``manage.py seed_demo``), as tests/test_schema_examples.py checks."""
from drf_spectacular.utils import OpenApiExample

AGENDA_ITEM_ADD = OpenApiExample(
    "A discussion item",
    request_only=True,
    value={"kind": "discussion", "title": "Capacidad de los albergues de Tacna ante la llegada de familias",
           "notes": "Informe del Albergue Temporal para Migrantes de Tacna y de ACNUR.", "planned_minutes": 20},
)

ACTION_ITEM_COMPLETE = OpenApiExample(
    "Done, saying what was done",
    request_only=True,
    value={"note": "Canal habilitado: línea directa entre SERMIG Arica y Migraciones Tacna, atención 24 horas."},
)
