"""Behaviour that depends on PostgreSQL itself: row locks, triggers, committed state."""

import pytest
from django.db import DatabaseError, connection, transaction

from incidents import services
from incidents.exceptions import TransitionNotAllowed
from incidents.models import Incident, TimelineEvent
from tests.factories import IncidentFactory
from tests.workers import run_at_once


@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_serialize_on_the_row_lock():
    incident = IncidentFactory()

    outcomes = run_at_once(
        lambda: services.incident_transition(incident=incident, action="acknowledge", by=None),
        times=4,
    )

    verdicts = [
        "ok" if isinstance(o, Incident) else "refused" if isinstance(o, TransitionNotAllowed) else o
        for o in outcomes
    ]
    assert sorted(verdicts, key=str) == ["ok", "refused", "refused", "refused"]
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
