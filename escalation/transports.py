"""Notification channels: small classes behind one interface, registered by kind."""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage

from escalation.models import ChannelKind

if TYPE_CHECKING:
    from escalation.models import Notification


class DeliveryError(Exception):
    def __init__(self, message: str, *, retry: bool):
        super().__init__(message)
        self.retry = retry


class Transport:
    kind: str

    def send(self, notification: Notification, *, ack_url: str) -> None:
        raise NotImplementedError


class EmailTransport(Transport):
    kind = ChannelKind.EMAIL

    def send(self, notification: Notification, *, ack_url: str) -> None:
        body = notification.body
        if ack_url:
            body += f"\n\nAcknowledge (no login needed, works once): {ack_url}\n"
        message = EmailMessage(
            subject=notification.subject,
            body=body,
            to=[notification.address],
            headers={"X-Vigil-Notification": str(notification.pk)},
        )
        try:
            message.send()
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryError(f"recipient refused: {error}", retry=False) from error
        except smtplib.SMTPResponseException as error:
            # 4xx is "try again later"; 5xx is a permanent refusal.
            message = f"SMTP {error.smtp_code} {error.smtp_error!r}"
            raise DeliveryError(message, retry=error.smtp_code < 500) from error
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"SMTP: {error}", retry=True) from error


class WebhookTransport(Transport):
    kind = ChannelKind.WEBHOOK

    def payload(self, notification: Notification, *, ack_url: str) -> dict:
        return {
            "event": notification.reason,
            "subject": notification.subject,
            "body": notification.body,
            "incident": notification.incident.number if notification.incident_id else None,
            "acknowledge_url": ack_url or None,
            "notification_id": notification.pk,
            "idempotency_key": notification.idempotency_key,
        }

    def send(self, notification: Notification, *, ack_url: str) -> None:
        data = json.dumps(self.payload(notification, ack_url=ack_url)).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is validated as http(s)
            notification.address,
            data=data,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Vigil",
                "Idempotency-Key": notification.idempotency_key,
            },
        )
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=settings.ESCALATION_HTTP_TIMEOUT
            ) as response:
                response.read(1024)
        except urllib.error.HTTPError as error:
            # Rate limited or the far side broken: try again later; anything else is final.
            retry = error.code == 429 or error.code >= 500
            raise DeliveryError(f"HTTP {error.code}", retry=retry) from error
        except (TimeoutError, urllib.error.URLError, OSError) as error:
            raise DeliveryError(f"unreachable: {error}", retry=True) from error


class SlackTransport(WebhookTransport):
    """A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat)."""

    kind = ChannelKind.SLACK

    def payload(self, notification: Notification, *, ack_url: str) -> dict:
        text = f"*{notification.subject}*\n{notification.body}"
        if ack_url:
            text += f"\n<{ack_url}|Acknowledge>"
        return {"text": text}


TRANSPORTS: dict[str, Transport] = {
    t.kind: t for t in (EmailTransport(), WebhookTransport(), SlackTransport())
}
