"""Settings shared by every environment. Everything that differs between
machines comes from the environment (12-factor); see README.md for the list."""
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from config import api_docs

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# Local state: the embedded servers (config/embedded.py), emails, beat's schedule.
VAR_DIR = Path(env("PUENTE_VAR_DIR", default=str(BASE_DIR / "var")))

# --- Core -------------------------------------------------------------------
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    # The admin with its default site replaced by the one that asks for a second factor.
    "signin.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "signin",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "axes",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api_core",
    "outbox",
    "cases",
    "committee",
    "integrations",
    "reminders",
    "dataprotection",
    "figures",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost but for security: no-store unless a view chose otherwise, and 304 for If-None-Match.
    "api_core.http_cache.CacheRulesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks request.user verified when the session passed a second factor.
    "django_otp.middleware.OTPMiddleware",
    # Ends sessions past their inactivity or absolute limit (SIGNIN settings below).
    "signin.middleware.SessionLimitsMiddleware",
    # The signed-in reader's own language and time zone on admin pages.
    "config.middleware.ReaderPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Turns a sign-in refused for too many failures into the lockout page.
    "axes.middleware.AxesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Before the idempotency key is taken: a refused request holds nothing.
    "api_core.concurrency.ConcurrencyLimitMiddleware",
    # Last: it needs the session user and the language, and wraps only the view.
    "api_core.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "cases.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------
# PostgreSQL and Redis, always: `make run` and `make test` start embedded ones
# under var/ when these are not set (config/embedded.py).
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Django's PostgreSQL backend with a health check that needs no round trip (config/postgresql/base.py).
DATABASES["default"]["ENGINE"] = "config.postgresql"
# Short queries whose plan has a high cost estimate (a LIMIT over a selective
# filter) would be JIT-compiled by PostgreSQL, which alone can take longer
# than the query. Nothing here is analytical.
# Every statement of a web process (API and admin) is bounded: one expensive
# request must not hold a connection and a core while everyone else waits.
# The API answers a statement cut off here with 503 ``statement_timeout``.
# Workers, beat and manage.py (migrations, sweeps) are not web processes.
WEB_PROCESS = env.bool("PUENTE_WEB_PROCESS", default=False)
STATEMENT_TIMEOUT_MS = env.int("PUENTE_STATEMENT_TIMEOUT_MS", default=5000)
POSTGRESQL_OPTIONS = "-c jit=off"
if WEB_PROCESS and STATEMENT_TIMEOUT_MS:
    POSTGRESQL_OPTIONS += f" -c statement_timeout={STATEMENT_TIMEOUT_MS}"
DATABASES["default"].setdefault("OPTIONS", {}).update({"options": POSTGRESQL_OPTIONS})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "puente",
        # A Redis that does not answer must not hold a request for long (see docs/reliability.md).
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

# --- Auth ---------------------------------------------------------------------
# See docs/operations.md ("Staff sign-in") for what each one means in practice.
AUTHENTICATION_BACKENDS = [
    # First: refuses every attempt for a locked-out account or address before a password is checked
    # (axes' count per username, longer repeated lockouts, an address trying many usernames).
    "signin.backends.SignInLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": env.int("PUENTE_PASSWORD_MIN_LENGTH", default=12)}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

