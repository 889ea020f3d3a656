"""Settings of the Celery worker (and of the drill's own process) in the fault
drills (``bench.drill_faults``): the development settings with the webhook
receiver on loopback allowed, and the time limits shortened in the same
proportions as production, so a dead worker's claims run out in seconds
rather than minutes. Never used by a deployment."""
from config.settings.local import *  # noqa: F401,F403
from config.settings.local import PUENTE, env

DEBUG = False
CELERY_TASK_TIME_LIMIT = 10
CELERY_TASK_SOFT_TIME_LIMIT = 8
CELERY_BEAT_SCHEDULE_FILENAME = env("PUENTE_DRILL_BEAT_FILE", default="/tmp/puente-drill-celerybeat-schedule")
PUENTE = {
    **PUENTE,
    "WEBHOOK_ALLOWED_NETWORKS": ["127.0.0.0/8"],
    "WEBHOOK_ALLOW_HTTP_LOCALHOST": True,
    "WEBHOOK_RETRY_DELAYS": [1, 2, 4, 8, 16, 32, 64],
}
