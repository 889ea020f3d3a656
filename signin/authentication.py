from rest_framework.authentication import SessionAuthentication


class VerifiedSessionAuthentication(SessionAuthentication):
    """Session sign-in for the browsable API. A staff session counts only once it
    passed its second factor: a password alone must not open the API either."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        if user.is_staff and not user.is_verified():
            return None
        return result
