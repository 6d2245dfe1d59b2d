from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from incidents import services as incident_services
from statuspage import services, tasks
from statuspage.models import Maintenance
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def test_maintenance_starts_and_completes_by_itself(client, api_component, web_component):
    now = timezone.now()
    maintenance = services.maintenance_create(
        name="Upgrade",
        scheduled_for=now + timedelta(hours=1),
        scheduled_until=now + timedelta(hours=2),
        components=[api_component],
    )
    assert tasks.advance_maintenances() == {"started": 0, "completed": 0}

    with time_machine.travel(now + timedelta(hours=1, minutes=1)):
        assert tasks.advance_maintenances() == {"started": 1, "completed": 0}
        maintenance.refresh_from_db()
        api_component.refresh_from_db()
        assert maintenance.status == "in_progress" and maintenance.started_at
        assert api_component.status == "under_maintenance"
        body = client.get("/status/api/v2/status.json").json()["status"]
        assert body == {"indicator": "maintenance", "description": "Service Under Maintenance"}

    with time_machine.travel(now + timedelta(hours=2, minutes=1)):
        assert tasks.advance_maintenances() == {"started": 0, "completed": 1}
    maintenance.refresh_from_db()
    api_component.refresh_from_db()
    web_component.refresh_from_db()
    assert maintenance.status == "completed"
    assert api_component.status == web_component.status == "operational"
    assert [u.status for u in maintenance.updates.all()] == [
        "completed",
        "in_progress",
        "scheduled",
    ]


def test_extended_maintenance_ends_later(api_component):
    now = timezone.now()
    maintenance = services.maintenance_create(
        name="Upgrade",
        scheduled_for=now - timedelta(minutes=1),
        scheduled_until=now + timedelta(hours=1),
        components=[api_component],
    )
    services.maintenances_advance()
    services.maintenance_extend(maintenance=maintenance, until=now + timedelta(hours=3))

    with time_machine.travel(now + timedelta(hours=2)):
        assert services.maintenances_advance() == {"started": 0, "completed": 0}
    with time_machine.travel(now + timedelta(hours=3, seconds=1)):
        assert services.maintenances_advance() == {"started": 0, "completed": 1}
    assert Maintenance.objects.get().status == "completed"


def test_a_missed_window_starts_and_ends_in_one_run(api_component):
    now = timezone.now()
    services.maintenance_create(
        name="Overnight",
        scheduled_for=now - timedelta(hours=3),
        scheduled_until=now - timedelta(hours=1),
        components=[api_component],
    )
    assert services.maintenances_advance() == {"started": 1, "completed": 1}
    api_component.refresh_from_db()
    assert api_component.status == "operational"


def test_maintenance_end_keeps_status_of_an_open_incident(publish, responder, api_component):
    now = timezone.now()
    maintenance = services.maintenance_create(
        name="Upgrade",
        scheduled_for=now - timedelta(minutes=1),
        scheduled_until=now + timedelta(hours=1),
        components=[api_component],
    )
    services.maintenances_advance()
    incident = IncidentFactory(by=responder)
    publish(incident, components=[{"component": api_component.pk, "status": "partial_outage"}])
    services.component_update(component=api_component, status="under_maintenance")

    services.maintenance_complete(maintenance=maintenance)
    api_component.refresh_from_db()
    assert api_component.status == "partial_outage"

    incident_services.incident_transition(
        incident=incident, action="resolve", by=responder, resolution_code="fixed", notes="ok"
    )
    api_component.refresh_from_db()
    assert api_component.status == "operational"


def test_resolving_during_maintenance_returns_to_under_maintenance(
    publish, responder, api_component
):
    now = timezone.now()
    services.maintenance_create(
        name="Upgrade",
        scheduled_for=now - timedelta(minutes=1),
        scheduled_until=now + timedelta(hours=1),
        components=[api_component],
    )
    services.maintenances_advance()
    incident = IncidentFactory(by=responder)
    publish(incident, components=[{"component": api_component.pk, "status": "major_outage"}])
    incident_services.incident_transition(
        incident=incident, action="resolve", by=responder, resolution_code="fixed", notes="ok"
    )
    api_component.refresh_from_db()
    assert api_component.status == "under_maintenance"
