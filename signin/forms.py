from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import SignInEventKind
from .services import sign_in_event_record


class StaffAuthenticationForm(AdminAuthenticationForm):
    """The admin's password step. A right password for an account that does
    not work in the admin says so, instead of claiming the password was wrong
    (only someone who knows the password learns anything from it)."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "api_only": _("This account works through the API; the admin is for the secretariat and the committee."),
    }

    def confirm_login_allowed(self, user):
        if user.is_active and not user.is_staff:
            sign_in_event_record(kind=SignInEventKind.REFUSED_NOT_STAFF, request=self.request, user=user)
            raise ValidationError(self.error_messages["api_only"], code="api_only")
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
