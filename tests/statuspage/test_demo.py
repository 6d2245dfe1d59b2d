import io

import pytest
from django.core.management import call_command

from statuspage.models import Component, ComponentGroup, Maintenance, PublicIncident, UptimeDay

pytestmark = pytest.mark.django_db


def test_demo_statuspage_is_idempotent_and_links_demo_services(client):
    call_command("demo", stdout=io.StringIO())
    call_command("demo_statuspage", stdout=io.StringIO())
    counts = [m.objects.count() for m in (Component, ComponentGroup, Maintenance, PublicIncident)]
    call_command("demo_statuspage", stdout=io.StringIO())

    assert [
        m.objects.count() for m in (Component, ComponentGroup, Maintenance, PublicIncident)
    ] == counts
    assert counts == [6, 2, 1, 1]
    assert Component.objects.get(name="Checkout").service.slug == "checkout"
    assert UptimeDay.objects.filter(component__name="Checkout", worst="partial_outage").exists()
    summary = client.get("/status/api/v2/summary.json").json()
    assert summary["page"]["name"] == "Vigil Demo Status"
    assert len(summary["scheduled_maintenances"]) == 1
    assert (
        client.get("/status/api/v2/incidents.json").json()["incidents"][0]["status"] == "resolved"
    )
