from django.conf import settings


def client_ip(request) -> str | None:
    """The caller's address: the peer's, or with ``TRUSTED_PROXY_COUNT`` proxies in
    front, the one the outermost trusted proxy saw (X-Forwarded-For entries
    further left are whatever the caller chose to send)."""
    proxies = settings.SIGNIN["TRUSTED_PROXY_COUNT"]
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None
