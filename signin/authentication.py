from rest_framework.authentication import SessionAuthentication

from api_core.authentication import user_may_use_api


class VerifiedSessionAuthentication(SessionAuthentication):
    """Session sign-in for the browsable API. A staff session counts only once it
    passed its second factor: a password alone must not open the API either;
    a user of a deactivated agency gets no API (``user_may_use_api``)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        if user.is_staff and not user.is_verified():
            return None
        if not user_may_use_api(user):
            return None  # the agency was switched off: anonymous from now on
        return result
