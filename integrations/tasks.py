"""Celery tasks of partner integration. Beat runs ``dispatch_webhooks`` every
few seconds; it queues one ``deliver_webhook`` per due delivery. Tasks take
ids and are idempotent: the delivery claim decides who sends."""
import smtplib

from celery import shared_task

from . import services


@shared_task(name="integrations.dispatch_webhooks", ignore_result=True)
def dispatch_webhooks():
    return services.webhooks_dispatch()


@shared_task(name="integrations.deliver_webhook", ignore_result=True)
def deliver_webhook(delivery_id):
    return services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="integrations.notify_endpoint_disabled", bind=True, ignore_result=True, max_retries=6)
def notify_endpoint_disabled(self, endpoint_id):
    try:
        return services.endpoint_notify_disabled(endpoint_id=endpoint_id)
    except (smtplib.SMTPException, OSError) as exc:
        raise self.retry(exc=exc, countdown=min(60 * 2 ** self.request.retries, 1800)) from exc