SIGNIN = {
    # A staff session unused for this long ends, and so does every session this old.
    "IDLE_TIMEOUT": timedelta(minutes=env.int("PUENTE_SESSION_IDLE_MINUTES", default=30)),
    "ABSOLUTE_TIMEOUT": timedelta(hours=env.int("PUENTE_SESSION_MAX_HOURS", default=12)),
    # One-time recovery codes handed out with a new second factor.
    "RECOVERY_CODES": 10,
    # Proxies in front of the web processes that append to X-Forwarded-For; 0 = use the peer address.
    "TRUSTED_PROXY_COUNT": env.int("PUENTE_TRUSTED_PROXY_COUNT", default=0),
    # Each lockout of an account within a day lasts twice the one before, up to this.
    "LOCKOUT_MAX": timedelta(minutes=env.int("PUENTE_SIGNIN_LOCKOUT_MAX_MINUTES", default=240)),
    # An address is locked only once failed passwords for this many different usernames
    # came from it within the lockout time (an office behind one NAT address shares it).
    "ADDRESS_USERNAME_LIMIT": env.int("PUENTE_SIGNIN_ADDRESS_USERNAME_LIMIT", default=20),
    # A second factor is enrolled only this soon after the password was given.
    "ENROLMENT_WINDOW": timedelta(minutes=env.int("PUENTE_SIGNIN_ENROLMENT_MINUTES", default=10)),
}
# The session cookie never outlives the absolute limit.
SESSION_COOKIE_AGE = int(SIGNIN["ABSOLUTE_TIMEOUT"].total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Lockout (django-axes): this many failed passwords for one username refuse every
# sign-in of that username for the cool-off time, from any address; repeated
# lockouts grow and the address lock is signin.lockout's (SIGNIN above).
AXES_FAILURE_LIMIT = env.int("PUENTE_SIGNIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("PUENTE_SIGNIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes warns when its lock leaves the address out: the address has a lock of its own,
# at a higher threshold (signin.lockout), so that colleagues behind one NAT address
# do not share one person's lockout.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
# A lockout ends when its time is up, however often it was tried meanwhile.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "signin.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "signin.network.client_ip"
# Every attempt is recorded once, as a sign-in event (signin.models.SignInEvent).
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False

# Second factor (django-otp): TOTP apps, passkeys, one-time recovery codes.
OTP_TOTP_ISSUER = env("PUENTE_TOTP_ISSUER", default="Puente")
# Passkeys belong to the host staff open the admin at (PUBLIC_BASE_URL).
OTP_WEBAUTHN_RP_ID = env("PUENTE_WEBAUTHN_RP_ID", default=urlsplit(PUBLIC_BASE_URL).hostname)
OTP_WEBAUTHN_RP_NAME = "Puente"
# Browsers offer passkeys only to a secure origin: https, or http://localhost on the
# machine itself. Served over plain http elsewhere (a laptop on a border post's LAN),
# the service starts with passkeys off, says so in the log and on the sign-in pages,
# and staff use their authenticator app (signin.state.passkeys_enabled).
WEBAUTHN_CONFIGURED_ORIGINS = env.list("PUENTE_WEBAUTHN_ORIGINS", default=[PUBLIC_BASE_URL])
OTP_WEBAUTHN_ALLOWED_ORIGINS = [origin for origin in WEBAUTHN_CONFIGURED_ORIGINS
                                if origin.startswith(("https://", "http://localhost"))]
if not OTP_WEBAUTHN_ALLOWED_ORIGINS:
    SILENCED_SYSTEM_CHECKS.append("otp_webauthn.E030")  # no secure origin: passkeys off, on purpose
# A passkey is the second factor after the password, never a way around it.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

# --- I18n and time ----------------------------------------------------------
LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "America/Lima"
USE_TZ = True

# --- Static -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Request limits ---------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("PUENTE_MAX_BODY_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# --- Email ------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Puente <no-reply@puente.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A stalled SMTP server must not hold a worker past the task's time limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

# --- REST framework ---------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api_core.authentication.BearerTokenAuthentication",
        "signin.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "api_core.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["api_core.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "api_core.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "api_core.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["api_core.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": env("PUENTE_THROTTLE_RATE", default="1200/minute"),
    },
    "EXCEPTION_HANDLER": "api_core.exceptions.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api_core.schema.AutoSchema",
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.NamespaceVersioning",
    "ALLOWED_VERSIONS": ["v1"],
    "DEFAULT_VERSION": "v1",
    "DATETIME_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Puente API",
    "DESCRIPTION": api_docs.DESCRIPTION,
    "VERSION": "1.0.0",
    "TAGS": api_docs.spectacular_tags(),
    "EXTENSIONS_ROOT": {"x-tagGroups": api_docs.tag_groups()},
    # In English whatever the caller's language (api_core.schema.SchemaGenerator).
    "DEFAULT_GENERATOR_CLASS": "api_core.schema.SchemaGenerator",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Nothing from another host: system fonts instead of ReDoc's web fonts, and
    # no online validator badge in Swagger UI (it would send the schema's address).
    "REDOC_UI_SETTINGS": {"theme": {"typography": {
        "fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
        "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"},
        "code": {"fontFamily": "ui-monospace, 'SFMono-Regular', Menlo, Consolas, 'Liberation Mono', monospace"},
    }}},
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer"},
        }
    },
    "SECURITY": [{"bearerAuth": []}],
    "AUTHENTICATION_WHITELIST": [],
    "ENUM_NAME_OVERRIDES": {
        "HandoffKindEnum": "cases.models.handoffs.HandoffKind",
        "HandoffStatusEnum": "cases.models.handoffs.HandoffStatus",
        "RejectionReasonEnum": "cases.models.handoffs.RejectionReason",
        "LegalBasisEnum": "cases.models.handoffs.LegalBasis",
        "ClosureReasonEnum": "cases.models.ClosureReason",
        "CaseStatusEnum": "cases.models.CaseStatus",
        "RelationshipEnum": "cases.models.Relationship",
        "CountryCodeEnum": "cases.api.case_serializers.COUNTRY_CODES",
        "ConsentScopeEnum": "cases.models.ConsentScope",
        "ConsentMethodEnum": "cases.models.ConsentMethod",
        "FullAccessEnum": "cases.api.case_serializers.FULL_ACCESS_CHOICES",
        "LimitedAccessEnum": "cases.api.case_serializers.LIMITED_ACCESS_CHOICES",
        "FormerOwnerAccessEnum": "cases.api.case_serializers.FORMER_OWNER_ACCESS_CHOICES",
        "MeetingStatusEnum": "committee.models.MeetingStatus",
        "MinutesStatusEnum": "committee.models.MinutesStatus",
        "AgendaItemStatusEnum": "committee.models.AgendaItemStatus",
        "AgendaItemKindEnum": "committee.models.AgendaItemKind",
        "ActionItemStatusEnum": "committee.models.ActionItemStatus",
        "AttendanceStatusEnum": "committee.models.AttendanceStatus",
        "DelegationPositionEnum": "committee.models.DelegationPosition",
        "EventTypeEnum": "outbox.models.EventType",
        "WebhookDeliveryStatusEnum": "integrations.models.DeliveryStatus",
        "WebhookDisabledReasonEnum": "integrations.models.DisabledReason",
        # The name the committee's decisions had before another "outcome" field existed.
        "OutcomeEnum": "committee.models.DecisionOutcome",
        "DataRequestKindEnum": "dataprotection.laws.RequestKind",
        "DataRequestLawEnum": "dataprotection.laws.Law",
        "DataRequestChannelEnum": "dataprotection.models.Channel",
        "DataRequestStatusEnum": "dataprotection.models.RequestStatus",
        "DataRequestOutcomeEnum": "dataprotection.models.Outcome",
        "RefusalGroundEnum": "dataprotection.models.RefusalGround",
        "ErasureExceptionEnum": "dataprotection.models.ErasureException",
        "FiguresScopeEnum": "figures.api.serializers.FIGURES_SCOPES",
    },
    # What Puente sends to partners' endpoints (under x-webhooks: the schema is OpenAPI 3.0).
    "WEBHOOKS": ["integrations.api.webhooks.EVENT_WEBHOOK", "integrations.api.webhooks.PING_WEBHOOK"],
    "POSTPROCESSING_HOOKS": [
        "api_core.schema.include_webhook_components",
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api_core.schema.add_problem_responses",
        "api_core.schema.document_idempotency_key",
        "api_core.schema.document_servers_and_webhooks",
        "api_core.sync.document_sync_watermark",
        "api_core.http_cache.document_conditional_reads",
    ],
}

