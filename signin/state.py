"""Where a session stands in the sign-in: password given, second factor passed."""
import time

from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme

# When this session last gave the password (set at each sign-in, signin.receivers).
PASSWORD_AT_KEY = "signin_password_at"


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


def password_step_recent(request) -> bool:
    """Whether the password was given within ``SIGNIN["ENROLMENT_WINDOW"]``: a
    new factor is enrolled only so soon after it, so an older session left
    open (or taken) cannot add one."""
    given = request.session.get(PASSWORD_AT_KEY)
    window = settings.SIGNIN["ENROLMENT_WINDOW"].total_seconds()
    return given is not None and time.time() - given < window


def passkeys_enabled() -> bool:
    """Passkeys work only where the server is reached at a secure origin (config/settings/base.py)."""
    return bool(settings.OTP_WEBAUTHN_ALLOWED_ORIGINS)
