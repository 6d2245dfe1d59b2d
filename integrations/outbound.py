"""Outbound webhooks: the outbox rows, their delivery by workers, and the transports.

A delivery row is written in the transaction of the incident event (receivers.py); a
worker claims it with a lease (a compare-and-set on next_attempt_at), POSTs outside any
transaction, then records the answer. A worker killed mid-request leaves the lease to
expire and the beat sweeper tries again: delivery is at least once, and `webhook-id`
lets receivers drop repeats, as the Standard Webhooks spec expects.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from incidents.models import Incident, TimelineEvent
from integrations.enums import EVENT_TYPES, DeliveryStatus, EndpointKind
from integrations.models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

# Seconds before attempt n+1 (Standard Webhooks suggests about this schedule).
BACKOFF = (5, 30, 120, 600, 1800, 3600, 3 * 3600)
LEASE = timedelta(seconds=120)  # longer than the request timeout
TIMEOUT = 10
USER_AGENT = "Vigil-Webhooks/1"

TRANSITION_TYPES = {
    "acknowledge": "incident.acknowledged",
    "resolve": "incident.resolved",
    "close": "incident.closed",
    "reopen": "incident.reopened",
}
KIND_TYPES = {
    "created": "incident.triggered",
    "priority_changed": "incident.priority_changed",
    "updated": "incident.updated",
    "escalated": "incident.escalated",
    "postmortem_published": "postmortem.published",
    "published": "statuspage.published",
}


def event_type_for(event: TimelineEvent) -> str | None:
    if event.kind == "transitioned":
        return TRANSITION_TYPES.get(event.data.get("action"))
    return KIND_TYPES.get(event.kind)


def incident_url(incident: Incident) -> str:
    return f"{settings.BASE_URL}/incidents/{incident.number}/"


def event_payload(event: TimelineEvent, event_type: str) -> dict:
    incident = event.incident
    return {
        "type": event_type,
        "timestamp": event.created_at.isoformat(),
        "data": {
            "incident": {
                "number": incident.number,
                "title": incident.title,
                "status": incident.status,
                "priority": incident.priority,
                "priority_label": f"P{incident.priority}",
                "is_major": incident.is_major,
                "service": incident.service.name if incident.service_id else None,
                "team": incident.team.name if incident.team_id else None,
                "source": incident.source,
                "url": incident_url(incident),
            },
            "event": {
                "id": event.pk,
                "kind": event.kind,
                "actor": event.actor_name,
                "data": event.data,
            },
        },
    }


def webhooks_enqueue(*, event: TimelineEvent) -> list[WebhookDelivery]:
    """Outbox rows for the endpoints subscribed to this event (inside its transaction)."""
    # An import inside the function: tasks imports this module.
    from config.celery import enqueue_on_commit
    from integrations.tasks import deliver_webhook

    event_type = event_type_for(event)
    if event_type is None:
        return []
    # Few endpoints: filtering the list here also works on SQLite, which has no JSON @>.
    endpoints = [e for e in WebhookEndpoint.objects.filter(enabled=True)
                 if event_type in e.event_types]  # fmt: skip
    if not endpoints:
        return []
    payload = json.loads(json.dumps(event_payload(event, event_type), cls=DjangoJSONEncoder))
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint,
            incident=event.incident,
            event_type=event_type,
            message_id=f"msg_{uuid.uuid4().hex}",
            payload=payload,
        )
        for endpoint in endpoints
    )
    for delivery in deliveries:
        enqueue_on_commit(deliver_webhook, delivery_id=delivery.pk)
    return deliveries


# --- Transports --------------------------------------------------------------------------


class DeliveryError(Exception):
    def __init__(self, message: str, *, code: int | None = None, body: str = ""):
        super().__init__(message)
        self.code, self.body = code, body


@dataclass
class Answer:
    code: int
    body: str


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature` per the Standard Webhooks spec: v1,base64(HMAC-SHA256)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def slack_message(payload: dict) -> dict:
    """A Slack incoming-webhook message (Mattermost and Rocket.Chat read it too)."""
    incident, event_type = payload["data"]["incident"], payload["type"]
    what = event_type.split(".", 1)[1].replace("_", " ")
    headline = f"{incident['number']} {what}: {incident['title']}"
    fields = [
        f"*Priority:* {incident['priority_label']}",
        f"*Status:* {incident['status']}",
        f"*Service:* {incident['service'] or '-'}",
    ]
    return {
        "text": f"{headline} ({incident['priority_label']}, {incident['status']}) "
        f"<{incident['url']}|Open>",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*<{incident['url']}|"
                                         f"{incident['number']}>* {what}: {incident['title']}"}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
        ],
    }  # fmt: skip


def _request(delivery: WebhookDelivery) -> tuple[bytes, dict[str, str]]:
    endpoint = delivery.endpoint
    payload = delivery.payload
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if endpoint.kind == EndpointKind.SLACK:
        return json.dumps(slack_message(payload)).encode(), headers
    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers["webhook-id"] = delivery.message_id
    headers["webhook-timestamp"] = str(timestamp)
    headers["webhook-signature"] = sign(endpoint.secret, delivery.message_id, timestamp, body)
    return body, headers


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float = TIMEOUT) -> Answer:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Answer(response.status, response.read(2000).decode(errors="replace"))
    except urllib.error.HTTPError as error:
        text = error.read(2000).decode(errors="replace")
        raise DeliveryError(f"HTTP {error.code}", code=error.code, body=text) from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"Connection failed: {reason}") from error


# --- Delivery ----------------------------------------------------------------------------


def _claim(delivery_id: int, now: datetime) -> WebhookDelivery | None:
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        if not delivery.endpoint.enabled:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            delivery.error = "Endpoint disabled."
            delivery.save(update_fields=["status", "next_attempt_at", "error"])
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + LEASE
        delivery.last_attempt_at = now
        delivery.save(update_fields=["attempts", "next_attempt_at", "last_attempt_at"])
        return delivery


def webhook_deliver(*, delivery_id: int, now: datetime | None = None) -> str | None:
    """One attempt at one delivery; returns its status, or None if it was not due."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    body, headers = _request(delivery)
    started = time.monotonic()
    try:
        answer = http_post(delivery.endpoint.url, body, headers)
        error = None
    except DeliveryError as failure:
        answer, error = Answer(failure.code or 0, failure.body), failure
    duration = int((time.monotonic() - started) * 1000)
    return _record(delivery, headers, answer, error, duration)


