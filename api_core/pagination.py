"""Keyset pagination with sealed cursors.

DRF's cursor is the base64 of ``o=…&r=…&p=<sort value of the last row>``:
anyone can read the exact ``created_at`` or ``updated_at`` of a row they see
only in the limited view, and anyone can write a position the database then
fails to compare (a 500). Here the cursor is the same triple, plus the list
it belongs to, encrypted and authenticated (Fernet, a key derived from
``SECRET_KEY``): it reveals nothing, and a cursor the server did not make for
this list and ordering is a 400 ``invalid_cursor``. A list read with
``updated_since`` sends the pass's watermark on every page (``api_core.sync``):
taken before the first page is read, then carried by the cursors."""
import base64
import hashlib
import json
import re
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination
from rest_framework.utils.urls import replace_query_param

from . import sync

_TOKEN = re.compile(r"[A-Za-z0-9_-]+={0,2}")


@cache
def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"puente.pagination.cursor\n" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class InvalidCursor(exceptions.ValidationError):
    def __init__(self):
        super().__init__({"cursor": [_("This cursor was not made for this list. Start again from the first page.")]},
                         code="invalid_cursor")


class CursorPagination(pagination.CursorPagination):
    """Keyset pagination: stable under concurrent inserts and as fast on page
    10,000 as on page 1. Views set ``ordering`` to a unique-ending key."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-pk")
    sync_watermark = None

    def get_page_size(self, request):
        # DRF falls back to the default on a bad value; a client should hear about its mistake.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            raise exceptions.ValidationError({self.page_size_query_param: [_("A positive whole number is required.")]})
        return super().get_page_size(request)

    def _binding(self) -> list:
        """What a cursor is valid for: this path and this ordering."""
        return [self.request.path, list(self.ordering)]

    def encode_cursor(self, cursor):
        payload = {"o": cursor.offset, "r": cursor.reverse, "p": cursor.position, "b": self._binding()}
        if self.sync_watermark is not None:
            payload["w"] = self.sync_watermark.isoformat()
        sealed = _fernet(settings.SECRET_KEY).encrypt(json.dumps(payload, separators=(",", ":")).encode())
        return replace_query_param(self.base_url, self.cursor_query_param, sealed.decode("ascii"))

    def decode_cursor(self, request):
        # DRF decodes the cursor before it reads the page: the watermark is taken here.
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            self.sync_watermark = sync.pass_watermark(request, carried=None, first_page=True)
            return None
        try:
            if not (len(encoded) % 4 == 0 and _TOKEN.fullmatch(encoded)):
                raise ValueError("not a token of ours")  # base64 would ignore what follows the padding
            payload = json.loads(_fernet(settings.SECRET_KEY).decrypt(encoded.encode("utf-8")))
            offset, reverse, position = payload["o"], payload["r"], payload["p"]
            valid = (payload["b"] == self._binding() and isinstance(offset, int) and offset >= 0
                     and isinstance(reverse, bool) and (position is None or isinstance(position, str)))
            self.sync_watermark = sync.pass_watermark(request, carried=payload.get("w"), first_page=False)
        except (InvalidToken, ValueError, TypeError, KeyError):
            valid = False
        if not valid:
            raise InvalidCursor()
        return pagination.Cursor(offset=min(offset, self.offset_cutoff), reverse=reverse, position=position)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        if self.sync_watermark is not None:
            response[sync.WATERMARK_HEADER] = sync.format_watermark(self.sync_watermark)
        return response

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.cursor_query_param:
                parameter["description"] = ("An opaque value from the `next` or `previous` link of this list, with "
                                            "the same ordering; anything else is 400 `invalid_cursor`.")
        return parameters
