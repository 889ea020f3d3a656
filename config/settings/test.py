"""Settings for the test suite. DATABASE_URL / REDIS_URL select the real services."""
from .base import *  # noqa: F401,F403
from .base import DATABASES, PUENTE, REDIS_URL, REST_FRAMEWORK, STATEMENT_TIMEOUT_MS

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False

if not REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    # Keep test keys apart from anything else using the same Redis.
    CACHES["default"]["KEY_PREFIX"] = "puente-test"  # noqa: F405

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

# The test client plays the web process: its statements are bounded as in
# production, with room for the suite's own set-up (creating the database,
# the drills' bulk data) on a busy machine.
STATEMENT_TIMEOUT_MS = max(STATEMENT_TIMEOUT_MS, 60_000)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    if "statement_timeout" not in _options.get("options", ""):
        _options["options"] = _options.get("options", "") + f" -c statement_timeout={STATEMENT_TIMEOUT_MS}"
