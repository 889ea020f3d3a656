"""The orjson renderer writes exactly what DRF's JSONRenderer writes."""
import datetime
import decimal
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy, override
from rest_framework import renderers

from api_core.renderers import JSONRenderer

LIMA = ZoneInfo("America/Lima")

PAYLOADS = [
    {"ok": True},
    [],
    {"items": [], "next": None, "count": 0},
    {"name": "José Pérez Ñuñez", "emoji": "🇵🇪🇨🇱", "quote": 'a "b" \\ c\n\t', "control": "\x00\x1f"},
    {"separators": "line\u2028paragraph\u2029end"},
    {"at": datetime.datetime(2026, 12, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC),
     "lima": datetime.datetime(2026, 12, 2, 3, 4, 5, tzinfo=LIMA), "naive": datetime.datetime(2026, 1, 1, 0, 0),
     "day": datetime.date(2026, 2, 28), "time": datetime.time(10, 11, 12, 987654),
     "span": datetime.timedelta(hours=49)},
    {"amount": decimal.Decimal("12.50"), "id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    {"float": 0.1 + 0.2, "big": 1e20, "small": -1.5e-7, "int": -(2**63), "huge": 2**70},
    {1: "one", "nested": {"deep": [[{"x": [1, 2, {"y": None}]}]]}},
    {"lazy": gettext_lazy("Invalid token."), "tuple": (1, "two"), "set_like": frozenset()},
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_same_bytes_as_drf(payload):
    with override("es"):
        assert JSONRenderer().render(payload) == renderers.JSONRenderer().render(payload)


def test_indented_answers_are_drf_s():
    payload = {"a": [1, {"b": "c"}]}
    media_type = "application/json; indent=2"
    rendered = JSONRenderer().render(payload, media_type, {})
    assert rendered == renderers.JSONRenderer().render(payload, media_type, {})
    assert b"\n  " in rendered


def test_nothing_renders_as_nothing():
    assert JSONRenderer().render(None) == b""


def test_what_drf_refuses_is_refused(db):
    with pytest.raises(TypeError):
        JSONRenderer().render({"unknown": object()})


def test_the_api_answers_with_it(client_for, pe_caseworker):
    response = client_for(pe_caseworker).get("/api/v1/ping/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert isinstance(response.accepted_renderer, JSONRenderer)
    assert response.content == b'{"ok":true}'
    assert response["Content-Type"] == "application/json"
