"""Settings for the test suite: PostgreSQL and Redis from DATABASE_URL / REDIS_URL, else the
embedded ones (config/embedded.py)."""
from config.embedded import configure_environment

configure_environment()

from .base import *  # noqa: E402,F401,F403
from .base import CACHES, DATABASES, PUENTE, REST_FRAMEWORK, STATEMENT_TIMEOUT_MS  # noqa: E402

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
    # Like the rate above: the race tests send many requests of one token at
    # once; the tests of the limit set it themselves.
    "MAX_CONCURRENT_REQUESTS": 1000,
    "SERVER_SECONDS_PER_MINUTE": 0,
}

# The test client plays the web process: its statements are bounded as in
# production, with room for the suite's own set-up (creating the database,
# the drills' bulk data) on a busy machine.
STATEMENT_TIMEOUT_MS = max(STATEMENT_TIMEOUT_MS, 60_000)
if "statement_timeout" not in DATABASES["default"]["OPTIONS"]["options"]:
    DATABASES["default"]["OPTIONS"]["options"] += f" -c statement_timeout={STATEMENT_TIMEOUT_MS}"
