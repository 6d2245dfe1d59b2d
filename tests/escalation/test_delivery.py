import re
from datetime import timedelta

import pytest
from django.core import signing

from escalation import services
from escalation.models import EscalationRun, Notification
from escalation.services import notification_deliver, runs_fire_due
from tests.escalation.conftest import START
from tests.escalation.factories import policy
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def paged(clock, team, alice):
    """alice is paged for a new incident; returns (incident, her first notification)."""
    policy(name="P", team=team, is_team_default=True, levels=[{"targets": [alice]}])
    incident = IncidentFactory(team=team, title="Card payments failing")
    runs_fire_due()
    return incident, Notification.objects.order_by("due_at", "id").first()


def ack_link(message) -> str:
    return re.search(r"(https?://\S+/escalation/ack/\S+/)", message.get_payload()).group(1)


def test_email_is_sent_over_smtp_with_an_acknowledge_link(paged, smtp, settings):
    settings.BASE_URL = "https://vigil.example.com"
    incident, notification = paged

    assert notification_deliver(notification_id=notification.pk) == "sent"

    [message] = smtp.messages
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == f"[Vigil] {incident.number} P3: Card payments failing"
    assert "paged directly at level 1" in message.get_payload()
    assert ack_link(message).startswith("https://vigil.example.com/escalation/ack/")
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 1)


def test_delivering_twice_sends_once(paged, smtp):
    _, notification = paged
    notification_deliver(notification_id=notification.pk)

    assert notification_deliver(notification_id=notification.pk) == "skipped"
    assert len(smtp.messages) == 1


def test_acknowledge_link_works_without_login_and_only_once(paged, smtp, client):
    incident, notification = paged
    notification_deliver(notification_id=notification.pk)
    path = "/" + ack_link(smtp.messages[0]).split("/", 3)[3]

    page = client.get(path)
    assert page.status_code == 200
    assert f"Acknowledge {incident.number}?" in page.text

    done = client.post(path)
    assert done.status_code == 200
    assert "is acknowledged; paging has stopped" in done.text
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    assert incident.timeline.get(kind="transitioned").actor.username == "alice"
    assert EscalationRun.objects.get(incident=incident).state == "acknowledged"

    again = client.post(path)
    assert again.status_code == 409
    assert "has been used already" in again.text


def test_acknowledge_link_expires(paged, client, settings, clock):
    _, notification = paged
    token = services.ack_token(notification)
    clock.shift(timedelta(seconds=settings.ESCALATION_ACK_LINK_MAX_AGE + 1))

    response = client.post(f"/escalation/ack/{token}/")

    assert response.status_code == 404
    assert "This link is not valid" in response.text


def test_acknowledge_link_refuses_a_forged_token(client):
    forged = signing.dumps({"n": 1}, salt="something else")
    assert client.get(f"/escalation/ack/{forged}/").status_code == 404


def test_webhook_posts_json_with_an_idempotency_key(clock, team, alice, hook):
    method = services.contact_method_create(user=alice, kind="webhook", address=hook.url + "/h")
    services.notification_rule_create(user=alice, contact_method=method)
    policy(name="P", team=team, is_team_default=True, levels=[{"targets": [alice]}])
    incident = IncidentFactory(team=team)
    runs_fire_due()
    notification = Notification.objects.get()

    assert notification_deliver(notification_id=notification.pk) == "sent"

    [request] = hook.requests
    assert request["path"] == "/h"
    assert request["headers"]["Idempotency-Key"] == notification.idempotency_key
    assert request["json"]["incident"] == incident.number
    assert request["json"]["event"] == "page"
    assert "/escalation/ack/" in request["json"]["acknowledge_url"]


def test_slack_compatible_webhook_gets_text(clock, team, alice, hook):
    method = services.contact_method_create(user=alice, kind="slack", address=hook.url)
    services.notification_rule_create(user=alice, contact_method=method)
    policy(name="P", team=team, is_team_default=True, levels=[{"targets": [alice]}])
    incident = IncidentFactory(team=team, title="Disk full")
    runs_fire_due()

    notification_deliver(notification_id=Notification.objects.get().pk)

    text = hook.requests[0]["json"]["text"]
    assert text.startswith(f"*[Vigil] {incident.number} P3: Disk full*")
    assert "|Acknowledge>" in text


