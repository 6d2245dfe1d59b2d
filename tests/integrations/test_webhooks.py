from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks import Webhook

from incidents import services as incident_services
from integrations import outbound, tasks
from integrations.models import WebhookDelivery, WebhookEndpoint
from tests.factories import IncidentFactory, ServiceFactory
from tests.integrations.receiver import LocalReceiver
from tests.workers import wait_until


def endpoint(url="http://127.0.0.1:9/hook", types=("incident.triggered",), **kw):
    return outbound.webhook_endpoint_create(name="Ops", url=url, event_types=list(types), **kw)


def test_subscribed_event_writes_one_outbox_row(db):
    hook = endpoint(types=["incident.triggered", "incident.resolved"])
    endpoint(types=["incident.closed"])

    incident = IncidentFactory(title="Checkout down", service=ServiceFactory(name="Checkout"))

    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint, delivery.event_type, delivery.status) == (
        hook,
        "incident.triggered",
        "pending",
    )
    assert delivery.payload["data"]["incident"] == {
        "number": incident.number,
        "title": "Checkout down",
        "status": "triggered",
        "priority": 3,
        "priority_label": "P3",
        "is_major": False,
        "service": "Checkout",
        "team": None,
        "source": "web",
        "url": f"http://127.0.0.1:8000/incidents/{incident.number}/",
    }


def test_lifecycle_events_map_to_their_types(db, responder):
    endpoint(types=["incident.acknowledged", "incident.resolved", "incident.reopened"])
    incident = IncidentFactory()
    for action in ("acknowledge", "resolve", "reopen"):
        incident_services.incident_transition(
            incident=incident, action=action, by=responder, resolution_code="fixed", notes="n"
        )

    types = list(WebhookDelivery.objects.order_by("id").values_list("event_type", flat=True))
    assert types == ["incident.acknowledged", "incident.resolved", "incident.reopened"]


def test_other_apps_events_reach_subscribers(db, manager):
    """Kinds other apps record map to their outbound types: a renamed kind would
    silently stop those deliveries."""
    from postmortems import services as postmortem_services
    from statuspage import services as statuspage_services

    subscribed = ["incident.priority_changed", "incident.updated", "incident.closed",
                  "postmortem.published", "statuspage.published"]  # fmt: skip
    endpoint(types=subscribed)
    incident = IncidentFactory(impact=2, urgency=2)
    incident_services.incident_reclassify(incident=incident, by=manager, impact=1)
    incident_services.incident_update_details(incident=incident, by=manager, title="Renamed")
    statuspage_services.public_incident_publish(
        incident=incident, by=manager, title="Checkout errors", impact="minor"
    )
    incident_services.incident_transition(
        incident=incident, action="resolve", by=manager, resolution_code="fixed", notes="n"
    )
    incident_services.incident_transition(incident=incident, action="close", by=manager)
    # Resolving the P2 drafted its postmortem.
    postmortem = incident.postmortem
    postmortem_services.postmortem_update(postmortem=postmortem, by=manager, summary="Why.")
    for action in ("submit", "publish"):
        postmortem_services.postmortem_transition(
            postmortem=postmortem, action=action, by=manager, reviewers=[manager]
        )

    types = set(WebhookDelivery.objects.values_list("event_type", flat=True))
    assert types == set(subscribed)


def test_unknown_event_type_is_refused(db):
    with pytest.raises(Exception, match=r"Unknown event types: incident\.exploded"):
        endpoint(types=["incident.exploded"])


def test_delivery_is_signed_per_standard_webhooks_and_logged(db):
    with LocalReceiver(status=200) as receiver:
        hook = endpoint(url=receiver.url)
        incident = IncidentFactory(title="DB slow")
        delivery = WebhookDelivery.objects.get()

        status = outbound.webhook_deliver(delivery_id=delivery.pk)

    assert status == "succeeded"
    (request,) = receiver.requests
    payload = Webhook(hook.secret).verify(request.body, request.headers)
    assert payload["type"] == "incident.triggered"
    assert payload["data"]["incident"]["number"] == incident.number
    assert request.headers["webhook-id"] == delivery.message_id
    assert request.headers["webhook-signature"].startswith("v1,")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 1, 200)
    assert delivery.duration_ms is not None
    assert delivery.request_headers["webhook-id"] == delivery.message_id


def test_tampered_body_does_not_verify(db):
    with LocalReceiver() as receiver:
        hook = endpoint(url=receiver.url)
        IncidentFactory()
        outbound.webhook_deliver(delivery_id=WebhookDelivery.objects.get().pk)

    request = receiver.requests[0]
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(hook.secret).verify(request.body.replace(b"INC", b"INX"), request.headers)


