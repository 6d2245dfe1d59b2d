import pytest

from incidents import services as incident_services
from incidents.models import TimelineEvent
from statuspage.models import ComponentStatusChange, PublicIncident, PublicUpdate
from tests.factories import IncidentFactory
from tests.statuspage.conftest import SECRET

pytestmark = pytest.mark.django_db


def test_publish_shows_incident_and_sets_component_statuses(
    publish, incident, api_component, web_component
):
    body = publish(
        incident,
        components=[{"component": api_component.pk, "status": "partial_outage"}],
        impact="major",
    )

    public = PublicIncident.objects.get(incident=incident)
    api_component.refresh_from_db()
    assert body["name"] == "Elevated API errors"
    assert (public.name, public.impact, public.status) == (
        "Elevated API errors",
        "major",
        "investigating",
    )
    assert list(public.components.all()) == [api_component]
    assert api_component.status == "partial_outage"
    web_component.refresh_from_db()
    assert web_component.status == "operational"
    update = public.updates.get()
    assert update.body == "We are looking into errors."
    assert update.affected_components == [
        {
            "code": api_component.code,
            "name": "API",
            "old_status": "operational",
            "new_status": "partial_outage",
        }
    ]
    assert incident.timeline.filter(kind="published").count() == 1
    assert list(api_component.changes.values_list("previous", "status")) == [
        ("", "operational"),
        ("operational", "partial_outage"),
    ]


def test_publish_refuses_private_incident_twice_and_bad_fields(
    api, responder, private_incident, incident, publish
):
    client = api.as_user(responder)
    private = client.post(
        f"/api/v1/incidents/{private_incident.number}/publish/",
        {"title": "x", "impact": "minor"},
        format="json",
    )
    bad = client.post(
        f"/api/v1/incidents/{incident.number}/publish/",
        {"title": "x", "impact": "huge"},
        format="json",
    )
    unknown = client.post(
        f"/api/v1/incidents/{incident.number}/publish/",
        {
            "title": "x",
            "impact": "minor",
            "components": [{"component": 999, "status": "major_outage"}],
        },
        format="json",
    )
    publish(incident)
    again = client.post(
        f"/api/v1/incidents/{incident.number}/publish/",
        {"title": "x", "impact": "minor"},
        format="json",
    )

    assert private.status_code == 409
    assert "private" in private.json()["detail"]
    assert bad.status_code == 400 and "impact" in bad.json()
    assert unknown.status_code == 400 and "There is no component 999." in str(
        unknown.json()["components"]
    )
    assert again.status_code == 409
    assert PublicIncident.objects.count() == 1


def test_stakeholder_cannot_publish(api, stakeholder, incident):
    response = api.as_user(stakeholder).post(
        f"/api/v1/incidents/{incident.number}/publish/",
        {"title": "x", "impact": "minor"},
        format="json",
    )
    assert response.status_code == 403
    assert not PublicIncident.objects.exists()


