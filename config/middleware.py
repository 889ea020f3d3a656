"""The signed-in reader's own language and time zone on the admin's pages.

The API follows ``Accept-Language`` (partners' systems ask for what they
want); a person in the admin gets the language chosen with the switch (its
cookie), else the language of their profile, and times in their own zone."""
import zoneinfo

from django.conf import settings
from django.utils import timezone, translation


class ReaderPreferencesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith("/api/"):
            return self.get_response(request)
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and user.language in dict(settings.LANGUAGES):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        try:
            zone = zoneinfo.ZoneInfo(user.effective_time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is not None:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
