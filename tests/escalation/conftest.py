import json
import socket
import threading
import time
from datetime import UTC, datetime
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine

from config.celery import app
from tests.factories import TeamFactory, UserFactory
from tests.workers import RedisServer

ENGINE_QUEUE = "escalation"
START = datetime(2026, 1, 7, 10, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def messages(incident, kind):
    return [e.data["message"] for e in incident.timeline.filter(kind=kind).order_by("id")]


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def carol(db):
    return UserFactory(username="carol")


@pytest.fixture
def team(alice, bob, manager):
    return TeamFactory(name="Payments", slug="payments", members=[alice, bob], manager=manager)


class SmtpSink:
    """A real SMTP server on a local socket (aiosmtpd in a thread) that keeps what it gets."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.refuse: str | None = None
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                if sink.refuse:
                    return sink.refuse
                sink.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        with socket.socket() as probe:  # aiosmtpd checks its own port, so it needs a real one
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()


@pytest.fixture
def smtp(settings):
    sink = SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield sink
    sink.stop()


class HookServer:
    """A local HTTP server that records POSTs and answers with the status it is told."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.delay = 0.0  # seconds before answering: a slow far side
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.delay:
                    time.sleep(hook.delay)
                hook.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "json": json.loads(body),
                        "at": time.time(),
                    }
                )
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    server = HookServer().start()
    yield server
    server.stop()


@pytest.fixture
def broker(tmp_path, settings):
    """A private Redis as broker and cache of this test process and of its workers."""
    server = RedisServer(tmp_path / "redis.log").start()
    settings.ESCALATION_ENGINE_QUEUE = ENGINE_QUEUE
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
        }
    }
    previous = app.conf.broker_url
    app.conf.broker_url = server.url
    app._after_fork()  # drops the pooled connections to the previous broker
    yield server
    app.conf.broker_url = previous
    app._after_fork()
    server.stop()
