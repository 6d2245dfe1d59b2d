import pytest

from incidents.models import Incident
from tests.factories import (
    CategoryFactory,
    IncidentFactory,
    RunbookFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_create_incident_logs_every_field(api, responder):
    team = TeamFactory(slug="platform", members=[responder])
    service = ServiceFactory(slug="checkout", team=team)
    category = CategoryFactory(slug="network")

    response = api.as_user(responder).post(
        "/api/v1/incidents/",
        {
            "title": "Checkout is slow",
            "description": "p99 at 4s",
            "error_codes": "E504",
            "service": "checkout",
            "category": "network",
            "impact": 2,
            "urgency": 1,
            "reporter_name": "A customer",
            "reporter_email": "customer@example.com",
            "occurred_at": "2026-11-23T08:00:00Z",
            "users_affected": 1200,
            "financial_implications": "Lost orders",
            "war_room_url": "https://meet.example.com/x",
            "assignee": "ravi",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    incident = Incident.objects.get()
    assert response["Location"].endswith(f"/api/v1/incidents/{incident.number}/")
    assert body["number"] == incident.number == f"INC-{incident.pk}"
    assert (body["status"], body["priority"], body["source"]) == ("triggered", 2, "api")
    assert (body["service"], body["category"], body["team"], body["assignee"]) == (
        "checkout",
        "network",
        "platform",
        "ravi",
    )
    assert (body["reporter"], body["reporter_name"], body["opened_by"]) == (
        None,
        "A customer",
        "ravi",
    )
    assert body["allowed_actions"] == [
        "acknowledge",
        "investigate",
        "mitigate",
        "resolve",
        "cancel",
    ]
    assert incident.service == service and incident.category == category
    assert list(incident.timeline.values_list("kind", flat=True)) == ["created"]


def test_new_incident_gets_its_matching_runbooks_as_tasks(api, responder):
    service = ServiceFactory(slug="db")
    book = RunbookFactory(steps=["Check lag", "Fail over"])
    book.services.add(service)
    RunbookFactory(steps=["Unrelated"])

    response = api.as_user(responder).post(
        "/api/v1/incidents/", {"title": "DB down", "service": "db"}, format="json"
    )
    number = response.json()["number"]
    tasks = api.get(f"/api/v1/incidents/{number}/tasks/").json()

    assert [t["title"] for t in tasks] == ["Check lag", "Fail over"]


def test_lifecycle_over_the_api(api, responder):
    incident = IncidentFactory(by=responder)
    url = f"/api/v1/incidents/{incident.number}"
    client = api.as_user(responder)

    assert client.post(f"{url}/acknowledge/").json()["status"] == "acknowledged"
    refused = client.post(f"{url}/acknowledge/")
    resolved = client.post(
        f"{url}/resolve/", {"resolution_code": "fixed", "notes": "Rebooted"}, format="json"
    )
    closed = client.post(f"{url}/close/")

    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"Cannot acknowledge {incident.number}: it is acknowledged, "
        "and acknowledge is allowed only from triggered."
    )
    assert resolved.json()["resolution_code"] == "fixed"
    assert closed.json()["status"] == "closed"
    assert closed.json()["allowed_actions"] == []


def test_resolve_without_code_is_a_400_naming_the_fields(api, responder):
    incident = IncidentFactory()
    response = api.as_user(responder).post(f"/api/v1/incidents/{incident.number}/resolve/")
    assert response.status_code == 400
    assert set(response.json()) == {"resolution_code", "notes"}


def test_cancel_duplicate_names_the_original_by_number(api, responder):
    original, duplicate = IncidentFactory(), IncidentFactory()
    url = f"/api/v1/incidents/{duplicate.number}/cancel/"

    missing = api.as_user(responder).post(
        url, {"reason": "duplicate", "duplicate_of": "INC-999999"}, format="json"
    )
    ok = api.post(url, {"reason": "duplicate", "duplicate_of": original.number}, format="json")

    assert missing.status_code == 400
    assert missing.json() == {"duplicate_of": ["There is no incident INC-999999."]}
    assert ok.json()["duplicate_of"] == original.number


def test_patch_edits_details_priority_and_assignment_each_on_the_timeline(api, responder):
    team = TeamFactory(slug="payments", members=[responder])
    incident = IncidentFactory(impact=3, urgency=3)

    response = api.as_user(responder).patch(
        f"/api/v1/incidents/{incident.number}/",
        {"title": "Renamed", "impact": 1, "team": "payments", "assignee": "ravi"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["title"], body["priority"], body["team"], body["assignee"]) == (
        "Renamed",
        3,
        "payments",
        "ravi",
    )
    kinds = set(incident.timeline.values_list("kind", flat=True))
    assert {"updated", "priority_changed", "assigned"} <= kinds
    assert incident.timeline.get(kind="assigned").data["team_changed"] is True
    assert team.incidents.count() == 1


def test_assignee_must_belong_to_the_team(api, responder):
    TeamFactory(slug="payments")
    incident = IncidentFactory()

    response = api.as_user(responder).patch(
        f"/api/v1/incidents/{incident.number}/",
        {"team": "payments", "assignee": "ravi"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"assignee": ["The assignee must be a member of the team."]}
    incident.refresh_from_db()
    assert incident.team is None
    assert not incident.timeline.filter(kind="assigned").exists()


def test_filters_narrow_the_list(api, responder):
    service = ServiceFactory(slug="search")
    IncidentFactory(title="Index is stale", service=service, impact=1, urgency=2)
    IncidentFactory(title="Other", impact=3, urgency=3)
    resolved = IncidentFactory(title="Old index problem", service=service)
    resolved.status = "resolved"
    Incident.objects.filter(pk=resolved.pk).update(status="resolved")
    client = api.as_user(responder)

    def titles(query):
        response = client.get(f"/api/v1/incidents/?{query}")
        assert response.status_code == 200, response.json()
        return [i["title"] for i in response.json()["results"]]

    assert titles("service=search") == ["Old index problem", "Index is stale"]
    assert titles("status=triggered,acknowledged") == ["Other", "Index is stale"]
    assert titles("priority=2") == ["Index is stale"]
    assert titles("q=index&is_open=true") == ["Index is stale"]
    assert titles("ordering=priority") == ["Index is stale", "Old index problem", "Other"]
    assert titles(f"q={resolved.number}") == ["Old index problem"]
    bad = client.get("/api/v1/incidents/?status=sleeping")
    assert bad.status_code == 400 and "status" in bad.json()


def test_list_pages_with_a_cursor(api, responder):
    for i in range(5):
        IncidentFactory(title=f"n{i}")
    client = api.as_user(responder)

    first = client.get("/api/v1/incidents/?page_size=2").json()
    second = client.get(first["next"]).json()

    assert [i["title"] for i in first["results"]] == ["n4", "n3"]
    assert [i["title"] for i in second["results"]] == ["n2", "n1"]


def test_updates_roles_tasks_and_timeline_nested(api, responder):
    commander = UserFactory(username="carol")
    incident = IncidentFactory()
    url = f"/api/v1/incidents/{incident.number}"
    client = api.as_user(responder)

    note = client.post(
        f"{url}/updates/", {"visibility": "internal", "body": "Looking at logs"}, format="json"
    )
    public = client.post(
        f"{url}/updates/", {"visibility": "public", "body": "We are investigating"}, format="json"
    )
    role = client.post(f"{url}/roles/", {"kind": "commander", "user": "carol"}, format="json")
    task = client.post(f"{url}/tasks/", {"title": "Page the DBA"}, format="json")
    ticked = client.patch(f"{url}/tasks/{task.json()['id']}/", {"done": True}, format="json")

    assert note.status_code == public.status_code == role.status_code == task.status_code == 201
    assert ticked.json()["done"] is True and ticked.json()["done_at"] is not None
    public_only = client.get(f"{url}/updates/?visibility=public").json()["results"]
    assert [u["body"] for u in public_only] == ["We are investigating"]
    assert client.get(f"{url}/roles/").json()[0]["user"] == "carol"
    kinds = [e["kind"] for e in client.get(f"{url}/timeline/").json()["results"]]
    assert kinds == [
        "task_changed",
        "task_added",
        "role_assigned",
        "update_posted",
        "update_posted",
        "created",
    ]
    assert commander.incident_roles.count() == 1


def test_single_holder_role_is_replaced_and_logged(api, responder):
    UserFactory(username="first")
    UserFactory(username="second")
    incident = IncidentFactory()
    url = f"/api/v1/incidents/{incident.number}/roles/"
    client = api.as_user(responder)

    client.post(url, {"kind": "commander", "user": "first"}, format="json")
    client.post(url, {"kind": "commander", "user": "second"}, format="json")

    assert [r["user"] for r in client.get(url).json()] == ["second"]
    assert incident.timeline.filter(kind="role_assigned").latest("id").data["replaced"] == "first"


def test_apply_runbook_by_hand_once(api, responder):
    book = RunbookFactory(steps=["a", "b"])
    incident = IncidentFactory()
    url = f"/api/v1/incidents/{incident.number}/apply-runbook/"

    first = api.as_user(responder).post(url, {"runbook": book.pk}, format="json")
    again = api.post(url, {"runbook": book.pk}, format="json")

    assert [t["title"] for t in first.json()] == ["a", "b"]
    assert again.status_code == 409


def test_unknown_incident_is_404(api, responder):
    assert api.as_user(responder).get("/api/v1/incidents/INC-424242/").status_code == 404
    assert api.get("/api/v1/incidents/INC-424242/timeline/").status_code == 404


def test_openapi_schema_and_offline_docs(api, responder):
    schema = api.as_user(responder).get("/api/schema/")
    docs = api.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/incidents/{number}/{transition}/" in schema.content
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
    assert b"/static/drf_spectacular_sidecar/" in docs.content
