"""Project-wide checks: migrations in step, a clean schema, deploy settings."""
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_models_and_migrations_are_in_step():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_the_openapi_schema_validates_without_warnings(tmp_path):
    schema = tmp_path / "openapi.yaml"
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(schema)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
    )
    assert result.returncode == 0, result.stderr
    assert "/api/v1/me/" in schema.read_text()


def test_production_settings_pass_the_deploy_check():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "a" * 20 + "-production-secret-key-with-enough-entropy-9f8e7d6c5b4a",
        "DJANGO_ALLOWED_HOSTS": "puente.example.org",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/puente"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests' process only, never in production
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, capture_output=True, text=True, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", "DJANGO_ALLOWED_HOSTS": "x"})
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_periodic_tasks_have_a_queue_every_worker_consumes():
    """A sweep must not wait behind a backlog of deliveries on the default
    queue: every beat task goes to the periodic queue, and a worker started
    without -Q consumes both queues."""
    from django.conf import settings

    from config.celery import app

    periodic = settings.PERIODIC_QUEUE
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "reminders.sweep" in tasks
    for name in tasks:
        assert app.amqp.router.route({}, name)["queue"].name == periodic, name
    assert app.amqp.router.route({}, "integrations.deliver_webhook")["queue"].name == settings.CELERY_TASK_DEFAULT_QUEUE
    assert {periodic, settings.CELERY_TASK_DEFAULT_QUEUE} <= set(app.amqp.queues)


def test_production_settings_keep_every_sign_in_guard():
    """No setting switches the second factor, the lockout or the session limits
    off in production: the admin site, the middleware and the backends are there."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "a" * 20 + "-production-secret-key-with-enough-entropy-9f8e7d6c5b4a",
        "DJANGO_ALLOWED_HOSTS": "puente.example.org",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/puente"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    }
    probe = (
        "from django.conf import settings; from django.contrib import admin; "
        "print(admin.site.__class__.__name__, settings.AXES_ENABLED, settings.AUTHENTICATION_BACKENDS[0], "
        "'django_otp.middleware.OTPMiddleware' in settings.MIDDLEWARE, "
        "'signin.middleware.SessionLimitsMiddleware' in settings.MIDDLEWARE, "
        "'axes.middleware.AxesMiddleware' in settings.MIDDLEWARE, "
        "settings.OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN, settings.SESSION_COOKIE_SECURE, "
        "settings.REST_FRAMEWORK['DEFAULT_AUTHENTICATION_CLASSES'][-1])"
    )
    result = subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c", probe], cwd=ROOT,
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "StaffAdminSite", "True", "signin.backends.SignInLockoutBackend", "True", "True", "True", "False", "True",
        "signin.authentication.VerifiedSessionAuthentication",
    ]
