"""The public JSON against Atlassian Statuspage v2's shapes (shared/reference)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import services as incident_services
from statuspage import services
from tests.factories import IncidentFactory
from tests.statuspage.conftest import SECRET, internal_notes
from tests.statuspage.factories import ComponentFactory, GroupFactory

pytestmark = pytest.mark.django_db

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$")
PAGE_KEYS = {"id", "name", "url", "time_zone", "updated_at"}
COMPONENT_KEYS = {
    "id", "name", "status", "created_at", "updated_at", "position", "description", "showcase",
    "start_date", "group_id", "page_id", "group", "only_show_if_degraded",
}  # fmt: skip
INCIDENT_KEYS = {
    "id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at",
    "impact", "shortlink", "started_at", "page_id", "incident_updates", "components",
}  # fmt: skip
UPDATE_KEYS = {
    "id", "status", "body", "incident_id", "created_at", "updated_at", "display_at",
    "affected_components", "deliver_notifications",
}  # fmt: skip
COMPONENT_STATUSES = {
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance",
}  # fmt: skip
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}


def assert_timestamp(value, nullable=False):
    if nullable and value is None:
        return
    assert isinstance(value, str) and TIMESTAMP.match(value), value


def assert_page(page):
    assert set(page) == PAGE_KEYS
    assert all(isinstance(page[k], str) for k in ("id", "name", "url", "time_zone"))
    assert_timestamp(page["updated_at"])


def assert_component(c):
    expected = COMPONENT_KEYS | ({"components"} if c["group"] else set())
    assert set(c) == expected
    assert isinstance(c["id"], str) and isinstance(c["name"], str)
    assert c["status"] in COMPONENT_STATUSES
    assert isinstance(c["position"], int) and isinstance(c["showcase"], bool)
    assert isinstance(c["only_show_if_degraded"], bool) and isinstance(c["group"], bool)
    assert c["description"] is None or isinstance(c["description"], str)
    assert c["group_id"] is None or isinstance(c["group_id"], str)
    assert isinstance(c["page_id"], str)
    assert_timestamp(c["created_at"])
    assert_timestamp(c["updated_at"])
    if c["group"]:
        assert all(isinstance(i, str) for i in c["components"])


def assert_incident(i, maintenance=False):
    keys = INCIDENT_KEYS | ({"scheduled_for", "scheduled_until"} if maintenance else set())
    assert set(i) == keys
    statuses = MAINTENANCE_STATUSES if maintenance else INCIDENT_STATUSES
    assert i["status"] in statuses
    assert i["impact"] in (
        {"maintenance"} if maintenance else {"none", "minor", "major", "critical"}
    )
    for key in ("created_at", "updated_at", "started_at"):
        assert_timestamp(i[key])
    for key in ("monitoring_at", "resolved_at"):
        assert_timestamp(i[key], nullable=True)
    assert i["shortlink"].startswith("http")
    for u in i["incident_updates"]:
        assert set(u) == UPDATE_KEYS
        assert u["status"] in statuses and isinstance(u["body"], str)
        assert u["incident_id"] == i["id"]
        for key in ("created_at", "updated_at", "display_at"):
            assert_timestamp(u[key])
        assert isinstance(u["deliver_notifications"], bool)
        if u["affected_components"] is not None:
            for a in u["affected_components"]:
                assert set(a) == {"code", "name", "old_status", "new_status"}
                assert {a["old_status"], a["new_status"]} <= COMPONENT_STATUSES
    created = [u["created_at"] for u in i["incident_updates"]]
    assert created == sorted(created, reverse=True)  # newest first
    for c in i["components"]:
        assert_component(c)
    if maintenance:
        assert_timestamp(i["scheduled_for"])
        assert_timestamp(i["scheduled_until"])


@pytest.fixture
def full_page(responder, publish):
    """Groups, an open and a resolved incident, upcoming/active/completed maintenance,
    a private incident and internal notes that must not show."""
    core = GroupFactory(name="Core", position=1)
    api_c = ComponentFactory(name="API", group=core, position=1)
    db_c = ComponentFactory(name="Database", group=core, position=2)
    web = ComponentFactory(name="Website", position=0, description="The public site")
    open_incident = IncidentFactory(title=f"open {SECRET}", by=responder)
    publish(
        open_incident,
        components=[{"component": api_c.pk, "status": "partial_outage"}],
        title="Slow API",
        impact="minor",
    )
    incident_services.update_post(
        incident=open_incident,
        by=responder,
        visibility="public",
        status="monitoring",
        body="A fix is out; we are watching.",
    )
    internal_notes(open_incident, responder)
    resolved = IncidentFactory(title=f"resolved {SECRET}", by=responder)
    publish(
        resolved,
        components=[{"component": web.pk, "status": "major_outage"}],
        title="Website down",
        impact="critical",
    )
    incident_services.incident_transition(
        incident=resolved,
        action="resolve",
        by=responder,
        resolution_code="fixed",
        notes=f"notes {SECRET}",
    )
    private = IncidentFactory(title=f"private {SECRET}", by=responder)
    internal_notes(private, responder)
    now = timezone.now()
    upcoming = services.maintenance_create(
        name="Upgrade DB",
        scheduled_for=now + timedelta(days=2),
        scheduled_until=now + timedelta(days=2, hours=2),
        components=[db_c],
    )
    active = services.maintenance_create(
        name="Network work",
        scheduled_for=now - timedelta(minutes=5),
        scheduled_until=now + timedelta(hours=1),
        components=[db_c],
    )
    done = services.maintenance_create(
        name="Old work",
        scheduled_for=now - timedelta(days=3),
        scheduled_until=now - timedelta(days=3) + timedelta(hours=1),
        components=[web],
    )
    services.maintenances_advance()
    return {
        "core": core,
        "api": api_c,
        "db": db_c,
        "web": web,
        "upcoming": upcoming,
        "active": active,
        "done": done,
    }


def test_summary_matches_statuspage_shape(client, full_page):
    body = client.get("/status/api/v2/summary.json").json()

    assert set(body) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert_page(body["page"])
    for c in body["components"]:
        assert_component(c)
    names = [c["name"] for c in body["components"]]
    assert names == ["Website", "Core", "API", "Database"]
    group = body["components"][1]
    assert group["group"] is True
    assert group["components"] == [full_page["api"].code, full_page["db"].code]
    assert group["status"] == "partial_outage"  # the worst of its children
    assert body["components"][2]["group_id"] == group["id"]
    assert [i["name"] for i in body["incidents"]] == ["Slow API"]
    for i in body["incidents"]:
        assert_incident(i)
    assert [u["status"] for u in body["incidents"][0]["incident_updates"]] == [
        "monitoring",
        "investigating",
    ]
    assert body["incidents"][0]["monitoring_at"] is not None
    assert [m["name"] for m in body["scheduled_maintenances"]] == ["Network work", "Upgrade DB"]
    for m in body["scheduled_maintenances"]:
        assert_incident(m, maintenance=True)
    assert body["status"] == {"indicator": "major", "description": "Partial System Outage"}


def test_every_v2_endpoint_has_its_keys_and_shapes(client, full_page):
    expected = {
        "status.json": {"page", "status"},
        "components.json": {"page", "components"},
        "incidents.json": {"page", "incidents"},
        "incidents/unresolved.json": {"page", "incidents"},
        "scheduled-maintenances.json": {"page", "scheduled_maintenances"},
        "scheduled-maintenances/upcoming.json": {"page", "scheduled_maintenances"},
        "scheduled-maintenances/active.json": {"page", "scheduled_maintenances"},
    }
    bodies = {}
    for path, keys in expected.items():
        response = client.get(f"/status/api/v2/{path}")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response["Access-Control-Allow-Origin"] == "*"
        assert client.get(f"/api/v2/{path}").json() == response.json()
        bodies[path] = response.json()
        assert set(bodies[path]) == keys
        assert_page(bodies[path]["page"])

    assert bodies["status.json"]["status"]["indicator"] in {
        "none",
        "minor",
        "major",
        "critical",
        "maintenance",
    }
    assert [i["name"] for i in bodies["incidents.json"]["incidents"]] == [
        "Website down",
        "Slow API",
    ]
    for i in bodies["incidents.json"]["incidents"]:
        assert_incident(i)
    resolved = bodies["incidents.json"]["incidents"][0]
    assert resolved["status"] == "resolved" and resolved["resolved_at"] is not None
    assert resolved["impact"] == "critical"
    assert [i["name"] for i in bodies["incidents/unresolved.json"]["incidents"]] == ["Slow API"]
    all_maint = bodies["scheduled-maintenances.json"]["scheduled_maintenances"]
    assert {m["name"]: m["status"] for m in all_maint} == {
        "Upgrade DB": "scheduled",
        "Network work": "in_progress",
        "Old work": "completed",
    }
    for m in all_maint:
        assert_incident(m, maintenance=True)
    upcoming = bodies["scheduled-maintenances/upcoming.json"]["scheduled_maintenances"]
    active = bodies["scheduled-maintenances/active.json"]["scheduled_maintenances"]
    assert [m["name"] for m in upcoming] == ["Upgrade DB"]
    assert [m["name"] for m in active] == ["Network work"]
    assert len(bodies["components.json"]["components"]) == 4


def test_no_public_output_shows_private_or_internal_text(client, full_page):
    paths = [
        "/status/", "/status/history/", "/status/history.atom", "/status/history.rss",
        *(f"/status/api/v2/{p}" for p in (
            "summary.json", "status.json", "components.json", "incidents.json",
            "incidents/unresolved.json", "scheduled-maintenances.json",
            "scheduled-maintenances/upcoming.json", "scheduled-maintenances/active.json",
        )),
    ]  # fmt: skip
    from statuspage.models import PublicIncident

    paths += [f"/status/incidents/{p.code}/" for p in PublicIncident.objects.all()]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.content.decode()
        assert SECRET not in text, path
        assert "INC-" not in text, path
        assert "work note" not in text and "exec brief" not in text, path


def test_rollup_rules():
    from statuspage.models import Component, PublicIncident
    from statuspage.selectors import rollup

    def comps(*statuses):
        return [Component(status=s) for s in statuses]

    assert rollup(comps("operational"), [], []).indicator == "none"
    assert rollup(comps("operational"), [], []).description == "All Systems Operational"
    assert rollup(comps("degraded_performance"), [], []).description == "Degraded System Service"
    assert rollup(comps("partial_outage", "degraded_performance"), [], []).indicator == "major"
    assert rollup(comps("major_outage"), [], []).description == "Major System Outage"
    assert rollup(comps("under_maintenance"), [], []).indicator == "maintenance"
    assert (
        rollup(comps("operational"), [PublicIncident(impact="critical")], []).indicator
        == "critical"
    )
    assert rollup(comps("operational"), [PublicIncident(impact="none")], []).indicator == "none"
    minor = rollup(comps("operational"), [PublicIncident(impact="minor")], [])
    assert (minor.indicator, minor.description) == ("minor", "Minor Service Outage")
