"""Development on one machine: the embedded PostgreSQL and Valkey unless DATABASE_URL and
REDIS_URL are set, emails under var/mail."""
from config.embedded import configure_environment

configure_environment()

from .base import *  # noqa: E402,F401,F403
from .base import PUENTE, VAR_DIR, env  # noqa: E402

DEBUG = env.bool("DJANGO_DEBUG", default=True)

(VAR_DIR / "mail").mkdir(parents=True, exist_ok=True)
if "EMAIL_URL" not in env.ENVIRON:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")

# Webhooks to a receiver on this machine, over plain http, for development.
PUENTE = {
    **PUENTE,
    "WEBHOOK_ALLOWED_NETWORKS": env.list("PUENTE_WEBHOOK_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"]),
    "WEBHOOK_ALLOW_HTTP_LOCALHOST": env.bool("PUENTE_WEBHOOK_ALLOW_HTTP_LOCALHOST", default=True),
}
