"""A Celery worker told to stop (SIGTERM) finishes the task it holds before exiting."""

import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations import outbound, tasks
from integrations.models import WebhookDelivery
from tests.factories import IncidentFactory

pytestmark = [pytest.mark.chaos, pytest.mark.worker]


class SlowReceiver:
    """A webhook receiver that takes `delay` seconds to answer 200."""

    def __init__(self, delay: float):
        self.started = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.started.set()
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_worker_finishes_the_delivery_it_holds_on_sigterm(celery_worker, monkeypatch):
    monkeypatch.setattr(tasks.deliver_webhook, "queue", celery_worker.queue, raising=False)
    monkeypatch.setattr(tasks.deliver_webhook, "_exec_options", None, raising=False)
    receiver = SlowReceiver(delay=3)
    try:
        outbound.webhook_endpoint_create(
            name="Ops", url=receiver.url, event_types=["incident.triggered"]
        )
        IncidentFactory(title="Held through a shutdown")
        assert receiver.started.wait(30)  # the worker is inside the delivery

        celery_worker.process.send_signal(signal.SIGTERM)
        exit_code = celery_worker.process.wait(30)
    finally:
        receiver.close()

    assert exit_code == 0
    assert WebhookDelivery.objects.get().status == "succeeded"