# --- Celery -----------------------------------------------------------------
# Kombu names a Redis server on a Unix socket (the embedded one) redis+socket://.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL.replace("unix://", "redis+socket://", 1))
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Reminders ---------------------------------------------------------------
# See docs/operations.md for what each one means in practice.
REMINDERS = {
    # How often beat queues the sweep that writes due reminders.
    "SWEEP_INTERVAL": timedelta(seconds=env.int("PUENTE_REMINDER_SWEEP_SECONDS", default=60)),
    # A reminder whose moment passed longer ago than this (beat or workers were
    # down) is not written any more: a late "24 h before" is worse than none.
    "MAX_LATENESS": timedelta(hours=env.int("PUENTE_REMINDER_MAX_LATENESS_HOURS", default=12)),
    "BATCH_SIZE": env.int("PUENTE_REMINDER_BATCH_SIZE", default=1000),
    # SMTP failures: attempts in all, and the exponential back-off between them.
    "MAX_ATTEMPTS": env.int("PUENTE_REMINDER_MAX_ATTEMPTS", default=6),
    "RETRY_BASE_SECONDS": env.int("PUENTE_REMINDER_RETRY_BASE_SECONDS", default=30),
    "RETRY_MAX_SECONDS": env.int("PUENTE_REMINDER_RETRY_MAX_SECONDS", default=300),
    # A worker owns a reminder it claimed for this long; it must exceed the
    # send task's hard time limit, so an expired claim means a dead worker.
    "CLAIM_SECONDS": env.int("PUENTE_REMINDER_CLAIM_SECONDS", default=180),
    "SEND_SOFT_TIME_LIMIT": env.int("PUENTE_REMINDER_SEND_SOFT_TIME_LIMIT", default=45),
    "SEND_TIME_LIMIT": env.int("PUENTE_REMINDER_SEND_TIME_LIMIT", default=60),
    # After the SMTP server accepted a message, how long to keep trying to record it as
    # sent while the database is unreachable; within the send task's soft time limit.
    "SENT_MARK_RETRY_SECONDS": env.int("PUENTE_REMINDER_SENT_MARK_RETRY_SECONDS", default=15),
    # A pending reminder whose message has not been taken for this long (lost
    # broker message, worker killed) is queued again by the next sweep.
    "REQUEUE_AFTER": timedelta(seconds=env.int("PUENTE_REMINDER_REQUEUE_AFTER_SECONDS", default=600)),
}

