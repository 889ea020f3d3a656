"""schemathesis hooks for ``make contract`` (loaded through SCHEMATHESIS_HOOKS).

The fuzzer generates one value for a header and may send it with many
different bodies. For ``Idempotency-Key`` that is exactly the mistake the
server must refuse (422 ``idempotency_key_reused``), so the fuzzer is made to
behave like a correct client instead: every request it sends is a new
operation and carries a key of its own. Keys that break the documented format
are left as generated, so the negative check (an invalid key is a 400) still
reaches the server.

Two hooks do it, because of how schemathesis treats a case edited just before
it is sent: it checks the edited parts again, and a request whose headers were
meant to be wrong (no Authorization) would pass for a valid one and go with
credentials. So:

- ``map_case``, when the case is generated, gives the key a value derived
  from everything else the request says: two different requests never share
  it. Requests with deliberately wrong headers keep this one.
- ``before_call`` replaces it with a random one for every other request, so
  that sending the very same request twice makes two operations, as a client
  does, not a retry answered from the first (which could name a resource
  deleted since).

A list's ``cursor`` is opaque: only a value the server handed out in a
``next`` or ``previous`` link of the same list is valid, and no generator can
make one (``api_core/pagination.py`` seals it), so every generated cursor is
rightly a 400 ``invalid_cursor``. ``map_case`` leaves it out of the requests
meant to be valid; the pages are followed with real cursors by the scenario,
and garbage cursors on every list are the test suite's
(tests/api_core/test_malformed_input.py). The feed's ``after`` is the same:
only a position the feed handed out to the caller is valid (one past the
caller's last event is a 400 ``invalid_cursor``), so it is left out too; the
scenario follows the feed from a stored cursor.

That the header is documented on every POST is checked by the test suite
(tests/api_core/test_contract_rules.py); that no key of ours is ever refused as
reused, by the check at the end of this module.
"""
import hashlib
import json
import uuid

import schemathesis
from schemathesis.core.parameters import ParameterLocation

HEADER = "idempotency-key"


def _key_name(case) -> str | None:
    """The name the case's headers use for a valid key, or None."""
    name = next((name for name in case.headers or {} if name.lower() == HEADER), None)
    if name is None:
        return None
    parameter = next((p for p in case.operation.headers if p.name.lower() == HEADER), None)
    return name if parameter is not None and parameter.is_valid(case.headers[name]) else None


def _fingerprint(case) -> str:
    request = [case.method, case.formatted_path, case.query, case.body, case.media_type,
               {name: value for name, value in (case.headers or {}).items() if name.lower() != HEADER}]
    encoded = json.dumps(request, sort_keys=True, default=repr).encode()
    return hashlib.sha256(encoded).hexdigest()[:40]


def _is_negative(case, location) -> bool:
    return case.meta is not None and case.meta.is_negative_at(location)


@schemathesis.hook
def map_case(context, case):
    if case.query and "cursor" in case.query and not _is_negative(case, ParameterLocation.QUERY):
        del case.query["cursor"]
    if case.query and "after" in case.query and case.operation.path.endswith("/events/") \
            and not _is_negative(case, ParameterLocation.QUERY):
        del case.query["after"]
    name = _key_name(case)
    if name is not None:
        case.headers[name] = f"contract-{_fingerprint(case)}"
    return case


@schemathesis.hook
def before_call(context, case, kwargs):
    if _is_negative(case, ParameterLocation.HEADER):
        return
    name = _key_name(case)
    if name is not None:
        case.headers[name] = f"contract-{uuid.uuid4()}"


@schemathesis.check
def idempotency_keys_are_never_reused(ctx, response, case):
    """The server must never answer ``idempotency_key_reused`` to a request
    whose key this module chose: if it does, the key handling (or this
    harness) is broken, whatever the positive-data check accepts."""
    if response.status_code == 422 and b"idempotency_key_reused" in (response.content or b""):
        raise AssertionError("An Idempotency-Key of its own was refused as reused")
