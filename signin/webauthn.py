"""Passkeys (django-otp-webauthn) with the sign-in events and recovery codes of
the other factors. Mounted under the namespace its template tags expect."""
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import views as webauthn_views
from django_otp_webauthn.exceptions import OTPWebAuthnApiError

from .models import SignInEventKind
from .services import recovery_codes_issue, sign_in_event_record
from .state import passkeys_enabled, password_step_recent, session_verified
from .views import NEW_CODES_KEY

app_name = "otp_webauthn"


class PasskeysOff(OTPWebAuthnApiError):
    status_code = 404
    default_code = "passkeys_off"
    default_detail = _("Passkeys are off on this server: it is not reached over HTTPS. Use an authenticator "
                       "app or a recovery code.")


class PasskeysOn:
    """Every passkey ceremony is refused while passkeys are off (no secure origin)."""

    def initial(self, request, *args, **kwargs):
        if not passkeys_enabled():
            raise PasskeysOff()
        super().initial(request, *args, **kwargs)


class PasswordStepExpired(OTPWebAuthnApiError):
    status_code = 403
    default_code = "password_step_expired"
    default_detail = _("To set up a second factor, sign in again: it needs a password given in the last few "
                       "minutes.")


class RecentPasswordRequired:
    """A passkey is registered only soon after the password, like an authenticator app (signin.views.enrol)."""

    def check_can_register(self):
        super().check_can_register()
        if not password_step_recent(self.request):
            raise PasswordStepExpired()


class BeginRegistration(PasskeysOn, RecentPasswordRequired, webauthn_views.BeginCredentialRegistrationView):
    pass


class BeginAuthentication(PasskeysOn, webauthn_views.BeginCredentialAuthenticationView):
    pass


class CompleteRegistration(PasskeysOn, RecentPasswordRequired, webauthn_views.CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        was_verified = session_verified(self.request)
        response = super().post(*args, **kwargs)
        request, user = self.request, self.request.user
        sign_in_event_record(kind=SignInEventKind.FACTOR_ENROLLED, request=request, user=user, detail="passkey")
        if not was_verified:
            sign_in_event_record(kind=SignInEventKind.SIGNED_IN, request=request, user=user, detail="passkey")
        if not user.staticdevice_set.filter(token_set__isnull=False).exists():
            request.session[NEW_CODES_KEY] = recovery_codes_issue(user=user, request=request)
        return response


class CompleteAuthentication(PasskeysOn, webauthn_views.CompleteCredentialAuthenticationView):
    def complete_auth(self, device):
        super().complete_auth(device)
        sign_in_event_record(kind=SignInEventKind.SIGNED_IN, request=self.request, user=device.user,
                             detail="passkey")

    def handle_exception(self, exc):
        if self.request.user.is_authenticated and not isinstance(exc, PasskeysOff):
            sign_in_event_record(kind=SignInEventKind.SECOND_FACTOR_FAILED, request=self.request,
                                 user=self.request.user, detail="passkey")
        return super().handle_exception(exc)


urlpatterns = [
    path("registration/begin/", BeginRegistration.as_view(),
         name="credential-registration-begin"),
    path("registration/complete/", CompleteRegistration.as_view(), name="credential-registration-complete"),
    path("authentication/begin/", BeginAuthentication.as_view(),
         name="credential-authentication-begin"),
    path("authentication/complete/", CompleteAuthentication.as_view(), name="credential-authentication-complete"),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]), name="js-i18n-catalog"),
]
