"""Where a session stands in the sign-in: password given, second factor passed."""
from django.utils.http import url_has_allowed_host_and_scheme


def second_factor_required(user) -> bool:
    """Anyone who can open the admin signs in with a second factor."""
    return user.is_active and user.is_staff


def session_verified(request) -> bool:
    """Whether this session passed a second factor (django-otp's middleware
    marks the user; a user just logged in by this request is not marked)."""
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def awaits_second_factor(request) -> bool:
    user = request.user
    return user.is_authenticated and second_factor_required(user) and not session_verified(request)


def safe_next(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return default
