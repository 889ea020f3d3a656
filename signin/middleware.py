"""Session limits: a signed-in session ends after ``SIGNIN["IDLE_TIMEOUT"]``
without a request and ``SIGNIN["ABSOLUTE_TIMEOUT"]`` after its sign-in,
whatever happens in between. Times are kept in the session itself."""
import time

from django.conf import settings
from django.contrib.auth import logout

from .models import SignInEventKind
from .services import sign_in_event_record

STARTED_KEY = "signin_started_at"
SEEN_KEY = "signin_seen_at"
# Writing the session on every request costs a database write each; a minute
# of slack on a thirty-minute limit does not matter.
SEEN_RESOLUTION_SECONDS = 60


def session_limits_start(request) -> None:
    now = int(time.time())
    request.session[STARTED_KEY] = now
    request.session[SEEN_KEY] = now


def session_expired_reason(session, now: float) -> str | None:
    limits = settings.SIGNIN
    started, seen = session.get(STARTED_KEY), session.get(SEEN_KEY)
    if started is None or seen is None:
        return "unknown start"  # a session from before the limits existed: sign in again
    if now - started >= limits["ABSOLUTE_TIMEOUT"].total_seconds():
        return "absolute limit"
    if now - seen >= limits["IDLE_TIMEOUT"].total_seconds():
        return "inactivity"
    return None


class SessionLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # No cookie, no session to look at (bearer-token API calls): the session is
        # not even touched, so their responses do not vary on Cookie.
        if settings.SESSION_COOKIE_NAME in request.COOKIES and "_auth_user_id" in request.session:
            now = time.time()
            reason = session_expired_reason(request.session, now)
            if reason is not None:
                self._expire(request, reason)
            elif now - request.session[SEEN_KEY] >= SEEN_RESOLUTION_SECONDS:
                request.session[SEEN_KEY] = int(now)
        return self.get_response(request)

    @staticmethod
    def _expire(request, reason: str) -> None:
        user = request.user
        request.signin_expired = True
        if user.is_authenticated:
            sign_in_event_record(kind=SignInEventKind.SESSION_EXPIRED, request=request, user=user, detail=reason)
        logout(request)
