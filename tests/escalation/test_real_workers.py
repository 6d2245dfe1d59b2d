"""The timer engine's promises, with real PostgreSQL, Redis, `celery worker` and `celery beat`.

Every process of a test talks to a private redis-server on a free port (a test may stop
it), and the levels of the policy page one user each over a webhook to a local server,
so each page is one request carrying its idempotency key.
"""

import os
import random
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from escalation import services
from escalation.models import EscalationRun, Notification, NotificationStatus
from incidents.models import Incident
from tests.escalation.conftest import ENGINE_QUEUE
from tests.escalation.factories import policy
from tests.factories import IncidentFactory, TeamFactory, UserFactory
from tests.workers import BeatProcess, RedisServer, WorkerProcess, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUES = f"{ENGINE_QUEUE},notify-email,notify-webhook,notify-slack"
# The scenario is a minute; the suite keeps it short (VIGIL_REDIS_DOWN_SECONDS=60
# replays it in full: the workers' reconnection backoff is what a longer outage adds).
REDIS_DOWN_SECONDS = float(os.environ.get("VIGIL_REDIS_DOWN_SECONDS", "5"))


class Cluster:
    def __init__(self, tmp_path, broker: RedisServer):
        self.tmp_path = tmp_path
        self.env = {
            "CELERY_BROKER_URL": broker.url,
            "REDIS_URL": broker.url,
            "ESCALATION_ENGINE_QUEUE": ENGINE_QUEUE,
        }
        self.processes = []

    def _start(self, process):
        self.processes.append(process)
        return process.start()

    def worker(self, name: str = "worker", **env) -> WorkerProcess:
        log = self.tmp_path / f"{name}.log"
        return self._start(WorkerProcess(log, queue=QUEUES, env={**self.env, **env}))

    def beat(self, name: str = "beat") -> BeatProcess:
        return self._start(BeatProcess(self.tmp_path / f"{name}.log", env=self.env))

    def stop(self):
        for process in self.processes:  # all at once: each waits for its warm shutdown
            if process.process.poll() is None:
                process.process.terminate()
        for process in self.processes:
            process.stop()


@pytest.fixture
def cluster(tmp_path, broker):
    processes = Cluster(tmp_path, broker)
    yield processes
    processes.stop()


@pytest.fixture
def paging(hook):
    """A team whose policy pages alice, then bob, then carol, each by webhook at once.

    Level 1 waits a minute before level 2 (a test moves that due time to where it needs
    it); unless told otherwise the later levels follow at once.
    """

    def make(delays=(1, 0, 0)):
        users = [UserFactory(username=name) for name in ("alice", "bob", "carol")]
        for user in users:
            method = services.contact_method_create(user=user, kind="webhook", address=hook.url)
            services.notification_rule_create(user=user, contact_method=method)
        team = TeamFactory(name="Payments", slug="payments", members=users)
        levels = [{"targets": [u], "delay_minutes": d} for u, d in zip(users, delays, strict=True)]
        policy(name="Payments", team=team, is_team_default=True, levels=levels)
        return team, users

    return make


def pages(hook) -> Counter:
    """How many times each page (run, loop, level, user, rule) reached the far side."""
    return Counter(r["json"]["idempotency_key"] for r in hook.requests)


def user_pk(request) -> str:
    return request["json"]["idempotency_key"].split(":")[4]  # page:run:loop:level:user:...


def paged_users(hook, incident) -> list[str]:
    return [user_pk(r) for r in hook.requests if r["json"]["incident"] == incident.number]


def received(hook, incident, user) -> list[dict]:
    return [
        r
        for r in hook.requests
        if r["json"]["incident"] == incident.number and user_pk(r) == str(user.pk)
    ]


def run_of(incident) -> EscalationRun:
    return EscalationRun.objects.get(incident=incident)


def test_level_fires_within_two_seconds_of_its_due_time(cluster, hook, paging):
    cluster.worker()
    cluster.beat()
    team, (alice, bob, _) = paging()
    incidents = [IncidentFactory(team=team) for _ in range(3)]
    wait_until(lambda: all(received(hook, i, alice) for i in incidents), timeout=15)
    # Level 2 of each run falls due a few seconds from now, as after its delay.
    due = {}
    for n, incident in enumerate(incidents):
        due[incident.pk] = timezone.now() + timedelta(seconds=2 + 0.4 * n)
        EscalationRun.objects.filter(incident=incident).update(next_at=due[incident.pk])

    wait_until(lambda: all(received(hook, i, bob) for i in incidents), timeout=15)

    lags = [received(hook, i, bob)[0]["at"] - due[i.pk].timestamp() for i in incidents]
    assert all(0 <= lag < 2 for lag in lags), lags
    assert max(pages(hook).values()) == 1


