"""The framework's ceiling: a minimal Django + DRF endpoint behind a hashed bearer-token lookup.

A reference to divide by, not application code. It does what any authenticated API request must do
(parse, one indexed token lookup, DRF view, JSON) and nothing else. ``bench.load`` runs it next to
Puente in every load run, on the same PostgreSQL server, with the same gunicorn command:

    CEILING_DATABASE_URL=postgres://postgres@127.0.0.1:5432/puente_perf_ceiling \\
        .venv/bin/python -m bench.ceiling_app TOKEN...     # migrate, one user per token
    CEILING_DATABASE_URL=… .venv/bin/gunicorn bench.ceiling_app:application --workers 4 --timeout 30
    wrk -t1 -c8 -d10s -H "Authorization: Bearer TOKEN" http://127.0.0.1:8000/drf/

Connections are persistent (``CONN_MAX_AGE`` 600), as in the bench's Puente server.
"""
import hashlib
import os
import sys

import environ
from django.conf import settings

DATABASE = environ.Env.db_url_config(os.environ["CEILING_DATABASE_URL"])
DATABASE["CONN_MAX_AGE"] = 600

settings.configure(
    DEBUG=False, SECRET_KEY="ceiling-" + "x" * 50, ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    DATABASES={"default": DATABASE},
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
    REST_FRAMEWORK={"DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
                    "UNAUTHENTICATED_USER": None},
)

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.authentication import BaseAuthentication  # noqa: E402
from rest_framework.permissions import IsAuthenticated  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Bearer(BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Bearer "):
            return None
        user = User.objects.filter(last_name=digest(header[7:])).first()  # one lookup, like a hashed-token table
        return (user, None) if user else None


class Const(APIView):
    authentication_classes = [Bearer]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"ok": True, "items": []})


def plain(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("drf/", Const.as_view()), path("django/", plain)]
application = get_wsgi_application()


def prepare(tokens: list[str]) -> None:
    """The schema, and a user for each token (its digest in ``last_name``)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    for number, token in enumerate(tokens):
        User.objects.get_or_create(username=f"t{number}", defaults={"last_name": digest(token)})


if __name__ == "__main__":
    prepare(sys.argv[1:] or ["tok"])
