"""The second step of the admin sign-in, the enrolment of a second factor, the
recovery codes and the lockout page. Each page gets the admin site it serves."""
import base64

import segno
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticToken
from django_otp_webauthn.models import WebAuthnCredential

from .forms import SecondFactorForm, TotpConfirmForm
from .lockout import sign_in_lock
from .network import client_ip
from .services import (
    has_second_factor,
    recovery_codes_issue,
    second_factor_verify,
    totp_device_confirm,
    totp_device_in_enrolment,
    totp_device_start,
)
from .state import passkeys_enabled, password_step_recent, safe_next, session_verified

# Codes just issued wait here until the recovery-codes page shows them, once.
NEW_CODES_KEY = "signin_new_recovery_codes"


def _render(request, site, template, context, status=200):
    return TemplateResponse(request, template, {**site.each_context(request), **context}, status=status)


def _index(site):
    return reverse("admin:index", current_app=site.name)


def second_factor(request, site):
    next_url = safe_next(request, _index(site))
    if session_verified(request):
        return redirect(next_url)
    if not has_second_factor(request.user):
        return redirect(f"{reverse('admin:signin_enrol', current_app=site.name)}?{request.GET.urlencode()}")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if second_factor_verify(request=request, code=form.cleaned_data["code"]):
            return redirect(next_url)
        form.add_error("code", _("That code is not valid. Enter the code your app shows now, or an unused "
                                 "recovery code."))
    return _render(request, site, "admin/signin/second_factor.html", {
        "title": _("Second factor"),
        "form": form,
        "next": next_url,
        "has_passkey": WebAuthnCredential.objects.filter(user=request.user, confirmed=True).exists(),
        "passkeys": passkeys_enabled(),
    })


def enrol(request, site):
    """Forced at the first sign-in (no factor yet); a verified person may add one.
    Either way only soon after the password: an older session signs in again."""
    user = request.user
    if has_second_factor(user) and not session_verified(request):
        return redirect(f"{reverse('admin:signin_second_factor', current_app=site.name)}?"
                        f"{request.GET.urlencode()}")
    if not password_step_recent(request):
        return password_again(request, site)
    form = TotpConfirmForm(request.POST or None)
    device = None
    if request.method == "POST" and form.is_valid():
        device = totp_device_in_enrolment(request=request)
        if device is None:
            form.add_error("code", _("This set-up was started again elsewhere. Scan the new code below and "
                                     "enter the code the app shows."))
        elif totp_device_confirm(request=request, device=device, code=form.cleaned_data["code"]):
            return recovery_codes_after_enrolment(request, site)
        else:
            form.add_error("code", _("That code is not valid. Check the phone's clock and enter the code the "
                                     "app shows now."))
    # Each visit of the page is a new attempt with a new key; a wrong code keeps the one being scanned.
    device = device or totp_device_start(request=request)
    secret = base64.b32encode(device.bin_key).decode()
    return _render(request, site, "admin/signin/enrol.html", {
        "title": _("Set up a second factor"),
        "form": form,
        "next": safe_next(request, _index(site)),
        "qr_code": segno.make(device.config_url, error="m").svg_inline(scale=4, omitsize=False),
        "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        "forced": not has_second_factor(user),
        "passkeys": passkeys_enabled(),
    })


def password_again(request, site):
    """Signs the session out and sends the person to the password step, back here after it."""
    logout(request)
    messages.warning(request, _("To set up a second factor, sign in again: it needs a password given in the "
                                "last few minutes."))
    query = urlencode({"next": request.get_full_path()})
    return redirect(f"{reverse('admin:login', current_app=site.name)}?{query}")


def recovery_codes_after_enrolment(request, site):
    """After a new factor: recovery codes, unless the person still has some."""
    if not StaticToken.objects.filter(device__user=request.user).exists():
        request.session[NEW_CODES_KEY] = recovery_codes_issue(user=request.user, request=request)
    query = request.GET.urlencode()
    return redirect(f"{reverse('admin:signin_recovery_codes', current_app=site.name)}?{query}")


def recovery_codes(request, site):
    if request.method == "POST":
        codes = recovery_codes_issue(user=request.user, request=request)
    else:
        codes = request.session.pop(NEW_CODES_KEY, None)
    return _render(request, site, "admin/signin/recovery_codes.html", {
        "title": _("Recovery codes"),
        "codes": codes,
        "remaining": StaticToken.objects.filter(device__user=request.user).count(),
        "next": safe_next(request, _index(site)),
    })


@require_POST
def sign_out(request, site):
    """For a person between the password and the second factor (the admin's own
    sign-out is for people the admin already let in)."""
    logout(request)
    return redirect(reverse("admin:login", current_app=site.name))


def locked_out(request, original_response=None, credentials=None):
    """Axes' answer to a sign-in refused by a lockout. The same page whether or
    not the username exists, and whatever password was typed."""
    lock = sign_in_lock(username=(credentials or {}).get("username") or "", ip_address=client_ip(request))
    minutes = int((lock.duration if lock else settings.AXES_COOLOFF_TIME).total_seconds() // 60)
    # Rendered here: axes swaps it in from a middleware, after template responses are rendered.
    return _render(request, admin.site, "admin/signin/locked_out.html", {
        "title": _("Sign-in blocked"), "minutes": minutes,
    }, status=429).render()
