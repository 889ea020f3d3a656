"""RFC 9110 preconditions on the committee's resources: the ETag is the
object's version; ``If-Match`` lists the versions the client last saw."""


def expected_versions(request) -> frozenset[int] | None:
    """None when the client sent no ``If-Match`` (or ``*``); otherwise the
    versions it names (empty when none parses, which matches nothing: 412)."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for tag in header.split(","):
        tag = tag.strip()
        # If-Match uses the strong comparison: a weak tag never matches.
        if len(tag) > 2 and tag[0] == tag[-1] == '"' and tag[1:-1].isdigit():
            versions.add(int(tag[1:-1]))
    return frozenset(versions)


def with_etag(response, obj):
    response["ETag"] = obj.etag
    return response
