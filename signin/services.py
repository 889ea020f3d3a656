"""Every write of staff sign-in: events, second factors, recovery codes,
lockouts. Functions take keyword-only arguments."""
import base64
import binascii

import django_otp
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from api_core.errors import InvalidInput

from .models import SignInEvent, SignInEventKind
from .network import client_ip
from .state import session_verified

RECOVERY_DEVICE_NAME = "recovery"
# The authenticator-app device this session is setting up (signin.views.enrol).
ENROLMENT_DEVICE_KEY = "signin_enrolment_device"


def sign_in_event_record(*, kind: str, request=None, user=None, username: str = "", actor=None,
                         detail: str = "") -> SignInEvent:
    return SignInEvent.objects.create(
        kind=kind, user=user, username=username or (user.get_username() if user else ""),
        ip_address=client_ip(request) if request is not None else None, actor=actor, detail=detail,
    )


def has_second_factor(user) -> bool:
    return any(True for _device in devices_for_user(user, confirmed=True))


def second_factor_mark_verified(*, request, device, detail: str) -> None:
    """The session passed its second factor with ``device``."""
    django_otp.login(request, device)
    sign_in_event_record(kind=SignInEventKind.SIGNED_IN, request=request, user=request.user, detail=detail)


@transaction.atomic
def second_factor_verify(*, request, code: str) -> bool:
    """Checks a TOTP code (six digits) or a recovery code (used up on success)
    for the signed-in user; marks the session verified when it matches."""
    user = request.user
    code = "".join(code.split()).lower()
    model = TOTPDevice if (code.isdigit() and len(code) == 6) else StaticDevice
    # Locked so that two requests with one code cannot both pass (throttling and
    # TOTP replay counters are read and written in the device row).
    candidates = model.objects.devices_for_user(user, confirmed=True).select_for_update() if code else []
    device = next((candidate for candidate in candidates if candidate.verify_token(code)), None)
    if device is None:
        sign_in_event_record(kind=SignInEventKind.SECOND_FACTOR_FAILED, request=request, user=user)
        return False
    second_factor_mark_verified(request=request, device=device, detail=_device_kind(device))
    return True


def _device_kind(device) -> str:
    if isinstance(device, StaticDevice):
        return "recovery code"
    if isinstance(device, WebAuthnCredential):
        return "passkey"
    return "totp"


@transaction.atomic
def totp_device_start(*, request) -> TOTPDevice:
    """A new authenticator-app device, with a key of its own, for this enrolment
    attempt; this session alone may confirm it. Devices left unconfirmed by
    earlier attempts are removed: a key someone saw before the person enrolled
    is never the one they confirm."""
    user = request.user
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    request.session[ENROLMENT_DEVICE_KEY] = device.pk
    return device


def totp_device_in_enrolment(*, request) -> TOTPDevice | None:
    """The device this session's enrolment attempt started, while it is unconfirmed."""
    device_id = request.session.get(ENROLMENT_DEVICE_KEY)
    if device_id is None:
        return None
    return TOTPDevice.objects.filter(pk=device_id, user=request.user, confirmed=False).first()


@transaction.atomic
def totp_device_confirm(*, request, device: TOTPDevice, code: str) -> bool:
    """Confirms the device being set up with a code from the app; the session
    counts as verified with it. Returns False (nothing changed) on a wrong code."""
    code = "".join(code.split())
    if not code.isdigit() or not device.verify_token(code):
        sign_in_event_record(kind=SignInEventKind.SECOND_FACTOR_FAILED, request=request, user=request.user,
                             detail="enrolment")
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
    request.session.pop(ENROLMENT_DEVICE_KEY, None)
    sign_in_event_record(kind=SignInEventKind.FACTOR_ENROLLED, request=request, user=request.user, detail="totp")
    if not session_verified(request):
        second_factor_mark_verified(request=request, device=device, detail="totp")
    return True


def totp_secret_decode(secret: str) -> bytes:
    """A base32 TOTP secret (as authenticator apps show it) → its key bytes."""
    cleaned = "".join(secret.split()).upper()
    try:
        key = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(_("The TOTP secret is not valid base32."), code="invalid_totp_secret",
                           field="totp_secret") from exc
    if len(key) < 10:
        raise InvalidInput(_("The TOTP secret must be at least 16 base32 characters (80 bits)."),
                           code="invalid_totp_secret", field="totp_secret")
    return key


@transaction.atomic
def totp_device_provision(*, user, secret: str) -> TOTPDevice:
    """Enrols an authenticator app with a secret chosen outside (provisioning,
    the demo): it replaces the person's other authenticator-app devices."""
    key = totp_secret_decode(secret)
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), key=key.hex(), confirmed=True)
    sign_in_event_record(kind=SignInEventKind.FACTOR_ENROLLED, user=user, detail="totp (provisioned)")
    return device


@transaction.atomic
def recovery_codes_issue(*, user, request=None) -> list[str]:
    """New one-time recovery codes for the person; earlier ones stop working."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME,
                                                         defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _i in range(settings.SIGNIN["RECOVERY_CODES"])]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    sign_in_event_record(kind=SignInEventKind.RECOVERY_CODES_ISSUED, request=request, user=user)
    return codes


@transaction.atomic
def user_factors_reset(*, user, actor, request=None) -> int:
    """Removes every second factor of ``user`` (lost phone, lost key) and ends
    their sessions: the next sign-in starts at the password and enrols afresh.
    Returns how many factors were removed."""
    removed = 0
    for model in (TOTPDevice, StaticDevice, WebAuthnCredential):
        removed += model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
    ended = user_sessions_end(user=user)
    if request is not None and getattr(request, "user", None) == user:
        request.session.flush()  # resetting one's own factors signs this session out too
    sign_in_event_record(kind=SignInEventKind.FACTORS_RESET, request=request, user=user, actor=actor,
                         detail=f"factors: {removed}, sessions: {ended}")
    return removed


def user_sessions_end(*, user) -> int:
    """Deletes every unexpired session signed in as ``user`` (database sessions,
    the project's engine). Reads each open session once: resets are rare."""
    user_id, ended = str(user.pk), []
    sessions = Session.objects.filter(expire_date__gt=timezone.now()).order_by()
    for session in sessions.iterator(chunk_size=500):
        if session.get_decoded().get(SESSION_KEY) == user_id:
            ended.append(session.pk)
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


@transaction.atomic
def user_lockout_lift(*, user, actor, request=None) -> int:
    """Ends a lockout of ``user``'s username before its time. Returns the number
    of failure records cleared (0: there was none)."""
    cleared = axes_reset(username=user.get_username())
    sign_in_event_record(kind=SignInEventKind.LOCKOUT_LIFTED, request=request, user=user, actor=actor,
                         detail=str(cleared))
    return cleared