def test_public_update_with_status_and_components(
    api, responder, publish, incident, api_component, web_component
):
    publish(incident, components=[{"component": api_component.pk, "status": "partial_outage"}])

    response = api.as_user(responder).post(
        f"/api/v1/incidents/{incident.number}/updates/",
        {
            "visibility": "public",
            "status": "identified",
            "body": "Bad deploy found.",
            "components": [
                {"component": web_component.code, "status": "degraded_performance"},
                {"component": api_component.pk, "status": "major_outage"},
            ],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "identified"
    public = PublicIncident.objects.get()
    assert public.status == "identified"
    assert set(public.components.all()) == {api_component, web_component}
    latest = public.updates.first()
    assert (latest.status, latest.body) == ("identified", "Bad deploy found.")
    assert [c["new_status"] for c in latest.affected_components] == [
        "degraded_performance",
        "major_outage",
    ]
    web_component.refresh_from_db()
    assert web_component.status == "degraded_performance"


def test_bad_component_in_public_update_rolls_everything_back(
    api, responder, publish, incident, api_component
):
    publish(incident, components=[{"component": api_component.pk, "status": "partial_outage"}])
    updates_before = incident.updates.count()
    events_before = TimelineEvent.objects.count()

    unknown = api.as_user(responder).post(
        f"/api/v1/incidents/{incident.number}/updates/",
        {
            "visibility": "public",
            "status": "identified",
            "body": "x",
            "components": [
                {"component": api_component.pk, "status": "major_outage"},
                {"component": 424242, "status": "major_outage"},
            ],
        },
        format="json",
    )
    bad_status = api.as_user(responder).post(
        f"/api/v1/incidents/{incident.number}/updates/",
        {
            "visibility": "public",
            "body": "x",
            "components": [{"component": api_component.pk, "status": "on_fire"}],
        },
        format="json",
    )
    bad_shape = api.as_user(responder).post(
        f"/api/v1/incidents/{incident.number}/updates/",
        {"visibility": "public", "body": "x", "components": {"api": "down"}},
        format="json",
    )

    assert unknown.status_code == bad_status.status_code == bad_shape.status_code == 400
    assert "components" in unknown.json() and "components" in bad_status.json()
    assert "components" in bad_shape.json()
    api_component.refresh_from_db()
    assert api_component.status == "partial_outage"
    assert incident.updates.count() == updates_before
    assert TimelineEvent.objects.count() == events_before
    assert PublicUpdate.objects.count() == 1


def test_status_on_unpublished_or_internal_update_is_refused(api, responder, incident):
    client = api.as_user(responder)
    unpublished = client.post(
        f"/api/v1/incidents/{incident.number}/updates/",
        {"visibility": "public", "status": "identified", "body": "x"},
        format="json",
    )
    internal = client.post(
        f"/api/v1/incidents/{incident.number}/updates/",
        {"visibility": "internal", "status": "identified", "body": "x"},
        format="json",
    )
    plain_public = client.post(
        f"/api/v1/incidents/{incident.number}/updates/",
        {"visibility": "public", "body": "Nothing published yet"},
        format="json",
    )

    assert unpublished.status_code == 400 and "publish it first" in unpublished.json()["status"][0]
    assert internal.status_code == 400 and "status" in internal.json()
    assert plain_public.status_code == 201
    assert not PublicUpdate.objects.exists()


def test_internal_and_stakeholder_updates_do_not_become_public(publish, incident, responder):
    publish(incident)
    incident_services.update_post(
        incident=incident, by=responder, visibility="internal", body=f"note {SECRET}"
    )
    incident_services.update_post(
        incident=incident, by=responder, visibility="stakeholders", body=f"brief {SECRET}"
    )
    assert not PublicUpdate.objects.filter(body__contains=SECRET).exists()
    assert PublicUpdate.objects.count() == 1


def test_resolve_returns_components_unless_another_open_incident_affects_them(
    publish, responder, api_component, web_component
):
    first = IncidentFactory(by=responder)
    second = IncidentFactory(by=responder)
    publish(
        first,
        components=[
            {"component": api_component.pk, "status": "major_outage"},
            {"component": web_component.pk, "status": "degraded_performance"},
        ],
    )
    publish(second, components=[{"component": api_component.pk, "status": "major_outage"}])

    incident_services.incident_transition(
        incident=first, action="resolve", by=responder, resolution_code="fixed", notes="ok"
    )

    api_component.refresh_from_db()
    web_component.refresh_from_db()
    assert api_component.status == "major_outage"
    assert web_component.status == "operational"
    public = PublicIncident.objects.get(incident=first)
    assert public.status == "resolved" and public.resolved_at is not None
    assert public.updates.first().body == "This incident has been resolved."

    incident_services.update_post(
        incident=second, by=responder, visibility="public", status="resolved", body="Fixed."
    )
    api_component.refresh_from_db()
    assert api_component.status == "operational"
    assert PublicIncident.objects.get(incident=second).resolved_at is not None
    assert (
        ComponentStatusChange.objects.filter(component=api_component, status="operational").count()
        == 2
    )
