import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from incidents import services as incident_services
from statuspage import notify, services, tasks
from statuspage.models import Notification, Subscriber
from tests.statuspage.conftest import SECRET, free_port, internal_notes
from tests.workers import WorkerProcess, wait_until

pytestmark = pytest.mark.django_db


def subscribe(client, email, components=()):
    return client.post("/status/subscribe/", {"email": email, "components": list(components)})


def confirmed(email, components=()):
    subscriber = Subscriber.objects.create(kind="email", email=email, confirmed_at=timezone.now())
    subscriber.components.set(components)
    return subscriber


def test_subscribe_sends_a_confirmation_and_confirming_activates(client, api_component):
    form = client.get("/status/subscribe/")
    assert "csrftoken" in form.cookies  # the one public page allowed a cookie

    response = subscribe(client, "Ann@Example.com", [api_component.pk])

    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.confirmed_at) == ("ann@example.com", None)
    assert list(subscriber.components.all()) == [api_component]
    note = Notification.objects.get()
    assert note.subject.endswith("Confirm your subscription")
    link = re.search(r"http://\S+/confirm/", note.text).group(0)

    page = client.get(link.split("8000", 1)[1])
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is not None
    assert "Your subscription is confirmed." in page.content.decode()
    assert not page.cookies


def test_subscribe_does_not_reveal_known_addresses(client):
    confirmed("known@example.com")
    subscribe(client, "pending@example.com")

    new = subscribe(client, "new@example.com")
    known = subscribe(client, "known@example.com")
    pending = subscribe(client, "pending@example.com")

    assert new.status_code == known.status_code == pending.status_code == 200
    assert new.content == known.content == pending.content
    assert Subscriber.objects.filter(email="known@example.com").count() == 1
    subjects = sorted(n.subject.split("] ")[1] for n in Notification.objects.all())
    assert subjects == [
        "Confirm your subscription",
        "Confirm your subscription",
        "Confirm your subscription",
        "You are already subscribed",
    ]


def test_subscribe_is_rate_limited(client, settings):
    settings.STATUSPAGE_SUBSCRIBE_RATE = (2, 600)
    assert subscribe(client, "a@example.com").status_code == 200
    assert subscribe(client, "b@example.com").status_code == 200
    limited = subscribe(client, "c@example.com")
    assert limited.status_code == 429
    assert limited["Retry-After"] == "600"
    assert not Subscriber.objects.filter(email="c@example.com").exists()


def test_public_updates_notify_matching_confirmed_subscribers_only(
    publish, incident, responder, api_component, web_component
):
    everything = confirmed("all@example.com")
    api_only = confirmed("api@example.com", [api_component])
    confirmed("web@example.com", [web_component])
    Subscriber.objects.create(kind="email", email="unconfirmed@example.com")

    publish(incident, components=[{"component": api_component.pk, "status": "major_outage"}])
    internal_notes(incident, responder)
    incident_services.update_post(
        incident=incident, by=responder, visibility="public", status="resolved", body="All good."
    )

    rows = Notification.objects.select_related("subscriber")
    assert sorted(n.subscriber.email for n in rows) == sorted(
        [everything.email, api_only.email] * 2
    )
    for row in rows:
        assert SECRET not in row.text and SECRET not in json.dumps(row.payload)
        assert "INC-" not in row.text
        assert "/status/subscriptions/" in row.text
    texts = [n.text for n in rows]
    assert any("All good." in t for t in texts) and any("API: major_outage" in t for t in texts)


def test_private_incident_events_notify_nobody(private_incident, responder):
    confirmed("all@example.com")
    internal_notes(private_incident, responder)
    incident_services.update_post(
        incident=private_incident, by=responder, visibility="public", body=f"public? {SECRET}"
    )
    assert not Notification.objects.exists()


