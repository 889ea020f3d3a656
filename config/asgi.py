import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
os.environ.setdefault("PUENTE_WEB_PROCESS", "1")  # bounds every statement (PUENTE_STATEMENT_TIMEOUT_MS)

application = get_asgi_application()
