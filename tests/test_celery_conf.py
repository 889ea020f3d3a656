"""``celery inspect conf`` shows no secret: Celery's configuration holds only
the ``CELERY_`` settings (config/celery.py), and the broker's URL masked."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What a worker answers to ``celery inspect conf`` (celery.worker.control.conf), with and without defaults.
REPORT = """
import json, types, django
django.setup()
from celery.worker.control import conf
from config.celery import app
state = types.SimpleNamespace(app=app)
print(json.dumps({"plain": conf(state), "defaults": conf(state, with_defaults=True),
                  "broker_url": app.conf.broker_url, "routes": sorted(app.conf.task_routes)}, default=str))
"""


def _report(**env):
    result = subprocess.run([sys.executable, "-c", REPORT], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_the_conf_a_worker_reports_has_no_password():
    report = _report(REDIS_URL="redis://:redis-Pa55word@127.0.0.1:6379/2",
                     DATABASE_URL="postgres://postgres:db-Pa55word@127.0.0.1:5432/puente_h2")
    text = json.dumps([report["plain"], report["defaults"]])
    assert "redis-Pa55word" not in text and "db-Pa55word" not in text
    assert report["plain"]["broker_url"] == "redis://:********@127.0.0.1:6379/2"
    assert "REDIS_URL" not in report["plain"] and "CACHES" not in report["plain"]
    # The worker itself still has the password it needs, and every CELERY_ setting.
    assert report["broker_url"] == "redis://:redis-Pa55word@127.0.0.1:6379/2"
    assert "reminders.sweep" in report["routes"]
    assert report["plain"]["task_acks_late"] is True