def test_email_delivered_over_smtp_with_one_click_unsubscribe(
    client, smtp_server, publish, incident, api_component
):
    subscriber = confirmed("ann@example.com")
    publish(incident, components=[{"component": api_component.pk, "status": "partial_outage"}])
    note = Notification.objects.get()

    assert notify.notification_deliver(notification_id=note.pk) == "sent"

    note.refresh_from_db()
    assert (note.state, note.attempts) == ("sent", 1)
    [message] = smtp_server.messages
    assert message["To"] == "ann@example.com"
    assert "Elevated API errors" in message["Subject"]
    assert "We are looking into errors." in smtp_server.bodies()[0]
    assert SECRET not in message.as_string()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip("<>").split("8000", 1)[1]
    # A second delivery of the same row sends nothing.
    assert notify.notification_deliver(notification_id=note.pk) is None
    assert len(smtp_server.messages) == 1

    response = client.post(
        unsubscribe, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert not Subscriber.objects.filter(pk=subscriber.pk).exists()


def test_unsubscribe_from_some_components(client, api_component, web_component):
    subscriber = confirmed("ann@example.com")
    manage = client.get(f"/status/subscriptions/{subscriber.token}/")
    assert manage.status_code == 200 and not manage.cookies

    response = client.post(
        f"/status/subscriptions/{subscriber.token}/unsubscribe/", {"components": [web_component.pk]}
    )

    assert "You now hear only about: Website." in response.content.decode()
    assert list(subscriber.components.all()) == [web_component]
    assert client.get("/status/subscriptions/wrong-token/").status_code == 404


def test_smtp_failure_is_retried_with_backoff(settings, smtp_server, publish, incident):
    confirmed("ann@example.com")
    publish(incident)
    note = Notification.objects.get()
    real_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there

    assert notify.notification_deliver(notification_id=note.pk) == "pending"
    note.refresh_from_db()
    assert (note.state, note.attempts) == ("pending", 1)
    assert "SMTP" in note.last_error and note.next_at > timezone.now()
    assert tasks.sweep_notifications() == 0  # not due yet

    settings.EMAIL_PORT = real_port
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert tasks.sweep_notifications() == 1
    note.refresh_from_db()
    assert (note.state, note.attempts) == ("sent", 2)
    assert len(smtp_server.messages) == 1


class Hook(BaseHTTPRequestHandler):
    answers: list[int] = []
    received: list[dict] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append(json.loads(body))
        self.send_response(Hook.answers.pop(0) if Hook.answers else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook_server():
    Hook.answers, Hook.received = [], []
    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", Hook
    server.shutdown()


def test_webhook_subscriber_gets_statuspage_payload_with_retry(
    api, manager, webhook_server, publish, incident
):
    url, hook = webhook_server
    created = api.as_user(manager).post("/api/v1/status-webhooks/", {"url": url}, format="json")
    assert created.status_code == 201, created.content
    hook.answers = [503]
    publish(incident)
    note = Notification.objects.get()

    assert notify.notification_deliver(notification_id=note.pk) == "pending"
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert notify.notification_deliver(notification_id=note.pk) == "sent"

    assert len(hook.received) == 2
    payload = hook.received[-1]
    assert set(payload) == {"page", "incident", "meta"}
    assert payload["incident"]["name"] == "Elevated API errors"
    assert SECRET not in json.dumps(payload)


def test_webhook_client_error_is_not_retried(webhook_server, publish, incident):
    url, hook = webhook_server
    services.webhook_subscriber_create(url=url)
    hook.answers = [410]
    publish(incident)
    note = Notification.objects.get()
    assert notify.notification_deliver(notification_id=note.pk) == "failed"
    note.refresh_from_db()
    assert note.state == "failed" and note.last_error == "HTTP 410"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_the_outbox(smtp_server, monkeypatch, tmp_path, publish, incident):
    monkeypatch.setenv("EMAIL_URL", f"smtp://127.0.0.1:{smtp_server.port}")
    worker = WorkerProcess(tmp_path / "worker.log").start()
    try:
        confirmed("ann@example.com")
        publish(incident)
        tasks.sweep_notifications.apply_async(queue=worker.queue)
        wait_until(lambda: Notification.objects.filter(state="sent").exists(), timeout=60)
    finally:
        worker.stop()
    assert len(smtp_server.messages) == 1
    assert "Elevated API errors" in smtp_server.messages[0]["Subject"]


def test_locmem_outbox_for_confirmation(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    subscribe(client, "bob@example.com")
    tasks.sweep_notifications()
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]
    assert "/confirm/" in mail.outbox[0].body
