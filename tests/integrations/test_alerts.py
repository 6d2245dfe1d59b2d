import copy
import threading
import time
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents import services as incident_services
from incidents.models import Incident, TimelineEvent
from integrations import keys, services
from integrations.models import Alert
from tests.factories import ServiceFactory
from tests.integrations.factories import IntegrationFactory
from tests.workers import run_at_once


def trigger(integration, key="disk-db-1", summary="Disk full on db-1", severity="warning", **kw):
    return services.alert_trigger(
        integration=integration, dedup_key=key, summary=summary, severity=severity, **kw
    )


def test_alert_trigger_opens_an_incident_classified_by_the_severity_table(integration):
    integration.severity_map = {**integration.severity_map, "warning": [3, 1]}
    integration.save()

    outcome = trigger(integration, severity="warning", source="db-1", details={"disk": "99%"})

    incident = outcome.alert.incident
    assert outcome.action == "created"
    assert (incident.title, incident.source, incident.service) == (
        "Disk full on db-1",
        "Prometheus",
        integration.service,
    )
    assert (incident.impact, incident.urgency, incident.priority) == (3, 1, 3)
    assert "disk: 99%" in incident.description
    assert list(incident.timeline.values_list("kind", flat=True)) == ["created"]


def test_alert_with_the_key_of_an_open_incident_is_counted_on_it(integration):
    first = trigger(integration)
    second = trigger(integration)
    third = trigger(integration)

    assert (second.action, third.action) == ("repeated", "repeated")
    assert Incident.objects.count() == 1
    assert Alert.objects.get().count == 3
    attached = first.alert.incident.timeline.filter(kind="alert_attached")
    assert [e.data["count"] for e in attached.order_by("id")] == [2, 3]


def test_repeat_is_counted_and_put_on_the_timeline_in_one_query(
    integration, django_assert_num_queries
):
    first = trigger(integration, details={"disk": "97%"})

    with django_assert_num_queries(1):
        second = trigger(integration, summary="Disk still full", details={"disk": "99%"})

    assert second.action == "repeated"
    assert (second.alert.pk, second.alert.count, second.alert.details) == (
        first.alert.pk,
        2,
        {"disk": "99%"},
    )
    alert = Alert.objects.get()
    assert (alert.count, alert.details, alert.summary) == (2, {"disk": "99%"}, "Disk full on db-1")
    event = first.alert.incident.timeline.get(kind="alert_attached")
    assert (event.actor, event.actor_name) == (None, "Prometheus")
    assert event.data == {
        "alert_id": alert.pk,
        "dedup_key": "disk-db-1",
        "summary": "Disk full on db-1",
        "severity": "warning",
        "integration": "Prometheus",
        "count": 2,
    }


def test_repeat_without_details_keeps_the_last_ones(integration):
    trigger(integration, details={"disk": "97%"})
    trigger(integration)

    assert Alert.objects.get().details == {"disk": "97%"}


@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_each_count_once_on_the_timeline():
    integration = IntegrationFactory()
    incident = trigger(integration).alert.incident

    outcomes = run_at_once(lambda: trigger(integration), times=8)

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert Alert.objects.get().count == 9
    counts = incident.timeline.filter(kind="alert_attached").values_list("data__count", flat=True)
    assert sorted(counts) == list(range(2, 10))


def test_open_alert_keys_are_unique_in_the_database(integration):
    trigger(integration)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            integration=integration, dedup_key="disk-db-1", summary="x", severity="info"
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_triggers_of_one_key_make_one_alert_and_one_incident():
    integration = IntegrationFactory(group_window_seconds=0)

    outcomes = run_at_once(lambda: trigger(integration), times=8)

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert Incident.objects.count() == 1
    assert list(Alert.objects.values_list("count", flat=True)) == [8]


@pytest.mark.django_db(transaction=True)
def test_trigger_racing_one_under_another_service_lock_becomes_a_repeat():
    """The integration moved to another service between two first triggers of one key:
    they lock different services, and the unique index is what stops the second copy."""
    before_move = IntegrationFactory(group_window_seconds=0)
    after_move = copy.copy(before_move)
    after_move.service = ServiceFactory()
    outcomes = []

    def trigger_elsewhere():
        try:
            outcomes.append(trigger(after_move))
        finally:
            connection.close()

    with transaction.atomic():
        first = trigger(before_move)
        racer = threading.Thread(target=trigger_elsewhere)
        racer.start()
        _wait_until_blocked_on_a_lock()

    racer.join()
    assert (first.action, outcomes[0].action) == ("created", "repeated")
    assert outcomes[0].alert.pk == first.alert.pk
    assert Alert.objects.get().count == 2


@pytest.mark.django_db(transaction=True)
def test_repeat_racing_its_first_trigger_into_a_storm_waits_and_counts_on_it():
    integration = IntegrationFactory()
    incident = trigger(integration, key="first").alert.incident
    outcomes = []

    def repeat_elsewhere():
        try:
            with CaptureQueriesContext(connection) as queries:
                outcomes.append(trigger(integration, key="k"))
            statements.extend(q["sql"].split()[0] for q in queries if "PREPARE" not in q["sql"])
        finally:
            connection.close()

    statements = []
    with transaction.atomic():
        grouped = trigger(integration, key="k")
        racer = threading.Thread(target=repeat_elsewhere)
        racer.start()
        _wait_until_blocked_on_a_lock()

    racer.join()
    assert (grouped.action, outcomes[0].action) == ("grouped", "repeated")
    assert outcomes[0].alert.pk == grouped.alert.pk
    assert Alert.objects.get(dedup_key="k").count == 2
    assert statements == ["EXECUTE", "EXECUTE"]  # no repeat yet; the storm's insert counts it
    events = incident.timeline.filter(kind="alert_attached", data__dedup_key="k")
    assert [(e.data["count"], e.data.get("grouped")) for e in events.order_by("id")] == [
        (1, True),
        (2, None),
    ]


