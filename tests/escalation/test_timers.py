"""SLA timers, stakeholder-update reminders, shift-start notices, the auditor and its health
endpoint: rows with due times, fired by the sweeper."""

import logging
from datetime import UTC, date, datetime, time, timedelta

import pytest

from escalation import services
from escalation.models import (
    EscalationRun,
    IncidentTimer,
    Notification,
    SlaBreach,
    SlaTarget,
)
from escalation.services import timers_fire_due
from incidents import services as incident_services
from tests.escalation.conftest import START, messages
from tests.escalation.factories import ScheduleFactory, policy, rotation
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def p2(team, **kwargs):
    """Impact 1 x urgency 2 is P2: acknowledge in 30 min, resolve in 8 h, update hourly."""
    return IncidentFactory(team=team, impact=1, urgency=2, **kwargs)


def test_sla_warns_at_75_percent_then_tells_the_team_manager_at_breach(clock, team, manager):
    incident = p2(team)

    clock.move_to(START + timedelta(minutes=22, seconds=29))
    timers_fire_due()
    assert messages(incident, "sla_warning") == []
    clock.move_to(START + timedelta(minutes=22, seconds=30))
    timers_fire_due()
    assert messages(incident, "sla_warning") == ["75% of the time to acknowledge has passed."]

    clock.move_to(START + timedelta(minutes=30))
    timers_fire_due()
    assert messages(incident, "sla_breached") == [
        "Time to acknowledge breached: maria (team manager) notified."
    ]
    breach = SlaBreach.objects.get(incident=incident)
    assert (breach.kind, breach.target, breach.breached_at) == (
        "acknowledge",
        timedelta(minutes=30),
        START + timedelta(minutes=30),
    )
    sent = Notification.objects.get(reason="sla_breach")
    assert (sent.recipient, sent.subject) == (
        manager,
        f"[Vigil] SLA breached on {incident.number}: time to acknowledge",
    )


def test_acknowledging_in_time_cancels_the_acknowledge_timers(clock, team, alice):
    incident = p2(team)
    clock.move_to(START + timedelta(minutes=5))
    incident_services.incident_transition(incident=incident, action="acknowledge", by=alice)

    clock.move_to(START + timedelta(hours=1))
    timers_fire_due()

    assert not SlaBreach.objects.exists()
    assert messages(incident, "sla_warning") == []


def test_on_hold_pauses_the_resolve_timer(clock, team, alice):
    incident = p2(team)
    incident_services.incident_transition(incident=incident, action="acknowledge", by=alice)
    clock.move_to(START + timedelta(hours=1))
    incident_services.incident_transition(
        incident=incident, action="hold", by=alice, reason="awaiting_vendor"
    )
    clock.move_to(START + timedelta(hours=11))  # long past the 8 h target, but on hold
    timers_fire_due()
    assert not SlaBreach.objects.exists()

    incident_services.incident_transition(incident=incident, action="investigate", by=alice)

    # 7 h of the 8 h were left when it went on hold.
    due = dict(IncidentTimer.objects.filter(state="pending").values_list("kind", "due_at"))
    assert due["resolve_warning"] == START + timedelta(hours=11 + 5)
    assert due["resolve_breach"] == START + timedelta(hours=11 + 7)
    clock.move_to(START + timedelta(hours=18))
    timers_fire_due()
    assert SlaBreach.objects.get(incident=incident).kind == "resolve"


def test_sla_targets_are_editable_per_priority(clock, team):
    SlaTarget.objects.create(priority=2, time_to_acknowledge=timedelta(minutes=4))
    incident = p2(team)

    clock.move_to(START + timedelta(minutes=4))
    timers_fire_due()

    assert SlaBreach.objects.get(incident=incident).target == timedelta(minutes=4)
    assert not incident.timers.filter(kind__startswith="resolve").exists()


def test_update_reminder_goes_to_the_communications_lead_at_the_cadence(clock, team, bob, carol):
    incident = p2(team, assignee=bob)
    incident_services.role_assign(incident=incident, kind="communications", user=carol, by=bob)
    clock.move_to(START + timedelta(minutes=30))
    incident_services.update_post(
        incident=incident, by=bob, visibility="stakeholders", body="We are on it."
    )
    assert services.next_update_due(incident) == START + timedelta(minutes=90)

    clock.move_to(START + timedelta(minutes=89))
    timers_fire_due()
    assert messages(incident, "update_due") == []
    clock.move_to(START + timedelta(minutes=90))
    timers_fire_due()

    assert messages(incident, "update_due") == ["A stakeholder update is due; reminded carol."]
    assert Notification.objects.get(reason="update_reminder").recipient == carol
    assert services.next_update_due(incident) == START + timedelta(minutes=150)


def test_update_reminder_falls_back_to_the_assignee(clock, team, bob):
    incident = p2(team, assignee=bob)
    clock.move_to(START + timedelta(hours=1))
    timers_fire_due()
    assert messages(incident, "update_due") == ["A stakeholder update is due; reminded bob."]


def test_shift_start_is_announced_once(alice, bob):
    schedule = ScheduleFactory(name="Primary")
    rotation(schedule, [alice, bob], start_date=date(2026, 1, 5), turn_unit="days")
    # Wednesday 7 January: alice's third daily turn starts at 09:00.
    before = datetime.combine(date(2026, 1, 7), time(8, 50), tzinfo=UTC)

    assert services.shift_notices_send(now=before) == 1
    assert services.shift_notices_send(now=before + timedelta(minutes=5)) == 0

    notice = Notification.objects.get(reason="shift_start")
    assert (notice.recipient, notice.subject) == (
        alice,
        "[Vigil] Your on-call shift on Primary starts",
    )


@pytest.fixture
def overdue_run(clock, team, alice):
    policy(name="P", team=team, is_team_default=True, levels=[{"targets": [alice]}])
    incident = IncidentFactory(team=team)
    # Its message was lost and no sweeper ran for five minutes.
    EscalationRun.objects.filter(incident=incident).update(next_at=START - timedelta(minutes=5))
    return incident


def test_auditor_fires_and_logs_overdue_runs(overdue_run, caplog):
    with caplog.at_level(logging.ERROR, logger="escalation.services"):
        assert services.runs_audit() == 1

    assert "1 escalation runs overdue by over a minute" in caplog.text
    assert messages(overdue_run, "paged") == ["Paged alice directly at level 1."]
    assert services.runs_audit() == 0


def test_health_endpoint_reports_the_overdue_count(overdue_run, client, django_assert_num_queries):
    with django_assert_num_queries(2):
        response = client.get("/health/escalation/")
    assert (response.status_code, response.json()) == (
        503,
        {"status": "overdue", "overdue_runs": 1, "overdue_notifications": 0},
    )

    services.runs_audit()

    response = client.get("/health/escalation/")
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "overdue_runs": 0, "overdue_notifications": 0},
    )


def test_health_endpoint_counts_notifications_stuck_in_the_outbox(overdue_run, client, clock):
    services.runs_audit()
    clock.move_to(START + timedelta(minutes=2))  # alice's email was never claimed

    response = client.get("/health/escalation/")

    assert response.json()["overdue_notifications"] == 1
