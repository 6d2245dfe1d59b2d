"""The paging panel on the incident page: state, Page, Escalate now, SLA and update clocks."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalation.models import EscalationRun
from escalation.services import runs_fire_due
from incidents import services as incident_services
from tests.escalation.factories import ScheduleFactory, policy, rotation
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db
START = datetime(2026, 1, 7, 10, 0, tzinfo=UTC)  # a Wednesday
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def paged(clock, team, alice, carol):
    schedule = ScheduleFactory(name="Primary")
    rotation(schedule, [alice])
    policy(
        name="Payments",
        team=team,
        is_team_default=True,
        levels=[
            {"targets": [schedule], "delay_minutes": 5},
            {"targets": [carol], "delay_minutes": 10},
        ],
    )
    incident = IncidentFactory(team=team, impact=1, urgency=2)  # P2
    runs_fire_due()
    return incident


def panel(client, incident, **extra):
    return client.get(f"/incidents/{incident.number}/paging/", **extra).content.decode()


def test_panel_shows_who_was_paged_next_level_and_clocks(client, responder, paged):
    client.force_login(responder)

    html = panel(client, paged)

    assert "Policy</dt><dd>Payments" in html
    assert (
        'data-testid="next-level">Level 2 at '
        '<time datetime="2026-01-07T10:05:00+00:00">10:05:00 UTC' in html
    )
    assert 'alice <span class="muted">(level 1, via schedule Primary)' in html
    assert '<span class="badge">email pending</span>' in html
    # P2: acknowledge within 30 minutes, resolve within 8 hours, update every hour.
    assert 'Time to acknowledge:\n      due <time datetime="2026-01-07T10:30:00+00:00">' in html
    assert 'Time to resolve:\n      due <time datetime="2026-01-07T18:00:00+00:00">' in html
    assert 'Next stakeholder update due <time datetime="2026-01-07T11:00:00+00:00">' in html
    assert "Escalate now" in html
    assert 'hx-trigger="every 10s" hx-swap="outerHTML"' in html  # live while open


def test_escalate_now_pages_the_next_level_at_once(client, responder, paged):
    client.force_login(responder)

    response = client.post(
        f"/incidents/{paged.number}/paging/", {"action": "escalate", "level": ""}, **HTMX
    )
    runs_fire_due()
    html = panel(client, paged)

    assert response.status_code == 200
    assert 'carol <span class="muted">(level 2, directly)' in html
    assert "Every level paged; still unacknowledged" in html
    assert paged.timeline.filter(kind="escalated", actor=responder).count() == 1


def test_escalate_to_a_chosen_level_and_bad_levels(client, responder, paged):
    client.force_login(responder)
    url = f"/incidents/{paged.number}/paging/"

    bad = client.post(url, {"action": "escalate", "level": "7"})
    worse = client.post(url, {"action": "escalate", "level": "two"})
    chosen = client.post(url, {"action": "escalate", "level": "1"})

    assert bad.status_code == 400 and "Choose a level from 1 to 2." in bad.content.decode()
    assert worse.status_code == 400 and "Enter a whole number." in worse.content.decode()
    assert chosen.status_code == 302 and chosen["Location"] == f"/incidents/{paged.number}/"
    assert EscalationRun.objects.get(incident=paged).level == 0


def test_acknowledge_shows_in_the_panel_and_clocks(client, responder, paged, clock):
    client.force_login(responder)
    clock.shift(timedelta(minutes=3))
    incident_services.incident_transition(incident=paged, action="acknowledge", by=responder)

    html = panel(client, paged)

    assert "Acknowledged: acknowledge by ravi at" in html
    assert "Time to acknowledge:\n      met at 10:03 UTC" in html
    assert "Escalate now" not in html and "Page</button>" in html


def test_page_button_and_conflicts(client, responder, stakeholder, clock, team):
    policy(name="Team", team=team, is_team_default=True, levels=[{"targets": [team]}])
    incident = IncidentFactory(team=team, priority=5, impact=3, urgency=3)
    url = f"/incidents/{incident.number}/paging/"
    client.force_login(responder)
    EscalationRun.objects.all().delete()

    assert "Not paged. Paging uses policy Team." in panel(client, incident)
    client.post(url, {"action": "page"}, **HTMX)
    assert EscalationRun.objects.get(incident=incident).state == "active"
    html = panel(client, incident)
    assert 'Time to acknowledge:\n      <span class="muted">no target' in html

    incident_services.incident_transition(
        incident=incident, action="cancel", by=responder, reason="false_alarm"
    )
    refused = client.post(url, {"action": "page"})
    in_page = client.post(url, {"action": "page"}, **HTMX)
    assert refused.status_code == 409
    assert in_page.status_code == 409 and "cannot be paged" in in_page.content.decode()
    assert client.post(url, {"action": "nope"}).status_code == 400

    client.force_login(stakeholder)
    assert client.post(url, {"action": "page"}).status_code == 403
    assert client.get("/incidents/INC-999999/paging/").status_code == 404


def test_no_policy_is_said_out_loud(client, responder, clock):
    incident = IncidentFactory()
    client.force_login(responder)
    assert "No escalation policy for this service or team" in panel(client, incident)


def test_panel_runs_constant_queries(client, responder, clock, team, django_assert_max_num_queries):
    users = [UserFactory(username=f"u{i}") for i in range(3)]
    one_policy = policy(name="One", levels=[{"targets": users[:1], "delay_minutes": 1}])
    three_policy = policy(
        name="Three", levels=[{"targets": users, "delay_minutes": 1}] * 3, repeat=1
    )
    client.force_login(responder)

    counts = []
    for p in (one_policy, three_policy):
        p.team, p.is_team_default = team, True
        p.save()
        incident = IncidentFactory(team=team, impact=1, urgency=1)
        for _ in range(3):
            runs_fire_due()
            clock.shift(timedelta(minutes=2))
        with CaptureQueriesContext(connection) as captured:
            html = panel(client, incident)
        counts.append(len(captured))
        p.is_team_default = False
        p.save()
    assert counts[0] == counts[1]
    assert html.count("(level ") >= 6
    with django_assert_max_num_queries(counts[0]):
        panel(client, incident)


def test_timeline_says_who_was_paged_and_why_in_words(client, responder, paged):
    client.force_login(responder)
    html = client.get(f"/incidents/{paged.number}/timeline/").content.decode()
    assert '<span class="event-text">Paged alice via schedule Primary at level 1.</span>' in html
