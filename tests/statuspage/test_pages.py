from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents import services as incident_services
from statuspage import services
from statuspage.models import PublicIncident
from tests.factories import IncidentFactory
from tests.statuspage.factories import ComponentFactory, GroupFactory

pytestmark = pytest.mark.django_db


def test_page_shows_overall_status_components_incident_and_maintenance(
    client, publish, incident, api_component, web_component
):
    publish(incident, components=[{"component": api_component.pk, "status": "partial_outage"}])
    now = timezone.now()
    services.maintenance_create(
        name="Database upgrade",
        scheduled_for=now + timedelta(days=1),
        scheduled_until=now + timedelta(days=1, hours=1),
        components=[web_component],
    )

    text = client.get("/status/").content.decode()

    assert "Partial System Outage" in text
    assert "sp-indicator-major" in text
    assert "Elevated API errors" in text and "We are looking into errors." in text
    assert "Partial outage" in text and "Operational" in text
    assert "Database upgrade" in text
    assert 'type="application/atom+xml"' in text and 'type="application/rss+xml"' in text
    assert "<script" not in text and "style=" not in text


def test_incident_page_lists_updates_and_components(
    client, publish, incident, responder, api_component
):
    publish(incident, components=[{"component": api_component.pk, "status": "major_outage"}])
    incident_services.update_post(
        incident=incident,
        by=responder,
        visibility="public",
        status="monitoring",
        body="Fix deployed.",
    )
    public = PublicIncident.objects.get()

    text = client.get(f"/status/incidents/{public.code}/").content.decode()

    assert "Elevated API errors" in text
    assert text.index("Fix deployed.") < text.index("We are looking into errors.")
    assert "This incident affects: API." in text
    assert client.get("/status/incidents/nope/").status_code == 404


def test_private_incident_page_is_404(client, publish, incident, responder):
    publish(incident)
    team = incident_services.Team.objects.create(name="T", slug="t")
    team.members.add(responder)
    incident_services.incident_assign(incident=incident, by=responder, team=team)
    incident_services.incident_update_details(incident=incident, by=responder, is_private=True)
    public = PublicIncident.objects.get()
    assert client.get(f"/status/incidents/{public.code}/").status_code == 404


def test_history_is_paginated_by_month(client, publish, responder):
    with time_machine.travel("2026-09-10 12:00Z", tick=False):
        publish(IncidentFactory(by=responder), title="September outage")
    with time_machine.travel("2026-10-05 12:00Z", tick=False):
        publish(IncidentFactory(by=responder), title="October slowness")

    with time_machine.travel("2026-10-20 12:00Z", tick=False):
        october = client.get("/status/history/").content.decode()
        september = client.get("/status/history/?month=2026-09").content.decode()
        bad = client.get("/status/history/?month=soon")

    assert "October 2026" in october and "October slowness" in october
    assert "September outage" not in october
    assert 'href="?month=2026-09"' in october and 'rel="next"' not in october
    assert "September outage" in september and 'href="?month=2026-10"' in september
    assert bad.status_code == 404


def test_status_host_serves_the_page_at_its_root(client, settings, api_component):
    settings.STATUSPAGE_HOST = "status.example.com"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "status.example.com", "testserver"]
    # The middleware reads the setting when built: build the stack anew.
    from django.test import Client

    host = Client(HTTP_HOST="status.example.com")
    root = host.get("/")
    summary = host.get("/api/v2/summary.json")

    assert root.status_code == 200 and "All Systems Operational" in root.content.decode()
    assert 'href="/history/"' in root.content.decode()
    assert summary.json()["components"][0]["name"] == "API"
    assert client.get("/status/").status_code == 200


# Exact counts, the same for one item and for three.
QUERIES = {
    "/status/": 12,
    "/status/history/": 8,
    "/status/history.atom": 9,
    "/status/api/v2/summary.json": 11,
    "/status/api/v2/incidents.json": 5,
    "/status/api/v2/scheduled-maintenances.json": 5,
}


@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize(
    "path",
    [
        "/status/",
        "/status/history/",
        "/status/history.atom",
        "/status/api/v2/summary.json",
        "/status/api/v2/incidents.json",
        "/status/api/v2/scheduled-maintenances.json",
    ],
)
def test_public_outputs_queries_do_not_grow(client, publish, responder, count, path):
    group = GroupFactory()
    now = timezone.now()
    for n in range(count):
        component = ComponentFactory(group=group)
        publish(
            IncidentFactory(by=responder),
            components=[{"component": component.pk, "status": "partial_outage"}],
        )
        incident_services.update_post(
            incident=PublicIncident.objects.first().incident,
            by=responder,
            visibility="public",
            body=f"update {n}",
        )
        services.maintenance_create(
            name=f"M{n}",
            scheduled_for=now + timedelta(days=1 + n),
            scheduled_until=now + timedelta(days=2 + n),
            components=[component],
        )
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    assert len(queries) == QUERIES[path], [q["sql"] for q in queries]
