import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
os.environ.setdefault("PUENTE_WEB_PROCESS", "1")  # bounds every statement (PUENTE_STATEMENT_TIMEOUT_MS)

from api_core.body_limit import BodyLimit  # noqa: E402  (needs the settings module chosen above)

# Oversized and chunked bodies are dealt with before Django builds the request.
application = BodyLimit(get_wsgi_application())
