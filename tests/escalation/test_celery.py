"""Celery settings chosen on purpose, and one queue per notification channel."""

from datetime import timedelta

import pytest
import redis
from django.conf import settings

from config.celery import app
from escalation import services
from tests.escalation.factories import policy
from tests.factories import IncidentFactory


def test_celery_settings_make_a_lost_worker_cost_nothing():
    conf = app.conf
    # A message is acknowledged after its task ran, so a worker that dies mid-task leaves
    # it to the broker; each worker holds one message at a time, none waiting behind a
    # slow one.
    assert (conf.task_acks_late, conf.task_reject_on_worker_lost) == (True, True)
    assert conf.worker_prefetch_multiplier == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    # Redis redelivers an unacknowledged message after the visibility timeout: well above
    # the longest task, or a slow task runs twice.
    assert conf.broker_transport_options["visibility_timeout"] >= 10 * conf.task_time_limit
    # A send claim outlives the hard limit: only a dead worker's claim is taken back.
    assert conf.task_time_limit < settings.ESCALATION_SEND_LEASE
    # A sweep waiting in the queue longer than two periods is dropped, not run late.
    sweep = conf.beat_schedule["escalation-sweep"]
    assert sweep["options"]["expires"] <= 3 * sweep["schedule"]


def test_delivery_retries_are_bounded_with_exponential_backoff():
    assert 1 < settings.ESCALATION_MAX_ATTEMPTS <= 10
    base = settings.ESCALATION_RETRY_BASE_SECONDS
    waits = [services.backoff(attempt) for attempt in range(1, settings.ESCALATION_MAX_ATTEMPTS)]
    assert waits == [timedelta(seconds=base * 2**n) for n in range(len(waits))]


@pytest.mark.django_db(transaction=True)
def test_each_channel_has_its_own_queue(broker, team, alice):
    """A slow or rate-limited channel fills only its own queue (its own worker in the
    Procfile), so the others' messages are never stuck behind it."""
    email = services.contact_method_create(user=alice, kind="email", address="a@example.com")
    hook = services.contact_method_create(user=alice, kind="webhook", address="http://h.test/")
    for method in (email, hook):
        services.notification_rule_create(user=alice, contact_method=method)
    policy(name="P", team=team, is_team_default=True, levels=[{"targets": [alice]}])
    IncidentFactory(team=team)

    services.runs_fire_due()

    queues = redis.Redis.from_url(broker.url)
    lengths = {q: queues.llen(q) for q in ("escalation", "notify-email", "notify-webhook")}
    assert lengths == {"escalation": 1, "notify-email": 1, "notify-webhook": 1}