@transaction.atomic
def _record(delivery, headers, answer: Answer, error, duration: int) -> str:
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    now = timezone.now()
    delivery.request_headers = {k: v for k, v in headers.items() if k != "webhook-signature"}
    delivery.response_code = answer.code or None
    delivery.response_body = answer.body[:2000]
    delivery.duration_ms = duration
    delivery.error = str(error)[:500] if error else ""
    if error is None:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.next_attempt_at = None
        endpoint.consecutive_failures = 0
    else:
        endpoint.consecutive_failures = F("consecutive_failures") + 1
        if delivery.attempts > len(BACKOFF):
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = now + timedelta(seconds=BACKOFF[delivery.attempts - 1])
    delivery.save()
    endpoint.save(update_fields=["consecutive_failures"])
    endpoint.refresh_from_db(fields=["consecutive_failures"])
    limit = settings.WEBHOOK_DISABLE_AFTER_FAILURES
    if error is not None and endpoint.enabled and endpoint.consecutive_failures >= limit:
        _disable(endpoint, f"Disabled after {limit} failed deliveries in a row (last: {error}).")
    elif error is not None and delivery.status == DeliveryStatus.PENDING:
        from config.celery import enqueue_on_commit  # tasks imports this module
        from integrations.tasks import deliver_webhook

        # Faster than the sweeper for short backoffs; the row's due time stays the truth.
        enqueue_on_commit(deliver_webhook, delivery_id=delivery.pk)
    return delivery.status


def _disable(endpoint: WebhookEndpoint, reason: str) -> None:
    endpoint.enabled = False
    endpoint.disabled_reason = reason[:300]
    endpoint.disabled_at = timezone.now()
    endpoint.save(update_fields=["enabled", "disabled_reason", "disabled_at"])
    WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None, error="Endpoint disabled."
    )
    logger.warning("Webhook endpoint %s (%s): %s", endpoint.pk, endpoint.url, reason)


@transaction.atomic
def webhook_endpoint_create(*, name: str, url: str, event_types: list[str], kind: str = "standard"):
    endpoint = WebhookEndpoint(name=name, url=url, event_types=event_types, kind=kind)
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Turn a disabled endpoint back on (its failure count starts again)."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=True, consecutive_failures=0, disabled_reason="", disabled_at=None
    )
    endpoint.refresh_from_db()
    return endpoint


def webhooks_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Enqueue due deliveries whose message was lost or whose retry time has come."""
    from integrations.tasks import deliver_webhook  # tasks imports this module

    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        try:
            deliver_webhook.apply_async(kwargs={"delivery_id": pk}, retry=False)
        except Exception:  # the broker is away: run it here rather than not at all
            logger.warning("Broker unavailable; delivering %s in the sweeper", pk)
            webhook_deliver(delivery_id=pk, now=now)
    return len(due)


__all__ = ["EVENT_TYPES", "webhook_deliver", "webhooks_enqueue", "webhooks_sweep"]
