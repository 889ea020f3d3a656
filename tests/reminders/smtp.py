"""A real SMTP server on loopback (aiosmtpd) for reminder tests: it keeps the
messages it accepted, and can refuse or hold the next attempts."""
import asyncio
import logging
import socket
import threading
import time
from contextlib import contextmanager
from email import message_from_bytes
from email.policy import default as default_policy

from aiosmtpd.controller import Controller


class Mailbox:
    def __init__(self):
        self.messages = []
        self.attempts = 0
        self.refuse = 0  # answer 451 to this many next messages
        self.hold = 0  # keep this many next messages waiting until the client goes away
        self.holding = threading.Event()
        self.delay = 0.0  # seconds to wait before accepting, to widen races
        self.on_accept = None  # called as a message is accepted, before the client hears so

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        if self.hold:
            self.hold -= 1
            self.holding.set()
            # Cancelled by aiosmtpd when the client disconnects: never accepted.
            await asyncio.sleep(120)
            return "451 4.3.0 Held too long"
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content,
                                                policy=default_policy))
        if self.on_accept:
            self.on_accept()
        return "250 2.0.0 Accepted"

    def to(self, address: str) -> list:
        return [message for message in self.messages if message["To"] == address]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server():
    """Yields (mailbox, port)."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def wait_for(predicate, *, timeout: float, interval: float = 0.1):
    """Poll until ``predicate()`` is truthy; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()
