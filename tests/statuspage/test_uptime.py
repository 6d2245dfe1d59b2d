from datetime import date

import pytest
import time_machine

from incidents import services as incident_services
from statuspage import services, uptime
from statuspage.models import UptimeDay
from tests.factories import IncidentFactory
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


def at(moment: str):
    return time_machine.travel(moment, tick=False)


def test_uptime_counts_each_status_as_documented(client, publish, responder):
    with at("2026-11-01 00:00Z"):
        component = ComponentFactory(name="API")
    with at("2026-11-02 06:00Z"):
        services.component_update(component=component, status="major_outage")
    with at("2026-11-02 12:00Z"):
        services.component_update(component=component, status="operational")
    with at("2026-11-03 00:00Z"):
        services.component_update(component=component, status="partial_outage")
    with at("2026-11-03 10:00Z"):
        services.component_update(component=component, status="degraded_performance")
    with at("2026-11-04 00:00Z"):
        services.component_update(component=component, status="under_maintenance")
    with at("2026-11-05 12:00Z"):
        written = uptime.uptime_rollup(days=5)

    days = {d.day: d for d in UptimeDay.objects.filter(component=component)}
    assert written == 5
    assert days[date(2026, 11, 1)].uptime == 100.0
    assert days[date(2026, 11, 2)].uptime == 75.0  # 6 h of 24 fully down
    assert days[date(2026, 11, 2)].worst == "major_outage"
    assert days[date(2026, 11, 2)].seconds == {"operational": 18 * 3600, "major_outage": 6 * 3600}
    assert days[date(2026, 11, 3)].uptime == 87.5  # 10 h partial at 30%; degraded is up
    assert days[date(2026, 11, 4)].uptime == 100.0  # maintenance counts as up
    assert days[date(2026, 11, 5)].seconds == {"under_maintenance": 12 * 3600}  # so far today


def test_uptime_skips_days_before_the_component_and_lists_incidents(publish, responder):
    with at("2026-11-02 12:00Z"):
        component = ComponentFactory(name="API")
    with at("2026-11-03 08:00Z"):
        incident = IncidentFactory(by=responder)
        publish(
            incident,
            components=[{"component": component.pk, "status": "major_outage"}],
            title="API down",
        )
    with at("2026-11-03 14:00Z"):
        incident_services.incident_transition(
            incident=incident, action="resolve", by=responder, resolution_code="fixed", notes="ok"
        )
    with at("2026-11-04 01:00Z"):
        uptime.uptime_rollup(days=4)

    days = {d.day: d for d in UptimeDay.objects.all()}
    assert sorted(days) == [date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)]
    assert days[date(2026, 11, 2)].seconds == {"operational": 12 * 3600}  # from creation
    assert days[date(2026, 11, 3)].uptime == 75.0
    assert days[date(2026, 11, 3)].incidents == ["API down"]
    assert days[date(2026, 11, 4)].incidents == []


def test_page_shows_rolled_up_bars_with_tooltips(client, publish, responder):
    with at("2026-11-01 00:00Z"):
        component = ComponentFactory(name="API")
    with at("2026-11-02 06:00Z"):
        publish(
            IncidentFactory(by=responder),
            components=[{"component": component.pk, "status": "major_outage"}],
            title="API down",
        )
    with at("2026-11-02 12:00Z"):
        services.component_update(component=component, status="operational")
    with at("2026-11-03 12:00Z"):
        uptime.uptime_rollup(days=3)
        text = client.get("/status/").content.decode()

    assert text.count('class="sp-bar ') == 90
    assert "sp-day-major_outage" in text
    assert "2 Nov 2026</strong>\n        75.00% uptime<br>API down" in text
    assert "91.67% uptime" in text  # the mean of 100, 75, 100


def test_rollup_task_is_scheduled(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["statuspage-rollup-uptime"]
    assert schedule["task"] == "statuspage.tasks.rollup_uptime"
