"""JSON answers written by orjson, byte for byte what DRF's ``JSONRenderer`` writes.

DRF encodes with the standard library's ``json``: on a page of 50 cases that
was 5 % of the worker's time (docs/performance.md); orjson does it several
times faster. What orjson would write differently is handed to DRF's own
encoder (``default``): dates and times (DRF writes ``Z`` for UTC and cuts a
time's microseconds), decimals, lazy translations, querysets and the rest;
and what orjson refuses — an integer beyond 64 bits, a NaN, which DRF's strict
mode refuses too — or an indented answer (``; indent=``) goes to DRF's
renderer unchanged, so every answer is what it was.
"""
import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
_ENCODER = JSONEncoder()
# DRF escapes these two, valid in JSON but not in JavaScript source.
_LINE_SEPARATORS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None or self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            rendered = orjson.dumps(data, default=_ENCODER.default, option=_OPTIONS)
        except (orjson.JSONEncodeError, TypeError, ValueError):
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80" in rendered:
            for raw, escaped in _LINE_SEPARATORS:
                rendered = rendered.replace(raw, escaped)
        return rendered
