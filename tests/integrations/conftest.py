"""Fixtures for partner integration: a real HTTP receiver on loopback,
events in the outbox, webhook endpoints, Celery running tasks in process."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from config.celery import app as celery_app
from integrations import signing
from integrations.feed import feed_head
from integrations.models import WebhookEndpoint
from outbox.services import emit
from tests.factories import CaseFactory


class Receiver:
    """A partner's webhook receiver: records every request, answers with the
    statuses it is told (then 204), optionally after a delay."""

    def __init__(self):
        self.requests = []
        self.statuses = []
        self.delay = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    status = receiver.statuses.pop(0) if receiver.statuses else 204
                time.sleep(receiver.delay)
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/puente"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, *statuses):
        self.statuses.extend(statuses)

    def bodies(self):
        return [json.loads(request["body"]) for request in self.requests]

    def wait_for(self, count, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.requests) < count:
            time.sleep(0.05)
        return len(self.requests)


@pytest.fixture
def receiver():
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def verify_request(request, secret, *, now=None):
    headers = {key.lower(): value for key, value in request["headers"].items()}
    return signing.verify(secret, headers["webhook-id"], int(headers["webhook-timestamp"]), request["body"],
                          headers["webhook-signature"], now=now if now is not None else int(time.time()))


@pytest.fixture
def make_endpoint(db):
    """An endpoint of ``agency``, receiving events written from now on."""

    def make(agency, url="https://hooks.partner.example/puente", **fields):
        fields.setdefault("secret", signing.generate_secret())
        return WebhookEndpoint.objects.create(agency=agency, url=url, feed_position=feed_head(), **fields)

    return make


@pytest.fixture
def make_event(db):
    """``make_event(type, agencies…)`` writes an outbox event on a fresh case
    owned by the first agency, as the services do."""

    def make(event_type, *agencies, case=None):
        case = case or CaseFactory(owner_agency=agencies[0])
        return emit(event_type, obj=case, case=case, agencies=agencies)

    return make


@pytest.fixture
def celery_eager():
    """Tasks queued on commit run in this process (the end-to-end test runs a real worker)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_eager_propagates = False


@pytest.fixture
def webhook_settings(settings):
    """``webhook_settings(KEY=value)`` changes PUENTE's webhook settings for one test."""

    def change(**values):
        settings.PUENTE = {**settings.PUENTE, **values}

    return change
