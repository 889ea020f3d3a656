"""Signing staff in to the admin in tests: an enrolled authenticator app and
the codes it shows, computed from the test's own clock."""
import time

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def enrol_totp(user) -> TOTPDevice:
    """The person's authenticator app (enrolled once, as the enrolment page leaves it)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test app", confirmed=True)


def totp_code(device: TOTPDevice, *, at: float | None = None) -> str:
    """What the app shows at ``at`` (now by default)."""
    totp = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


def sign_in_to_admin(client, user):
    """``client`` signed in as ``user`` the way the admin requires: for staff, a
    session that passed its second factor with an enrolled app, recorded as
    django-otp records it. The full password + code path has tests of its own
    (tests/signin/)."""
    client.force_login(user)
    if user.is_staff:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = enrol_totp(user).persistent_id
        session.save()
    return client
