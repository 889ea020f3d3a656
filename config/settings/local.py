"""Development on one machine: SQLite, the embedded broker, emails under var/mail."""
from .base import *  # noqa: F401,F403
from .base import PUENTE, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# The embedded default keeps its database, broker queue, cache and mail here.
for _sub in ("", "broker/queue", "broker/processed", "cache", "mail"):
    (VAR_DIR / _sub).mkdir(parents=True, exist_ok=True)

if "EMAIL_URL" not in env.ENVIRON:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")

# Webhooks to a receiver on this machine, over plain http, for development.
PUENTE = {
    **PUENTE,
    "WEBHOOK_ALLOWED_NETWORKS": env.list("PUENTE_WEBHOOK_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"]),
    "WEBHOOK_ALLOW_HTTP_LOCALHOST": env.bool("PUENTE_WEBHOOK_ALLOW_HTTP_LOCALHOST", default=True),
}
