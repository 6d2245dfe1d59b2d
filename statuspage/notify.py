"""Subscriber notifications: outbox rows written in the change's transaction, delivered by
workers (`tasks.deliver_notification`, swept by `tasks.sweep_notifications`) with retries.

Everything a notification says comes from the public rows (PublicIncident, PublicUpdate,
Maintenance), never from the incident itself.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from config.celery import enqueue_on_commit
from statuspage import tasks, v2
from statuspage.enums import NotificationState, SubscriberKind
from statuspage.models import (
    Maintenance,
    MaintenanceUpdate,
    Notification,
    PageSettings,
    PublicIncident,
    PublicUpdate,
    Subscriber,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
LEASE = timedelta(minutes=5)  # a claimed row whose worker died is retried after this


def absolute(path: str) -> str:
    return settings.BASE_URL + path


def _page() -> PageSettings:
    return PageSettings.objects.order_by("pk").first() or PageSettings()


def _audience(component_ids: Iterable[int]) -> list[Subscriber]:
    """Confirmed subscribers to everything, or to any of these components."""
    ids = list(component_ids)
    return list(
        Subscriber.objects.filter(confirmed_at__isnull=False)
        .filter(Q(components__isnull=True) | Q(components__in=ids))
        .distinct()
    )


def _queue(rows: list[Notification]) -> None:
    for row in Notification.objects.bulk_create(rows):
        enqueue_on_commit(tasks.deliver_notification, notification_id=row.pk)


def _fan_out(*, subject: str, text_template: str, context: dict, payload: dict, ids) -> None:
    page = _page()
    rows = []
    for subscriber in _audience(ids):
        manage = absolute(reverse("statuspage:manage", args=[subscriber.token]))
        text = render_to_string(text_template, {**context, "page": page, "manage_url": manage})
        rows.append(
            Notification(
                subscriber=subscriber,
                subject=f"[{page.name}] {subject}",
                text=text,
                payload={**payload, "meta": {"unsubscribe": manage}},
            )
        )
    _queue(rows)


def incident_update(*, public: PublicIncident, update: PublicUpdate) -> None:
    if public.incident.is_private:
        return
    ids = public.components.values_list("pk", flat=True)
    _fan_out(
        subject=f"{public.name}: {update.get_status_display()}",
        text_template="statuspage/email/incident_update.txt",
        context={
            "incident": public,
            "update": update,
            "url": absolute(reverse("statuspage:incident", args=[public.code])),
        },
        payload={"page": v2.page_json(_page()), "incident": v2.incident_json(public)},
        ids=ids,
    )


def maintenance_update(*, maintenance: Maintenance, update: MaintenanceUpdate) -> None:
    _fan_out(
        subject=f"{maintenance.name}: {update.get_status_display()}",
        text_template="statuspage/email/maintenance_update.txt",
        context={
            "maintenance": maintenance,
            "update": update,
            "url": absolute(reverse("statuspage:maintenance", args=[maintenance.code])),
        },
        payload={
            "page": v2.page_json(_page()),
            "scheduled_maintenance": v2.maintenance_json(maintenance),
        },
        ids=maintenance.components.values_list("pk", flat=True),
    )


def _direct(subscriber: Subscriber, subject: str, template: str, **context) -> None:
    page = _page()
    text = render_to_string(template, {**context, "page": page, "subscriber": subscriber})
    _queue([Notification(subscriber=subscriber, subject=f"[{page.name}] {subject}", text=text)])


def confirm_subscription(*, subscriber: Subscriber) -> None:
    _direct(
        subscriber,
        "Confirm your subscription",
        "statuspage/email/confirm.txt",
        confirm_url=absolute(reverse("statuspage:confirm", args=[subscriber.token])),
    )


def already_subscribed(*, subscriber: Subscriber) -> None:
    _direct(
        subscriber,
        "You are already subscribed",
        "statuspage/email/already.txt",
        manage_url=absolute(reverse("statuspage:manage", args=[subscriber.token])),
    )


# --- Delivery ------------------------------------------------------------------------------


class DeliveryError(Exception):
    def __init__(self, message: str, *, retry: bool):
        super().__init__(message)
        self.retry = retry


def send_email(notification: Notification) -> None:
    subscriber = notification.subscriber
    unsubscribe = absolute(reverse("statuspage:unsubscribe", args=[subscriber.token]))
    message = EmailMessage(
        subject=notification.subject,
        body=notification.text,
        to=[subscriber.email],
        headers={
            # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to it.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    try:
        message.send()
    except OSError as error:  # smtplib's errors are OSErrors too
        raise DeliveryError(f"SMTP: {error}", retry=True) from error


def send_webhook(notification: Notification) -> None:
    request = urllib.request.Request(  # noqa: S310 - the URL is a validated http(s) URLField
        notification.subscriber.webhook_url,
        data=json.dumps(notification.payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "Vigil-Statuspage"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.STATUSPAGE_WEBHOOK_TIMEOUT):  # noqa: S310
            pass
    except urllib.error.HTTPError as error:
        raise DeliveryError(
            f"HTTP {error.code}", retry=error.code >= 500 or error.code == 429
        ) from error
    except OSError as error:
        raise DeliveryError(f"Webhook: {error}", retry=True) from error


TRANSPORTS = {SubscriberKind.EMAIL: send_email, SubscriberKind.WEBHOOK: send_webhook}


def notification_deliver(*, notification_id: int) -> str | None:
    """Claim the row (once, whatever the number of workers), send it, record the outcome."""
    now = timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(
                pk=notification_id,
                state__in=[NotificationState.PENDING, NotificationState.SENDING],
                next_at__lte=now,
            )
            .select_related("subscriber")
            .first()
        )
        if notification is None:
            return None
        notification.state = NotificationState.SENDING
        notification.attempts += 1
        notification.next_at = now + LEASE
        notification.save(update_fields=["state", "attempts", "next_at"])
    # Outside the transaction: no I/O while holding the row.
    try:
        TRANSPORTS[notification.subscriber.kind](notification)
    except DeliveryError as error:
        final = not error.retry or notification.attempts >= MAX_ATTEMPTS
        backoff = timedelta(seconds=30 * 2 ** (notification.attempts - 1))
        Notification.objects.filter(pk=notification.pk).update(
            state=NotificationState.FAILED if final else NotificationState.PENDING,
            next_at=timezone.now() + backoff,
            last_error=str(error)[:2000],
        )
        logger.warning("Notification %s failed (attempt %s): %s", notification.pk,
                       notification.attempts, error)  # fmt: skip
        return NotificationState.FAILED if final else NotificationState.PENDING
    Notification.objects.filter(pk=notification.pk).update(
        state=NotificationState.SENT, sent_at=timezone.now(), last_error=""
    )
    return NotificationState.SENT


def notifications_due(*, limit: int = 500) -> list[int]:
    return list(
        Notification.objects.filter(
            state__in=[NotificationState.PENDING, NotificationState.SENDING],
            next_at__lte=timezone.now(),
        )
        .order_by("next_at")
        .values_list("pk", flat=True)[:limit]
    )
