from functools import wraps

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from . import views
from .forms import StaffAuthenticationForm
from .state import awaits_second_factor, safe_next, second_factor_required, session_verified


class StaffAdminSite(admin.AdminSite):
    """The admin opens only to staff whose session passed a second factor.
    The password step is Django's login page; the second step, the enrolment
    and the recovery codes are pages of this site, in its look and languages."""

    login_form = StaffAuthenticationForm

    def has_permission(self, request):
        return super().has_permission(request) and session_verified(request)

    def login(self, request, extra_context=None):
        if request.method == "GET" and awaits_second_factor(request):
            return self.second_factor_redirect(request)
        response = super().login(request, extra_context)
        if request.method == "POST" and awaits_second_factor(request):
            return self.second_factor_redirect(request)
        return response

    def second_factor_redirect(self, request):
        query = urlencode({"next": safe_next(request, reverse("admin:index", current_app=self.name))})
        return redirect(f"{reverse('admin:signin_second_factor', current_app=self.name)}?{query}")

    def signin_view(self, view, *, verified: bool = False):
        """A page for a person who passed the password step (``verified``: and
        the second factor); anyone else goes to the sign-in page."""

        @wraps(view)
        def inner(request, *args, **kwargs):
            user = request.user
            allowed = user.is_authenticated and second_factor_required(user)
            if not allowed or (verified and not session_verified(request)):
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('admin:login', current_app=self.name)}?{query}")
            return view(request, self, *args, **kwargs)

        return never_cache(csrf_protect(inner))

    def get_urls(self):
        return [
            path("second-factor/", self.signin_view(views.second_factor), name="signin_second_factor"),
            path("second-factor/enrol/", self.signin_view(views.enrol), name="signin_enrol"),
            path("second-factor/sign-out/", self.signin_view(views.sign_out), name="signin_sign_out"),
            path("second-factor/recovery-codes/", self.signin_view(views.recovery_codes, verified=True),
                 name="signin_recovery_codes"),
            *super().get_urls(),
        ]
