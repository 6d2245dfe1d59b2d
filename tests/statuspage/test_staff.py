"""The responders' side of the status page: components and maintenance managed in the UI,
and publishing from the incident page's panel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from statuspage import services
from statuspage.models import Component, Maintenance, PublicIncident
from tests.statuspage.factories import ComponentFactory, GroupFactory

pytestmark = pytest.mark.django_db


def window(hours_from_now: float, length: float = 1.0) -> dict:
    start = timezone.localtime() + timedelta(hours=hours_from_now)
    fmt = "%Y-%m-%dT%H:%M"
    return {
        "window-scheduled_for": start.strftime(fmt),
        "window-scheduled_until": (start + timedelta(hours=length)).strftime(fmt),
    }


def test_responder_sets_a_component_status(client, responder, api_component):
    client.force_login(responder)
    page = client.get("/status-page/")
    assert page.status_code == 200
    assert "Status of API" in page.content.decode()

    response = client.post(
        f"/status-page/components/{api_component.pk}/status/", {"status": "partial_outage"}
    )
    assert response.status_code == 302
    api_component.refresh_from_db()
    assert api_component.status == "partial_outage"
    assert api_component.changes.latest("at").reason == f"by {responder}"
    assert "Partial System Outage" in client.get("/status/").content.decode()


def test_bad_status_is_refused_and_changes_nothing(client, responder, api_component):
    client.force_login(responder)
    response = client.post(
        f"/status-page/components/{api_component.pk}/status/", {"status": "on_fire"}
    )
    assert response.status_code == 400
    assert "choose one of the listed statuses" in response.content.decode()
    api_component.refresh_from_db()
    assert api_component.status == "operational"
    assert client.post("/status-page/components/999999/status/", {}).status_code == 404


def test_stakeholders_read_but_change_nothing(client, stakeholder, api_component):
    client.force_login(stakeholder)
    page = client.get("/status-page/").content.decode()
    assert "Status of API" not in page and "Schedule maintenance" not in page
    response = client.post(
        f"/status-page/components/{api_component.pk}/status/", {"status": "major_outage"}
    )
    assert response.status_code == 403
    assert client.post("/status-page/maintenances/", {"window-name": "x"}).status_code == 403


def test_managers_add_components_and_responders_cannot(client, manager, responder):
    group = GroupFactory(name="Core")
    client.force_login(responder)
    assert client.post("/status-page/components/", {"component-name": "X"}).status_code == 403

    client.force_login(manager)
    bad = client.post("/status-page/components/", {"component-name": ""})
    assert bad.status_code == 400
    assert 'id="id_component-name_error"' in bad.content.decode()
    response = client.post(
        "/status-page/components/", {"component-name": "Payments", "component-group": group.pk}
    )
    assert response.status_code == 302
    assert Component.objects.get(name="Payments").group == group


def test_maintenance_scheduled_started_extended_and_ended(client, responder, api_component):
    client.force_login(responder)
    response = client.post(
        "/status-page/maintenances/",
        {"window-name": "Database upgrade", "window-components": [api_component.pk], **window(2)},
    )
    assert response.status_code == 302
    maintenance = Maintenance.objects.get()
    assert list(maintenance.components.all()) == [api_component]
    assert "Database upgrade" in client.get("/status-page/").content.decode()

    assert client.post(f"/status-page/maintenances/{maintenance.pk}/start/").status_code == 302
    api_component.refresh_from_db()
    assert api_component.status == "under_maintenance"

    until = (maintenance.scheduled_until + timedelta(hours=1)).astimezone(
        timezone.get_current_timezone()
    )
    response = client.post(
        f"/status-page/maintenances/{maintenance.pk}/extend/",
        {f"extend-{maintenance.pk}-until": until.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    maintenance.refresh_from_db()
    assert maintenance.scheduled_until == until.replace(second=0, microsecond=0)

    assert client.post(f"/status-page/maintenances/{maintenance.pk}/end/").status_code == 302
    maintenance.refresh_from_db()
    api_component.refresh_from_db()
    assert (maintenance.status, api_component.status) == ("completed", "operational")


def test_bad_maintenance_input_shows_beside_the_field_and_creates_nothing(client, responder):
    client.force_login(responder)
    times = window(2, length=-1)
    response = client.post("/status-page/maintenances/", {"window-name": "Oops", **times})
    assert response.status_code == 400
    assert 'id="id_window-scheduled_until_error">The window must end after it starts.' in (
        response.content.decode()
    )
    assert not Maintenance.objects.exists()


def test_refused_maintenance_steps_say_why(client, responder, api_component):
    now = timezone.now()
    maintenance = services.maintenance_create(
        name="Patch",
        scheduled_for=now + timedelta(hours=1),
        scheduled_until=now + timedelta(hours=2),
    )
    client.force_login(responder)
    refused = client.post(f"/status-page/maintenances/{maintenance.pk}/end/")
    assert refused.status_code == 409
    assert "only a started one ends" in refused.content.decode()

    early = client.post(
        f"/status-page/maintenances/{maintenance.pk}/extend/",
        {f"extend-{maintenance.pk}-until": "2001-01-01T00:00"},
    )
    assert early.status_code == 400
    assert f'id="id_extend-{maintenance.pk}-until_error"' in early.content.decode()
    assert client.post(f"/status-page/maintenances/{maintenance.pk}/fly/").status_code == 404
    assert client.post(f"/status-page/maintenances/{maintenance.pk}/cancel/").status_code == 302
    assert not Maintenance.objects.exists()


@pytest.mark.parametrize("n", [1, 4])
def test_manage_page_queries_do_not_grow(client, responder, n, django_assert_max_num_queries):
    now = timezone.now()
    for i in range(n):
        component = ComponentFactory(group=GroupFactory())
        services.maintenance_create(
            name=f"W{i}",
            scheduled_for=now + timedelta(hours=1),
            scheduled_until=now + timedelta(hours=2),
            components=[component],
        )
    client.force_login(responder)
    with django_assert_max_num_queries(12):
        assert client.get("/status-page/").status_code == 200


def test_publish_from_the_incident_panel(client, responder, incident, api_component):
    client.force_login(responder)
    panel = client.get(f"/incidents/{incident.number}/status-page/")
    assert "Publish to the status page" in panel.content.decode()

    bad = client.post(f"/incidents/{incident.number}/status-page/", {"title": ""})
    assert bad.status_code == 400 and "This field is required." in bad.content.decode()
    assert not PublicIncident.objects.exists()

    response = client.post(
        f"/incidents/{incident.number}/status-page/",
        {
            "title": "Checkout errors",
            "impact": "major",
            "body": "Some payments fail.",
            "components": [api_component.pk],
            "component_status": "major_outage",
        },
        HTTP_HX_REQUEST="true",
    )
    assert "Published as" in response.content.decode()
    public = PublicIncident.objects.get()
    assert public.name == "Checkout errors"
    api_component.refresh_from_db()
    assert api_component.status == "major_outage"
    page = client.get("/status/").content.decode()
    assert "Checkout errors" in page and "Some payments fail." in page
    assert "SECRET" not in page


def test_publishing_without_javascript_returns_to_the_incident_page(client, responder, incident):
    client.force_login(responder)
    response = client.post(
        f"/incidents/{incident.number}/status-page/",
        {
            "title": "Slow pages",
            "impact": "minor",
            "body": "Slow.",
            "component_status": "partial_outage",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/incidents/{incident.number}/"
    assert PublicIncident.objects.get().name == "Slow pages"