def test_acknowledge_before_due_or_racing_the_sweeper_never_pages_after_it_commits(
    cluster, hook, paging
):
    cluster.worker()
    cluster.beat()
    team, (alice, _, _) = paging()
    early = IncidentFactory(team=team)
    racing = [IncidentFactory(team=team) for _ in range(12)]
    everyone = [early, *racing]
    wait_until(lambda: all(received(hook, i, alice) for i in everyone), timeout=20)
    due = timezone.now() + timedelta(seconds=3)
    EscalationRun.objects.filter(incident__in=everyone).update(next_at=due)

    committed = {}
    time.sleep(max(0.0, (due - timezone.now()).total_seconds() - 1))
    services.page_acknowledge(incident=early, by=alice)  # one second before the level is due
    committed[early.pk] = time.time()
    # The others are acknowledged around the instant the sweeper fires their next level.
    time.sleep(max(0.0, (due - timezone.now()).total_seconds() - 0.3))
    random.shuffle(racing)
    for incident in racing:
        services.page_acknowledge(incident=incident, by=alice)
        committed[incident.pk] = time.time()
        time.sleep(random.uniform(0, 0.15))
    time.sleep(3)  # time for anything wrongly left due to fire and be sent

    assert paged_users(hook, early) == [str(alice.pk)]
    later = Notification.objects.filter(incident__in=everyone).exclude(recipient=alice)
    for notification in later:
        if notification.status == NotificationStatus.SENT:
            assert notification.claimed_at.timestamp() < committed[notification.incident_id]
        else:
            assert notification.status == NotificationStatus.CANCELLED
    sent = later.filter(status=NotificationStatus.SENT).count()
    assert len(hook.requests) == len(everyone) + sent
    assert {run_of(i).state for i in everyone} == {"acknowledged"}


def test_two_workers_and_two_beats_fire_every_step_exactly_once(cluster, hook, paging):
    cluster.worker("worker-1")
    cluster.worker("worker-2")
    cluster.beat("beat-1")
    cluster.beat("beat-2")
    team, _ = paging(delays=(0, 0, 0))
    incidents = [IncidentFactory(team=team) for _ in range(15)]

    wait_until(lambda: len(hook.requests) >= 3 * len(incidents), timeout=30)
    time.sleep(2)  # a duplicate would arrive now

    assert len(pages(hook)) == 3 * len(incidents)
    assert max(pages(hook).values()) == 1
    for incident in incidents:
        assert incident.timeline.filter(kind="paged").count() == 3
        assert run_of(incident).next_at is None


def test_worker_killed_mid_escalation_loses_nothing(cluster, hook, paging):
    # A claim older than this belongs to a dead worker; short, so the test need not wait.
    lease = {"ESCALATION_SEND_LEASE": "3"}
    worker = cluster.worker("worker-1", **lease)
    cluster.beat()
    hook.delay = 0.2  # the worker is mid-send most of the time
    team, _ = paging(delays=(0, 0, 0))
    incidents = [IncidentFactory(team=team) for _ in range(10)]
    wait_until(lambda: len(hook.requests) >= 5, timeout=20)

    worker.kill()
    assert len(pages(hook)) < 3 * len(incidents)  # killed mid-escalation
    cluster.worker("worker-2", **lease)

    unsent = Notification.objects.exclude(status=NotificationStatus.SENT)
    # The send the kill cut off is taken back once its claim expires, and sent again.
    wait_until(lambda: len(pages(hook)) == 3 * len(incidents) and not unsent.exists(), timeout=60)
    # That send may thus arrive twice (at least once); nothing else does.
    assert sum(pages(hook).values()) - len(pages(hook)) <= 1


def test_redis_down_incidents_are_created_and_overdue_steps_fire_once_when_back(
    cluster, broker, hook, paging, api
):
    cluster.worker()
    cluster.beat()
    team, (alice, _, carol) = paging()
    before = IncidentFactory(team=team)
    wait_until(lambda: received(hook, before, alice), timeout=15)
    # Its level 2 (and so level 3) falls due while Redis is down.
    EscalationRun.objects.filter(incident=before).update(
        next_at=timezone.now() + timedelta(seconds=1)
    )
    api.as_user(UserFactory(role="responder", username="ravi"))  # a session from before
    broker.stop()

    for n in range(3):
        started = time.monotonic()
        response = api.post(
            "/api/v1/incidents/", {"title": f"down {n}", "team": "payments"}, format="json"
        )
        assert response.status_code == 201, response.content
        assert time.monotonic() - started < 2
    time.sleep(REDIS_DOWN_SECONDS)  # every level due so far is overdue by now
    assert len(hook.requests) == 1
    back = time.monotonic()
    broker.start()

    during = list(Incident.objects.filter(title__startswith="down "))
    wait_until(
        lambda: received(hook, before, carol) and all(received(hook, i, alice) for i in during),
        timeout=30,
        interval=0.2,
    )
    assert time.monotonic() - back < 30
    time.sleep(2)  # a duplicate would arrive now
    assert len(pages(hook)) == 3 + len(during)
    assert max(pages(hook).values()) == 1
