"""Development on one machine: SQLite, the embedded broker, emails under var/mail."""
from .base import *  # noqa: F401,F403
from .base import VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# The embedded default keeps its database, broker queue, cache and mail here.
for _sub in ("", "broker/queue", "broker/processed", "cache", "mail"):
    (VAR_DIR / _sub).mkdir(parents=True, exist_ok=True)

if "EMAIL_URL" not in env.ENVIRON:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