def test_retryable_failure_backs_off_exponentially(clock, team, alice, hook, settings):
    settings.ESCALATION_RETRY_BASE_SECONDS = 10
    method = services.contact_method_create(user=alice, kind="webhook", address=hook.url)
    services.notification_rule_create(user=alice, contact_method=method)
    policy(name="P", team=team, is_team_default=True, levels=[{"targets": [alice]}])
    IncidentFactory(team=team)
    runs_fire_due()
    notification = Notification.objects.get()
    hook.statuses = [503, 429, 200]

    assert notification_deliver(notification_id=notification.pk) == "failed"
    notification.refresh_from_db()
    assert (notification.status, notification.due_at) == ("pending", START + timedelta(seconds=10))
    assert notification_deliver(notification_id=notification.pk) == "skipped"  # not due yet

    clock.shift(timedelta(seconds=10))
    notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.due_at == START + timedelta(seconds=30)  # 10 s, then 20 s
    assert notification.last_error == "HTTP 429"

    clock.shift(timedelta(seconds=20))
    assert notification_deliver(notification_id=notification.pk) == "sent"
    assert len(hook.requests) == 3


def test_failed_channel_falls_through_to_the_next_rule(clock, team, alice, hook, smtp):
    webhook = services.contact_method_create(user=alice, kind="webhook", address=hook.url)
    email = services.contact_method_create(user=alice, kind="email", address="a@example.com")
    services.notification_rule_create(user=alice, contact_method=webhook, delay_minutes=0)
    services.notification_rule_create(user=alice, contact_method=email, delay_minutes=10)
    policy(name="P", team=team, is_team_default=True, levels=[{"targets": [alice]}])
    incident = IncidentFactory(team=team)
    runs_fire_due()
    hook.statuses = [404]  # not retryable

    first = Notification.objects.get(channel="webhook")
    assert notification_deliver(notification_id=first.pk) == "failed"

    following = Notification.objects.get(channel="email")
    assert following.due_at == START  # moved up from ten minutes
    assert notification_deliver(notification_id=following.pk) == "sent"
    assert len(smtp.messages) == 1
    assert [e.data["message"] for e in incident.timeline.filter(kind="notification_failed")] == [
        "Webhook to alice failed after 1 attempt(s): HTTP 404; trying email next."
    ]


def test_retries_are_bounded(clock, team, alice, hook, settings):
    settings.ESCALATION_MAX_ATTEMPTS = 2
    method = services.contact_method_create(user=alice, kind="webhook", address=hook.url)
    services.notification_rule_create(user=alice, contact_method=method)
    policy(name="P", team=team, is_team_default=True, levels=[{"targets": [alice]}])
    IncidentFactory(team=team)
    runs_fire_due()
    notification = Notification.objects.get()
    hook.statuses = [500, 500, 500]

    notification_deliver(notification_id=notification.pk)
    clock.shift(timedelta(minutes=5))
    notification_deliver(notification_id=notification.pk)

    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("failed", 2)


def test_smtp_refusal_is_final(paged, smtp):
    _, notification = paged
    smtp.refuse = "554 no thanks"

    assert notification_deliver(notification_id=notification.pk) == "failed"
    notification.refresh_from_db()
    assert notification.status == "failed"
    assert notification.last_error.startswith("SMTP 554")


def test_acknowledged_page_is_not_sent(paged, smtp, alice):
    incident, notification = paged
    services.page_acknowledge(incident=incident, by=alice)

    assert notification_deliver(notification_id=notification.pk) == "skipped"
    notification.refresh_from_db()
    assert notification.status == "cancelled"
    assert smtp.messages == []


def test_sweeper_redispatches_due_notifications_without_a_live_message(paged, clock, settings):
    assert paged[1].status == "pending"
    assert services.notifications_dispatch_due() == 0  # its first message is believed alive

    clock.shift(timedelta(seconds=settings.ESCALATION_REDISPATCH_SECONDS + 1))
    assert services.notifications_dispatch_due() == 1
    assert services.notifications_dispatch_due() == 0


def test_sweeper_does_not_redispatch_into_a_backlog(paged, clock, settings):
    """A late message waiting in a long queue is not lost: resending it only grows the
    queue (10,000 pages at once once multiplied it to 44,000 messages)."""
    from config.celery import app, queue_length
    from escalation.tasks import deliver_notification

    queue = settings.ESCALATION_NOTIFY_QUEUE_PREFIX + "email"
    deliver_notification.apply_async(kwargs={"notification_id": 0}, queue=queue)
    assert queue_length(queue) == 1
    clock.shift(timedelta(seconds=settings.ESCALATION_REDISPATCH_SECONDS + 1))

    assert services.notifications_dispatch_due() == 0

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(queue)
    assert services.notifications_dispatch_due() == 1


def test_stale_claim_of_a_dead_worker_is_retried(paged, clock, settings, smtp):
    _, notification = paged
    services._claim_notifications([notification.pk], START)  # a worker took it, then died

    clock.shift(timedelta(seconds=settings.ESCALATION_SEND_LEASE + 1))
    services.notifications_dispatch_due()

    assert notification_deliver(notification_id=notification.pk) == "sent"
    notification.refresh_from_db()
    assert notification.attempts == 2
