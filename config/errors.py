"""Site-wide error pages: problem+json under /api/, Django's pages elsewhere."""
from django.utils.translation import gettext as _
from django.views import defaults

from api_core.exceptions import problem_response


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return problem_response(404, "not_found", _("No such resource."))
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return problem_response(500, "server_error", _("An unexpected error occurred; it has been logged."))
    return defaults.server_error(request)
