"""Sign-in signals → sign-in events."""
import time

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .middleware import session_limits_start
from .models import SignInEventKind
from .services import sign_in_event_record
from .state import PASSWORD_AT_KEY


def _refused_by_lockout(request) -> bool:
    """Whether axes refused the attempt for a lockout already in force (its
    backend flags the request and its failure handler then records nothing),
    as opposed to a failure that it counted, which may start a lockout."""
    counted = getattr(request, "axes_failures_since_start", None) is not None
    return bool(getattr(request, "axes_locked_out", False)) and not counted


def _user_named(username: str):
    return get_user_model()._default_manager.filter(**{get_user_model().USERNAME_FIELD: username}).first()


@receiver(user_login_failed, dispatch_uid="signin_failed")
def record_failure(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username") or ""
    if _refused_by_lockout(request):
        kind = SignInEventKind.REFUSED_LOCKED_OUT
    elif getattr(request, "signin_refused_not_staff", False):
        kind = SignInEventKind.REFUSED_NOT_STAFF
    else:
        kind = SignInEventKind.PASSWORD_FAILED
    sign_in_event_record(kind=kind, request=request, user=_user_named(username), username=username)


@receiver(user_locked_out, dispatch_uid="signin_locked_out")
def record_lockout(sender, request, username, ip_address, **kwargs):
    # Axes signals again for every attempt refused during the lockout; those are recorded above.
    if _refused_by_lockout(request):
        return
    sign_in_event_record(kind=SignInEventKind.LOCKED_OUT, request=request, user=_user_named(username or ""),
                         username=username or "")


@receiver(user_logged_in, dispatch_uid="signin_logged_in")
def record_password_accepted(sender, request, user, **kwargs):
    if request is None:
        return
    session_limits_start(request)
    request.session[PASSWORD_AT_KEY] = int(time.time())
    sign_in_event_record(kind=SignInEventKind.PASSWORD_ACCEPTED, request=request, user=user)


@receiver(user_logged_out, dispatch_uid="signin_logged_out")
def record_sign_out(sender, request, user, **kwargs):
    if user is not None and not getattr(request, "signin_expired", False):
        sign_in_event_record(kind=SignInEventKind.SIGNED_OUT, request=request, user=user)
