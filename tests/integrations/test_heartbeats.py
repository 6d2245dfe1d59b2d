from datetime import timedelta

import time_machine
from django.conf import settings
from django.utils import timezone

from incidents.models import Incident
from integrations import services, tasks
from tests.integrations.factories import IntegrationFactory


def heartbeat(**kw):
    return IntegrationFactory(
        name="Nightly backup",
        kind="heartbeat",
        heartbeat_interval_seconds=3600,
        heartbeat_grace_seconds=300,
        **kw,
    )


def test_ping_url_answers_ok_and_moves_the_deadline(client, db):
    monitor = heartbeat()
    before = timezone.now()

    response = client.get(f"/api/v1/heartbeats/{monitor.key}/")

    assert (response.status_code, response.content) == (200, b"OK\n")
    monitor.refresh_from_db()
    assert monitor.last_ping_at >= before
    assert monitor.heartbeat_due_at == monitor.last_ping_at + timedelta(seconds=3900)


def test_missed_heartbeat_triggers_an_incident_and_the_next_ping_resolves_it(client, db):
    monitor = heartbeat()
    client.post(f"/api/v1/heartbeats/{monitor.key}/")

    with time_machine.travel(timezone.now() + timedelta(seconds=3899)):
        assert tasks.check_heartbeats() == 0
    with time_machine.travel(timezone.now() + timedelta(seconds=3901)):
        assert tasks.check_heartbeats() == 1
        assert tasks.check_heartbeats() == 0  # down once, not once per sweep
        incident = Incident.objects.get()
        assert incident.title.startswith("No heartbeat from Nightly backup since ")
        assert (incident.service, incident.status) == (monitor.service, "triggered")

        client.get(f"/api/v1/heartbeats/{monitor.key}/")

    incident.refresh_from_db()
    monitor.refresh_from_db()
    assert (incident.status, incident.priority) == ("resolved", 2)
    assert monitor.heartbeat_due_at > timezone.now() + timedelta(seconds=3900)


def test_heartbeat_that_never_pinged_triggers_after_interval_and_grace(db):
    heartbeat()

    with time_machine.travel(timezone.now() + timedelta(seconds=3901)):
        services.heartbeats_check()

    assert Incident.objects.get().title == "No heartbeat from Nightly backup ever"


def test_disabled_heartbeat_does_not_trigger(db):
    monitor = heartbeat()
    services.integration_update(integration=monitor, enabled=False)

    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert services.heartbeats_check() == 0


def test_unknown_ping_key_and_alert_keys_get_401(client, integration):
    assert client.get("/api/v1/heartbeats/nope/").status_code == 401
    assert client.get(f"/api/v1/heartbeats/{integration.key}/").status_code == 401


def test_heartbeat_check_runs_on_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["integrations-heartbeats"]
    assert entry["task"] == tasks.check_heartbeats.name
