"""One check, shared by every test that must prove a body carries no personal
data of a case's members: neither the keys nor the values."""
import json

# Keys that only a full view may carry.
PERSONAL_KEYS = {"members", "given_names", "family_names", "date_of_birth", "document_number", "phone", "summary",
                 "notes", "body", "closure_note", "person", "assigned_to"}
PERSON_FIELDS = ("given_names", "family_names", "document_number", "phone", "date_of_birth")


def personal_values(case) -> set[str]:
    """Everything that would identify a member of ``case``, as strings."""
    values = {case.summary}
    for person in case.members.all():
        for field in PERSON_FIELDS:
            value = getattr(person, field)
            if value:
                values.add(value.isoformat() if hasattr(value, "isoformat") else str(value))
    return {value for value in values if value}


def _walk(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)
    else:
        yield value


def assert_no_personal_data(body, case):
    """``body``: parsed JSON, or a response whose JSON is checked."""
    if hasattr(body, "content"):
        body = json.loads(body.content)
    found = set(_walk(body))
    assert not (found & PERSONAL_KEYS), found & PERSONAL_KEYS
    text = json.dumps(body, ensure_ascii=False)
    for value in personal_values(case):
        assert value not in text, f"personal data {value!r} in the body"
