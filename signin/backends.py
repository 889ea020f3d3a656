from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.helpers import toggleable

from .lockout import sign_in_lock
from .network import client_ip


class SignInLockoutBackend(AxesStandaloneBackend):
    """First of the authentication backends: refuses, before any password is
    checked, a username that axes counts too many failures for, a username
    serving a longer repeated lockout, and an address that tried too many
    usernames (signin.lockout)."""

    @toggleable
    def authenticate(self, request, username=None, password=None, **kwargs):
        super().authenticate(request, username=username, password=password, **kwargs)
        if sign_in_lock(username=username or "", ip_address=client_ip(request)) is None:
            return
        # As axes flags its own refusals: the failure is not counted again (the
        # lockout does not restart) and its middleware answers with the lockout page.
        request.axes_locked_out = True
        raise AxesBackendPermissionDenied("locked out")
