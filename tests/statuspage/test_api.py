from datetime import timedelta

import pytest
from django.utils import timezone

from statuspage.models import Component, ComponentStatusChange, Maintenance
from tests.factories import ServiceFactory
from tests.statuspage.factories import ComponentFactory, GroupFactory

pytestmark = pytest.mark.django_db


def test_manager_creates_component_with_group_and_service(api, manager):
    group = GroupFactory(name="Core")
    service = ServiceFactory(slug="payments")

    response = api.as_user(manager).post(
        "/api/v1/components/",
        {"name": "Payments API", "group": group.pk, "service": "payments", "position": 3},
        format="json",
    )

    assert response.status_code == 201, response.content
    component = Component.objects.get()
    assert (component.name, component.group, component.service, component.status) == (
        "Payments API",
        group,
        service,
        "operational",
    )
    assert response.json()["code"] == component.code
    assert component.changes.count() == 1


def test_responder_sets_status_but_cannot_rename(api, responder, api_component):
    client = api.as_user(responder)
    status = client.patch(
        f"/api/v1/components/{api_component.pk}/", {"status": "degraded_performance"}, format="json"
    )
    rename = client.patch(f"/api/v1/components/{api_component.pk}/", {"name": "X"}, format="json")
    create = client.post("/api/v1/components/", {"name": "New"}, format="json")
    invalid = client.patch(
        f"/api/v1/components/{api_component.pk}/", {"status": "meh"}, format="json"
    )

    assert status.status_code == 200 and status.json()["status"] == "degraded_performance"
    assert rename.status_code == create.status_code == 403
    assert invalid.status_code == 400 and "status" in invalid.json()
    api_component.refresh_from_db()
    assert api_component.name == "API"
    assert list(
        ComponentStatusChange.objects.filter(component=api_component).values_list(
            "status", flat=True
        )
    ) == ["operational", "degraded_performance"]


def _maintenance_payload(components, hours=1):
    start = timezone.now() + timedelta(hours=hours)
    return {
        "name": "Database upgrade",
        "scheduled_for": start.isoformat(),
        "scheduled_until": (start + timedelta(hours=2)).isoformat(),
        "components": [c.pk for c in components],
        "body": "We upgrade PostgreSQL.",
    }


def test_maintenance_create_extend_end_early(api, responder, api_component):
    client = api.as_user(responder)
    created = client.post(
        "/api/v1/maintenances/", _maintenance_payload([api_component]), format="json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["status"] == "scheduled"
    assert created.json()["updates"][0]["body"] == "We upgrade PostgreSQL."

    started = client.post(f"/api/v1/maintenances/{pk}/start/", {}, format="json")
    api_component.refresh_from_db()
    assert started.json()["status"] == "in_progress"
    assert api_component.status == "under_maintenance"

    new_end = timezone.now() + timedelta(hours=8)
    extended = client.post(
        f"/api/v1/maintenances/{pk}/extend/", {"until": new_end.isoformat()}, format="json"
    )
    assert extended.status_code == 200
    assert Maintenance.objects.get().scheduled_until == new_end
    shorter = client.post(
        f"/api/v1/maintenances/{pk}/extend/",
        {"until": timezone.now().isoformat()},
        format="json",
    )
    assert shorter.status_code == 400 and "until" in shorter.json()

    ended = client.post(f"/api/v1/maintenances/{pk}/end/", {"body": "Done early."}, format="json")
    api_component.refresh_from_db()
    assert ended.json()["status"] == "completed"
    assert ended.json()["updates"][0]["body"] == "Done early."
    assert api_component.status == "operational"
    again = client.post(f"/api/v1/maintenances/{pk}/end/", {}, format="json")
    assert again.status_code == 409


def test_maintenance_window_must_be_positive(api, responder):
    payload = _maintenance_payload([])
    payload["scheduled_until"] = payload["scheduled_for"]
    response = api.as_user(responder).post("/api/v1/maintenances/", payload, format="json")
    assert response.status_code == 400 and "scheduled_until" in response.json()
    assert not Maintenance.objects.exists()


def test_stakeholder_reads_but_cannot_schedule(api, stakeholder, api_component):
    client = api.as_user(stakeholder)
    assert client.get("/api/v1/components/").status_code == 200
    response = client.post("/api/v1/maintenances/", _maintenance_payload([]), format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("count", [1, 3])
def test_component_list_queries_do_not_grow(api, manager, count, django_assert_max_num_queries):
    group = GroupFactory()
    for _ in range(count):
        ComponentFactory(group=group, service=ServiceFactory())
    client = api.as_user(manager)
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/components/")
    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("count", [1, 3])
def test_maintenance_list_queries_do_not_grow(
    api, responder, api_component, count, django_assert_max_num_queries
):
    client = api.as_user(responder)
    for _ in range(count):
        client.post("/api/v1/maintenances/", _maintenance_payload([api_component]), format="json")
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/maintenances/")
    assert len(response.json()["results"]) == count
    assert response.json()["results"][0]["components"] == [api_component.pk]
