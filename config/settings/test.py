"""Settings for the test suite: PostgreSQL and Redis from DATABASE_URL / REDIS_URL, else the
embedded ones (config/embedded.py)."""
from config.embedded import configure_environment

configure_environment()

from .base import *  # noqa: E402,F401,F403
from .base import CACHES, PUENTE, REST_FRAMEWORK  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False

# Keep test keys apart from anything else using the same Redis.
CACHES["default"]["KEY_PREFIX"] = "puente-test"

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"token": "100000/minute"},
}

# The webhook tests run real receivers on loopback; the SSRF tests close this again.
PUENTE = {
    **PUENTE,
    "WEBHOOK_ALLOWED_NETWORKS": ["127.0.0.0/8", "::1/128"],
    "WEBHOOK_ALLOW_HTTP_LOCALHOST": True,
}
