"""schemathesis hooks for ``make contract`` (loaded through SCHEMATHESIS_HOOKS).

The fuzzer generates one value for a header and may send it with many
different bodies. For ``Idempotency-Key`` that is exactly the mistake the
server must refuse (422 ``idempotency_key_reused``), so the fuzzer is made to
behave like a correct client instead: every request that carries a valid key
gets a fresh one. Keys that break the documented format, and requests whose
headers are deliberately wrong, are left alone, so the negative checks (an
invalid key is a 400, no credentials a 401) still reach the server. That
the header is documented on every POST is checked by the test suite
(tests/api_core/test_contract_rules.py).
"""
import uuid

import schemathesis
from schemathesis.core.parameters import ParameterLocation

HEADER = "idempotency-key"


def _key_parameter(operation):
    return next((parameter for parameter in operation.headers if parameter.name.lower() == HEADER), None)


@schemathesis.hook
def before_call(context, case, kwargs):
    if not case.headers:
        return
    # A case whose headers are deliberately wrong (no Authorization, a malformed
    # key) is sent as generated: editing its headers would make schemathesis
    # re-classify it as a valid case and send the credentials it meant to leave
    # out. Such requests never reach the point where a key is stored.
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
        return
    name = next((name for name in case.headers if name.lower() == HEADER), None)
    if name is None:
        return
    parameter = _key_parameter(case.operation)
    if parameter is not None and parameter.is_valid(case.headers[name]):
        case.headers[name] = f"contract-{uuid.uuid4()}"


@schemathesis.check
def idempotency_keys_are_never_reused(ctx, response, case):
    """The hook above sends a fresh key with every request, so the server must
    never answer ``idempotency_key_reused``: if it does, the key handling (or
    this harness) is broken, whatever the positive-data check accepts."""
    if response.status_code == 422 and b"idempotency_key_reused" in (response.content or b""):
        raise AssertionError("A fresh Idempotency-Key was refused as reused")