def _wait_until_blocked_on_a_lock(seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # Statistics views are read once per transaction unless told to look again.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the racing trigger never waited for the first one")


def test_storm_of_alerts_for_one_service_groups_into_one_incident(integration):
    other = IntegrationFactory(service=integration.service, kind="pagerduty")
    first = trigger(integration, key="a")
    grouped = trigger(integration, key="b", summary="Latency high")
    via_other = trigger(other, key="c", summary="5xx rate")

    assert (grouped.action, via_other.action) == ("grouped", "grouped")
    assert Incident.objects.count() == 1
    assert first.alert.incident.alerts.count() == 3
    events = first.alert.incident.timeline.filter(kind="alert_attached").order_by("id")
    assert [e.data["summary"] for e in events] == ["Latency high", "5xx rate"]
    assert (events[0].actor_name, events[0].data) == (
        "Prometheus",
        {
            "alert_id": grouped.alert.pk,
            "dedup_key": "b",
            "summary": "Latency high",
            "severity": "warning",
            "integration": "Prometheus",
            "count": 1,
            "grouped": True,
        },
    )


def test_alert_after_the_group_window_opens_its_own_incident(integration):
    trigger(integration, key="a", now=timezone.now() - timedelta(minutes=10))
    later = trigger(integration, key="b")

    assert later.action == "created"
    assert Incident.objects.count() == 2


def test_alerts_of_other_services_do_not_group(integration):
    trigger(integration, key="a")
    other = trigger(IntegrationFactory(), key="a")

    assert other.action == "created"
    assert Incident.objects.count() == 2


def test_incident_auto_resolves_when_all_its_alerts_resolve(integration):
    incident = trigger(integration, key="a").alert.incident
    trigger(integration, key="b")

    services.alert_resolve(integration=integration, dedup_key="a")
    incident.refresh_from_db()
    assert incident.status == "triggered"

    services.alert_resolve(integration=integration, dedup_key="b")
    incident.refresh_from_db()
    assert (incident.status, incident.resolution_code) == ("resolved", "fixed")
    assert incident.resolution_notes == "All alerts resolved; auto-resolved by Prometheus."
    kinds = list(incident.timeline.order_by("id").values_list("kind", flat=True))
    assert kinds == [
        "created",
        "alert_attached",
        "alert_resolved",
        "alert_resolved",
        "transitioned",
    ]


def test_incident_stays_open_when_auto_resolve_is_off(integration):
    integration.auto_resolve = False
    integration.save()
    incident = trigger(integration).alert.incident

    services.alert_resolve(integration=integration, dedup_key="disk-db-1")

    incident.refresh_from_db()
    assert incident.status == "triggered"
    assert Alert.objects.get().status == "resolved"


def test_major_incident_without_commander_is_not_auto_resolved(integration):
    incident = trigger(integration, severity="critical").alert.incident
    assert incident.is_major

    services.alert_resolve(integration=integration, dedup_key="disk-db-1")

    incident.refresh_from_db()
    assert incident.status == "triggered"
    assert incident.timeline.filter(kind="alert_resolved").count() == 1


def test_resolve_of_an_unknown_key_is_dropped(integration):
    outcome = services.alert_resolve(integration=integration, dedup_key="nope")

    assert outcome.action == "dropped"
    assert TimelineEvent.objects.count() == 0


def test_trigger_after_resolve_opens_a_new_incident(integration):
    first = trigger(integration, severity="warning").alert.incident
    services.alert_resolve(integration=integration, dedup_key="disk-db-1")
    again = trigger(integration, severity="warning", now=timezone.now() + timedelta(hours=1))

    assert again.action == "created"
    assert again.alert.incident != first
    assert Alert.objects.filter(dedup_key="disk-db-1").count() == 2


def test_trigger_after_a_person_resolved_the_incident_opens_a_new_one(integration, responder):
    incident = trigger(integration, severity="warning").alert.incident
    incident_services.incident_transition(
        incident=incident, action="resolve", by=responder, resolution_code="fixed", notes="ok"
    )

    again = trigger(integration, severity="warning")

    assert again.action == "created"
    assert list(Alert.objects.order_by("id").values_list("status", flat=True)) == [
        "resolved",
        "firing",
    ]


def test_acknowledge_moves_a_triggered_incident_on(integration):
    incident = trigger(integration, severity="warning").alert.incident

    services.alert_acknowledge(integration=integration, dedup_key="disk-db-1")

    incident.refresh_from_db()
    assert incident.status == "acknowledged"


def test_rotated_key_replaces_the_old_one(integration):
    old = integration.key
    new = services.integration_rotate_key(integration=integration)

    assert keys.integration_for_key(old) is None
    assert keys.integration_for_key(new) == integration
    integration.refresh_from_db()
    assert integration.key_prefix == new[:8]
    assert old not in integration.key_hash and new not in integration.key_hash


def test_disabled_integration_key_is_refused(integration):
    services.integration_update(integration=integration, enabled=False)

    assert keys.integration_for_key(integration.key) is None
