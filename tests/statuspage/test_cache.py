import time

import pytest
from django.core.cache import cache as django_cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import services as incident_services
from statuspage import cache as status_cache
from statuspage import services
from statuspage.models import Component

pytestmark = pytest.mark.django_db

PUBLIC_PATHS = [
    "/status/", "/status/history/", "/status/history.atom", "/status/history.rss",
    "/status/api/v2/summary.json", "/status/api/v2/status.json",
    "/status/api/v2/components.json", "/status/api/v2/incidents.json",
    "/status/api/v2/incidents/unresolved.json", "/status/api/v2/scheduled-maintenances.json",
    "/status/api/v2/scheduled-maintenances/upcoming.json",
    "/status/api/v2/scheduled-maintenances/active.json", "/api/v2/summary.json",
]  # fmt: skip


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_cache_hit_runs_no_sql_and_sets_no_cookie(client, api_component, path):
    first = client.get(path)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(path)

    assert first.status_code == second.status_code == 200
    assert len(queries) == 0, [q["sql"] for q in queries]
    assert second.content == first.content
    assert not first.cookies and not second.cookies
    assert "Cookie" not in second.get("Vary", "")


def test_a_logged_in_user_gets_the_same_cached_page(client, responder, api_component):
    anonymous = client.get("/status/")
    client.force_login(responder)
    with CaptureQueriesContext(connection) as queries:
        logged_in = client.get("/status/")
    assert len(queries) == 0
    assert logged_in.content == anonymous.content
    assert responder.username not in logged_in.content.decode()


@pytest.mark.django_db(transaction=True)
def test_changes_invalidate_the_cached_outputs(client, responder, publish, incident, api_component):
    assert client.get("/status/api/v2/status.json").json()["status"]["indicator"] == "none"
    before = client.get("/status/").content.decode()
    assert "All Systems Operational" in before

    publish(
        incident,
        components=[{"component": api_component.pk, "status": "major_outage"}],
        impact="critical",
    )

    assert client.get("/status/api/v2/status.json").json()["status"] == {
        "indicator": "critical",
        "description": "Major System Outage",
    }
    page = client.get("/status/").content.decode()
    assert "Major System Outage" in page and "Elevated API errors" in page

    incident_services.update_post(
        incident=incident,
        by=responder,
        visibility="public",
        status="identified",
        body="Cause identified: a bad cable.",
    )
    assert "a bad cable" in client.get("/status/").content.decode()

    services.component_update(component=api_component, name="Public API")
    assert "Public API" in client.get("/status/api/v2/components.json").content.decode()


@pytest.mark.django_db(transaction=True)
def test_making_a_published_incident_private_hides_it(client, responder, publish, incident):
    team = incident_services.Team.objects.create(name="Core", slug="core")
    team.members.add(responder)
    publish(incident)
    assert client.get("/status/api/v2/incidents.json").json()["incidents"]

    incident_services.incident_assign(incident=incident, by=responder, team=team)
    incident_services.incident_update_details(incident=incident, by=responder, is_private=True)

    assert client.get("/status/api/v2/incidents.json").json()["incidents"] == []
    assert "Elevated API errors" not in client.get("/status/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_etag_and_last_modified_answer_304(client, api_component):
    first = client.get("/status/api/v2/summary.json")
    etag, modified = first["ETag"], first["Last-Modified"]

    by_etag = client.get("/status/api/v2/summary.json", HTTP_IF_NONE_MATCH=etag)
    by_date = client.get("/status/api/v2/summary.json", HTTP_IF_MODIFIED_SINCE=modified)
    stale = client.get("/status/api/v2/summary.json", HTTP_IF_NONE_MATCH='"other"')

    assert by_etag.status_code == by_date.status_code == 304
    assert by_etag.content == b"" and by_etag["ETag"] == etag
    assert stale.status_code == 200

    time.sleep(0.002)  # the version is the change time in milliseconds
    services.component_update(component=api_component, status="major_outage")
    changed = client.get("/status/api/v2/summary.json", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_with_redis_down_the_page_serves_from_the_database(client, settings, api_component):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    services.component_update(component=api_component, status="degraded_performance")

    page = client.get("/status/")
    summary = client.get("/status/api/v2/summary.json")

    assert page.status_code == summary.status_code == 200
    text = page.content.decode()
    assert "Degraded System Service" in text and "API" in text
    assert "cache" not in text.lower() and "redis" not in text.lower()
    assert summary.json()["components"][0]["status"] == "degraded_performance"
    assert page["ETag"]


def test_a_process_serves_its_copy_for_a_moment_and_its_own_changes_at_once(
    client, api_component, settings, django_capture_on_commit_callbacks
):
    settings.STATUSPAGE_LOCAL_SECONDS = 60
    before = client.get("/status/api/v2/components.json").content.decode()
    # Another process's change: only the version in Redis moves. This process keeps
    # serving its copy without asking Redis until STATUSPAGE_LOCAL_SECONDS pass.
    django_cache.set(status_cache.VERSION_KEY, status_cache._now_ms() + 1000, timeout=None)
    Component.objects.filter(pk=api_component.pk).update(name="Renamed elsewhere")
    with CaptureQueriesContext(connection) as queries:
        meanwhile = client.get("/status/api/v2/components.json").content.decode()

    assert meanwhile == before and len(queries) == 0

    with django_capture_on_commit_callbacks(execute=True):  # a change in this process
        services.component_update(component=api_component, name="Public API")
    assert "Public API" in client.get("/status/api/v2/components.json").content.decode()


def test_the_copy_expires_after_its_seconds(client, api_component, settings, monkeypatch):
    settings.STATUSPAGE_LOCAL_SECONDS = 1
    client.get("/status/api/v2/components.json")
    django_cache.set(status_cache.VERSION_KEY, status_cache._now_ms() + 1000, timeout=None)
    Component.objects.filter(pk=api_component.pk).update(name="Renamed elsewhere")

    now = time.monotonic  # a second later, without sleeping through it
    monkeypatch.setattr(time, "monotonic", lambda: now() + 1)

    assert "Renamed elsewhere" in client.get("/status/api/v2/components.json").content.decode()