CELERY_BEAT_SCHEDULE: dict = {
    "purge-expired-idempotency-keys": {
        "task": "api_core.purge_expired_idempotency_keys",
        "schedule": crontab(minute=17),
    },
    "handoffs-emit-overdue": {
        "task": "cases.tasks.handoffs.emit_overdue_handoffs",
        "schedule": 60.0,
        # A sweep that waited longer than its period is superseded by the next one.
        "options": {"expires": 55},
    },
    # Daily, at night in Lima and Santiago.
    "anonymise-closed-cases": {
        "task": "cases.tasks.retention.anonymise_closed_cases",
        "schedule": crontab(hour=7, minute=30),
    },
    "webhooks-dispatch": {"task": "integrations.dispatch_webhooks",
                          "schedule": env.float("PUENTE_WEBHOOK_DISPATCH_SECONDS", default=5.0)},
    # The statistics rollup follows the outbox: figures are at most a minute
    # (plus the run) behind the cases (docs/api/statistics.md).
    "statistics-refresh": {
        "task": "figures.tasks.refresh_statistics",
        "schedule": env.float("PUENTE_STATISTICS_REFRESH_SECONDS", default=60.0),
        "options": {"expires": 55},
    },
    "reminders-sweep": {
        "task": "reminders.sweep",
        "schedule": REMINDERS["SWEEP_INTERVAL"].total_seconds(),
        # A sweep nobody ran before the next one is due is worthless: drop it
        # rather than let a backlog pile up while the workers are down.
        "options": {"expires": REMINDERS["SWEEP_INTERVAL"].total_seconds()},
    },
}

# The periodic tasks have a queue of their own, which every worker consumes
# next to the default one (a worker started without -Q consumes every queue
# declared here, and takes from them in turn). On the default queue a sweep
# would wait behind every webhook delivery and reminder send queued before
# it, and expire unrun exactly when the system is busiest.
CELERY_TASK_DEFAULT_QUEUE = "celery"
PERIODIC_QUEUE = "periodic"
CELERY_TASK_QUEUES = (Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(PERIODIC_QUEUE))
CELERY_TASK_ROUTES = {entry["task"]: {"queue": PERIODIC_QUEUE} for entry in CELERY_BEAT_SCHEDULE.values()}