def test_failed_delivery_retries_with_backoff_then_gives_up(db):
    with LocalReceiver(status=500) as receiver:
        endpoint(url=receiver.url)
        IncidentFactory()
        delivery = WebhookDelivery.objects.get()
        start = timezone.now()

        outbound.webhook_deliver(delivery_id=delivery.pk, now=start)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
        assert delivery.next_attempt_at >= start + timedelta(seconds=5)
        assert outbound.webhook_deliver(delivery_id=delivery.pk, now=start) is None  # not due

        moment = start
        for _ in range(len(outbound.BACKOFF)):
            moment += timedelta(hours=4)
            with time_machine.travel(moment):
                outbound.webhook_deliver(delivery_id=delivery.pk, now=moment)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", len(outbound.BACKOFF) + 1)
    assert len(receiver.requests) == len(outbound.BACKOFF) + 1
    assert delivery.error == "HTTP 500"


def test_endpoint_is_disabled_after_repeated_failures_with_a_notice(db, settings):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    with LocalReceiver(status=503) as receiver:
        hook = endpoint(url=receiver.url)
        for _ in range(4):
            IncidentFactory()
        for delivery in WebhookDelivery.objects.order_by("id"):
            outbound.webhook_deliver(delivery_id=delivery.pk)

    hook.refresh_from_db()
    assert not hook.enabled
    assert hook.disabled_reason == ("Disabled after 3 failed deliveries in a row (last: HTTP 503).")
    assert len(receiver.requests) == 3
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}
    IncidentFactory()
    assert WebhookDelivery.objects.count() == 4  # a disabled endpoint gets no new rows


def test_a_success_resets_the_failure_count(db, settings):
    with LocalReceiver(status=500) as receiver:
        hook = endpoint(url=receiver.url)
        IncidentFactory()
        IncidentFactory()
        first, second = WebhookDelivery.objects.order_by("id")
        outbound.webhook_deliver(delivery_id=first.pk)
        receiver.status = 204
        outbound.webhook_deliver(delivery_id=second.pk)

    hook.refresh_from_db()
    assert hook.consecutive_failures == 0


def test_unreachable_endpoint_is_a_failed_attempt(db):
    endpoint(url="http://127.0.0.1:9/hook")  # discard port: nothing listens
    IncidentFactory()
    delivery = WebhookDelivery.objects.get()

    outbound.webhook_deliver(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code) == ("pending", None)
    assert delivery.error.startswith("Connection failed")


def test_slack_compatible_chat_message(db):
    with LocalReceiver() as receiver:
        endpoint(url=receiver.url, kind="slack")
        incident = IncidentFactory(title="Payments failing")
        outbound.webhook_deliver(delivery_id=WebhookDelivery.objects.get().pk)

    message = receiver.requests[0].json()
    url = f"http://127.0.0.1:8000/incidents/{incident.number}/"
    assert message["text"] == (
        f"{incident.number} triggered: Payments failing (P3, triggered) <{url}|Open>"
    )
    assert message["blocks"][1]["fields"][0] == {"type": "mrkdwn", "text": "*Priority:* P3"}
    assert "webhook-signature" not in receiver.requests[0].headers


def test_sweeper_finds_due_rows(db, monkeypatch):
    endpoint()
    IncidentFactory()
    sent = []
    monkeypatch.setattr(
        tasks.deliver_webhook, "apply_async", lambda kwargs, retry: sent.append(kwargs)
    )

    assert outbound.webhooks_sweep() == 1
    assert sent == [{"delivery_id": WebhookDelivery.objects.get().pk}]


@pytest.mark.worker
def test_real_worker_delivers_after_commit(celery_worker, monkeypatch):
    monkeypatch.setattr(tasks.deliver_webhook, "queue", celery_worker.queue, raising=False)
    monkeypatch.setattr(tasks.deliver_webhook, "_exec_options", None, raising=False)
    with LocalReceiver() as receiver:
        hook = endpoint(url=receiver.url)
        IncidentFactory(title="Worker delivered")

        wait_until(lambda: receiver.requests, timeout=30)

    payload = Webhook(hook.secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert payload["data"]["incident"]["title"] == "Worker delivered"
    wait_until(lambda: WebhookDelivery.objects.get().status == "succeeded", timeout=10)
    assert WebhookEndpoint.objects.get().consecutive_failures == 0
