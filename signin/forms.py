from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _


class StaffAuthenticationForm(AdminAuthenticationForm):
    """The admin's password step. A right password for an account that does not
    work in the admin gets the answer of a wrong one, and counts as a failure
    towards the lockout like one: otherwise the page would tell anyone which
    password is right."""

    def confirm_login_allowed(self, user):
        if user.is_active and not user.is_staff:
            # Recorded for the secretariat as what it was (signin.receivers); the caller learns nothing.
            self.request.signin_refused_not_staff = True
            user_login_failed.send(sender=__name__, credentials={"username": user.get_username()},
                                   request=self.request)
            raise self.get_invalid_login_error()
        super().confirm_login_allowed(user)


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=32, strip=True,
        help_text=_("The six digits your authenticator app shows, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True,
                                      "autocapitalize": "none", "spellcheck": "false"}),
    )


class TotpConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"), max_length=10, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "autofocus": True}),
    )
