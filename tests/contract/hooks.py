"""schemathesis hooks for ``make contract`` (loaded through SCHEMATHESIS_HOOKS).

The fuzzer generates one value for a header and may send it with many
different bodies. For ``Idempotency-Key`` that is exactly the mistake the
server must refuse (422 ``idempotency_key_reused``), so the fuzzer is made to
behave like a correct client instead: every request that carries a valid key
gets a key of its own, derived from everything the request says, so two
different requests never share a key and sending the very same request again
is a retry (answered with the stored response, as documented). Keys that
break the documented format are left alone, so the negative check (an
invalid key is a 400) still reaches the server.

The key is set when the case is generated (``map_case``), not when it is sent:
schemathesis re-examines a case edited just before sending and would take a
request meant to go without credentials for a valid one.

That the header is documented on every POST is checked by the test suite
(tests/api_core/test_contract_rules.py); that no fresh key is ever refused as
reused, by the check at the end of this module.
"""
import hashlib
import json

import schemathesis

HEADER = "idempotency-key"


def _key_parameter(operation):
    return next((parameter for parameter in operation.headers if parameter.name.lower() == HEADER), None)


def _fingerprint(case) -> str:
    request = [case.method, case.formatted_path, case.query, case.body, case.media_type,
               {name: value for name, value in (case.headers or {}).items() if name.lower() != HEADER}]
    encoded = json.dumps(request, sort_keys=True, default=repr).encode()
    return hashlib.sha256(encoded).hexdigest()[:40]


@schemathesis.hook
def map_case(context, case):
    name = next((name for name in case.headers or {} if name.lower() == HEADER), None)
    if name is None:
        return case
    parameter = _key_parameter(case.operation)
    if parameter is not None and parameter.is_valid(case.headers[name]):
        case.headers[name] = f"contract-{_fingerprint(case)}"
    return case


@schemathesis.check
def idempotency_keys_are_never_reused(ctx, response, case):
    """The server must never answer ``idempotency_key_reused`` to a request
    whose key this module chose: if it does, the key handling (or this
    harness) is broken, whatever the positive-data check accepts."""
    if response.status_code == 422 and b"idempotency_key_reused" in (response.content or b""):
        raise AssertionError("An Idempotency-Key of its own was refused as reused")
