"""Behaviour that depends on PostgreSQL itself: row locks, triggers, committed state."""

import threading

import pytest
from django.db import DatabaseError, close_old_connections, connection, transaction

from incidents import services
from incidents.exceptions import TransitionNotAllowed
from incidents.models import Incident, TimelineEvent
from tests.factories import IncidentFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_serialize_on_the_row_lock():
    incident = IncidentFactory()
    barrier = threading.Barrier(4)
    outcomes = []

    def acknowledge():
        try:
            barrier.wait()
            services.incident_transition(incident=incident, action="acknowledge", by=None)
            outcomes.append("ok")
        except TransitionNotAllowed:
            outcomes.append("refused")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=acknowledge) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]
    assert incident.timeline.filter(kind="transitioned").count() == 1
    assert Incident.objects.get(pk=incident.pk).status == "acknowledged"


@pytest.mark.django_db
def test_timeline_is_append_only_at_the_database():
    incident = IncidentFactory()
    event = incident.timeline.get()

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        TimelineEvent.objects.filter(pk=event.pk).update(kind="forged")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM incidents_timelineevent WHERE id = %s", [event.pk])
    with pytest.raises(ValueError, match="append-only"):
        event.delete()

    assert TimelineEvent.objects.get(pk=event.pk).kind == "created"


@pytest.mark.django_db
def test_a_failing_receiver_rolls_back_the_whole_change():
    from incidents.events import incident_event

    def explode(sender, event, **kwargs):
        if event.kind == "transitioned":
            raise RuntimeError("receiver failed")

    incident = IncidentFactory()
    incident_event.connect(explode)
    try:
        with pytest.raises(RuntimeError):
            services.incident_transition(incident=incident, action="acknowledge", by=None)
    finally:
        incident_event.disconnect(explode)

    assert Incident.objects.get(pk=incident.pk).status == "triggered"
    assert incident.timeline.filter(kind="transitioned").count() == 0