# --- Puente -----------------------------------------------------------------
PUENTE = {
    "HANDOFF_RESPONSE_HOURS": env.int("PUENTE_HANDOFF_RESPONSE_HOURS", default=72),
    # ``updated_since`` watermarks (api_core.sync) are this much earlier than the oldest
    # running transaction: the web servers' clock against the database's, and a save's
    # stamp against its transaction's start.
    "SYNC_CLOCK_MARGIN": timedelta(seconds=env.float("PUENTE_SYNC_CLOCK_MARGIN_SECONDS", default=2.0)),
    # Requests one token (or session) may have running at once; more answer 429.
    "MAX_CONCURRENT_REQUESTS": env.int("PUENTE_MAX_CONCURRENT_REQUESTS", default=2),
    # A crashed process never gives its slots back: they expire after this long.
    "CONCURRENCY_SLOT_SECONDS": env.int("PUENTE_CONCURRENCY_SLOT_SECONDS", default=120),
    # Seconds of server time one token (or session) may use a minute, and at
    # once beyond that pace; past them, 429 until it is back under (0: no budget).
    "SERVER_SECONDS_PER_MINUTE": env.float("PUENTE_SERVER_SECONDS_PER_MINUTE", default=15.0),
    "SERVER_SECONDS_BURST": env.float("PUENTE_SERVER_SECONDS_BURST", default=2.0),
    # ``?search=`` on the case list: at most this many words, each of this many characters.
    "SEARCH_MAX_WORDS": env.int("PUENTE_SEARCH_MAX_WORDS", default=6),
    # (One letter by default: "V 12345678" is how a Venezuelan document is often typed.)
    "SEARCH_MIN_WORD_LENGTH": env.int("PUENTE_SEARCH_MIN_WORD_LENGTH", default=1),
    "SEARCH_MAX_WORD_LENGTH": env.int("PUENTE_SEARCH_MAX_WORD_LENGTH", default=40),
    # Published to partners as "at least 24 hours"; a shorter setting is ignored.
    "IDEMPOTENCY_KEY_TTL": timedelta(hours=max(24, env.int("PUENTE_IDEMPOTENCY_TTL_HOURS", default=48))),
    # After this, a claimed key whose request never answered counts as abandoned
    # (its process died); far longer than any request may run.
    "IDEMPOTENCY_LOCK_TIMEOUT": timedelta(minutes=5),
    "RETENTION_YEARS": env.int("PUENTE_RETENTION_YEARS", default=5),
    # How long an API token lives when it is issued without an expiry date.
    "API_TOKEN_LIFETIME": timedelta(days=env.int("PUENTE_API_TOKEN_DAYS", default=90)),
    # Webhooks (integrations/). Seconds to wait after the 1st, 2nd… failed attempt: about a day in all.
    "WEBHOOK_RETRY_DELAYS": [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600],
    "WEBHOOK_TIMEOUT_SECONDS": env.float("PUENTE_WEBHOOK_TIMEOUT_SECONDS", default=10.0),
    # Deliveries that used up every retry in a row before the endpoint is switched off.
    "WEBHOOK_FAILURE_THRESHOLD": env.int("PUENTE_WEBHOOK_FAILURE_THRESHOLD", default=5),
    "WEBHOOK_SECRET_GRACE_HOURS": env.int("PUENTE_WEBHOOK_SECRET_GRACE_HOURS", default=24),
    "WEBHOOK_MAX_ENDPOINTS_PER_AGENCY": env.int("PUENTE_WEBHOOK_MAX_ENDPOINTS", default=20),
    # SSRF guard: non-public networks webhooks may reach anyway (CIDR list), and
    # whether plain http is allowed to localhost. Both closed unless set.
    "WEBHOOK_ALLOWED_NETWORKS": env.list("PUENTE_WEBHOOK_ALLOWED_NETWORKS", default=[]),
    "WEBHOOK_ALLOW_HTTP_LOCALHOST": env.bool("PUENTE_WEBHOOK_ALLOW_HTTP_LOCALHOST", default=False),
    # Statistics (figures/): counts from 1 to this minus one are never published;
    # weeks and months are the committee's, in this zone.
    "SUPPRESSION_THRESHOLD": max(2, env.int("PUENTE_SUPPRESSION_THRESHOLD", default=5)),
    "COMMITTEE_TIME_ZONE": env("PUENTE_COMMITTEE_TIME_ZONE", default="America/Lima"),
}

# --- Logging ----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    # Every sign-in attempt is a SignInEvent row already; axes would log each one again.
    "loggers": {"axes": {"level": "WARNING"}},
}
