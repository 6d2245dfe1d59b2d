from datetime import time, timedelta

import pytest
import time_machine

from escalation import services
from escalation.models import (
    EscalationRun,
    Notification,
    ServiceOnCall,
)
from escalation.services import runs_fire_due
from incidents import services as incident_services
from tests.escalation.conftest import START, messages
from tests.escalation.factories import ScheduleFactory, policy, rotation
from tests.factories import IncidentFactory, ServiceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_levels(team, alice, bob, carol):
    schedule = ScheduleFactory(name="Primary")
    rotation(schedule, [alice])
    return policy(
        name="Payments",
        team=team,
        is_team_default=True,
        levels=[
            {"targets": [schedule], "delay_minutes": 5},
            {"targets": [carol], "delay_minutes": 10},
        ],
    )


def test_trigger_starts_a_run_with_a_snapshot_due_now(clock, team, two_levels):
    incident = IncidentFactory(team=team)

    run = EscalationRun.objects.get(incident=incident)
    assert (run.state, run.level, run.next_at) == ("active", 0, START)
    assert [level["targets"][0]["name"] for level in run.snapshot["levels"]] == [
        "Primary",
        "carol",
    ]
    assert messages(incident, "paging_started") == [
        "Paging started with policy Payments (incident triggered)."
    ]


def test_levels_fire_in_order_and_say_who_and_why(clock, team, two_levels):
    incident = IncidentFactory(team=team)

    assert runs_fire_due() == 1
    clock.shift(timedelta(minutes=4, seconds=59))
    assert runs_fire_due() == 0
    clock.shift(timedelta(seconds=1))
    assert runs_fire_due() == 1

    assert messages(incident, "paged") == [
        "Paged alice via schedule Primary at level 1.",
        "Paged carol directly at level 2.",
    ]
    sent_to = Notification.objects.order_by("id").values_list("recipient__username", "channel")
    assert list(sent_to) == [("alice", "email"), ("carol", "email")]
    run = EscalationRun.objects.get(incident=incident)
    assert (run.state, run.next_at) == ("active", None)  # every level paged, still unacked


def test_policy_repeats_n_times_then_stops(clock, team, alice):
    policy(
        name="Loop", team=team, is_team_default=True, repeat=2,
        levels=[{"targets": [alice], "delay_minutes": 1}],
    )  # fmt: skip
    incident = IncidentFactory(team=team)

    for _ in range(5):
        runs_fire_due()
        clock.shift(timedelta(minutes=1))

    assert len(messages(incident, "paged")) == 3
    assert Notification.objects.filter(recipient=alice).count() == 3


def test_empty_schedule_is_a_visible_error(clock, team):
    empty = ScheduleFactory(name="Nobody")
    policy(name="Empty", team=team, is_team_default=True, levels=[{"targets": [empty]}])
    incident = IncidentFactory(team=team)

    runs_fire_due()

    assert messages(incident, "paging_error") == [
        "Nobody on call at level 1: schedule Nobody has nobody on call."
    ]
    assert Notification.objects.count() == 0


def test_no_policy_pages_nobody(clock):
    incident = IncidentFactory(service=ServiceFactory(name="Ledger"))

    assert list(incident.timeline.values_list("kind", flat=True)) == ["created"]
    assert not EscalationRun.objects.exists()


def test_acknowledge_stops_the_run_and_cancels_pending_pages(clock, team, two_levels, alice):
    incident = IncidentFactory(team=team)
    runs_fire_due()
    Notification.objects.update(status="pending")

    incident_services.incident_transition(incident=incident, action="acknowledge", by=alice)
    clock.shift(timedelta(minutes=30))

    assert runs_fire_due() == 0
    run = EscalationRun.objects.get(incident=incident)
    assert (run.state, run.stop_reason) == ("acknowledged", "acknowledge by alice")
    assert list(Notification.objects.values_list("status", flat=True)) == ["cancelled"]
    assert [e.kind for e in incident.timeline.order_by("id")][-1] == "transitioned"


def test_resolve_stops_paging(clock, team, two_levels):
    incident = IncidentFactory(team=team)
    incident_services.incident_transition(
        incident=incident, action="resolve", by=None, resolution_code="fixed", notes="ok"
    )
    assert EscalationRun.objects.get(incident=incident).state == "stopped"


def test_reassigning_to_another_team_starts_its_policy(clock, team, two_levels, carol):
    other = TeamFactory(name="Database", members=[carol])
    policy(name="DBA", team=other, is_team_default=True, levels=[{"targets": [other]}])
    incident = IncidentFactory(team=team)
    runs_fire_due()

    incident_services.incident_assign(incident=incident, by=None, team=other)
    runs_fire_due()

    runs = EscalationRun.objects.filter(incident=incident).order_by("id")
    assert [(r.policy.name, r.state) for r in runs] == [("Payments", "stopped"), ("DBA", "active")]
    assert messages(incident, "paged")[-1] == "Paged carol via team Database at level 1."


def test_a_running_escalation_follows_its_snapshot(clock, team, two_levels, bob):
    incident = IncidentFactory(team=team)
    runs_fire_due()
    level_two = two_levels.levels.get(position=1)
    level_two.targets.all().delete()
    services.level_add(policy=two_levels, targets=[bob], position=1)

    clock.shift(timedelta(minutes=5))
    runs_fire_due()

    assert messages(incident, "paged")[-1] == "Paged carol directly at level 2."


def test_service_policy_wins_over_the_team_default(clock, team, two_levels, bob):
    service = ServiceFactory(team=team)
    own = policy(name="Service", levels=[{"targets": [bob]}])
    ServiceOnCall.objects.create(service=service, policy=own)
    incident = IncidentFactory(service=service)

    assert EscalationRun.objects.get(incident=incident).policy == own


def test_after_hours_uses_its_own_first_level(team, alice, bob):
    policy(
        name="Hours", team=team, is_team_default=True, time_zone="UTC",
        business_days=[0, 1, 2, 3, 4], business_start=time(9), business_end=time(17),
        levels=[
            {"targets": [alice], "hours": "business"},
            {"targets": [bob], "hours": "after_hours"},
        ],
    )  # fmt: skip
    with time_machine.travel(START, tick=False):  # Wednesday 10:00
        day = IncidentFactory(team=team)
    with time_machine.travel(START.replace(hour=22), tick=False):
        night = IncidentFactory(team=team)

    def first_target(incident):
        return EscalationRun.objects.get(incident=incident).snapshot["levels"][0]["targets"]

    assert first_target(day)[0]["name"] == "alice"
    assert first_target(night)[0]["name"] == "bob"


def test_low_priority_pages_only_within_support_hours(team, two_levels):
    service = ServiceFactory(team=team)
    ServiceOnCall.objects.create(
        service=service, support_days=[0, 1, 2, 3, 4],
        support_start=time(9), support_end=time(17),
    )  # fmt: skip
    with time_machine.travel(START.replace(hour=20), tick=False):
        low = IncidentFactory(service=service, impact=3, urgency=3)  # P5
        high = IncidentFactory(service=service, impact=1, urgency=1)  # P1

    assert EscalationRun.objects.get(incident=low).next_at == START.replace(day=8, hour=9)
    assert EscalationRun.objects.get(incident=high).next_at == START.replace(hour=20)
    assert "starts at 2026-01-08T09:00:00+00:00" in messages(low, "paging_started")[0]


def test_escalate_now_jumps_to_the_next_or_a_chosen_level(clock, team, two_levels, bob):
    incident = IncidentFactory(team=team)
    runs_fire_due()

    services.run_escalate_now(incident=incident, by=bob)
    runs_fire_due()
    assert messages(incident, "paged")[-1] == "Paged carol directly at level 2."

    clock.shift(60)
    services.run_escalate_now(incident=incident, by=bob, level=1)
    runs_fire_due()
    assert messages(incident, "paged")[-1] == "Paged alice via schedule Primary at level 1."
    # Paged again, not taken for a retry of her first page.
    assert Notification.objects.filter(recipient__username="alice", reason="page").count() == 2
    assert messages(incident, "escalated") == [
        "bob escalated to level 2 now.",
        "bob escalated to level 1 now.",
    ]


def test_page_button_restarts_paging(clock, team, two_levels, bob):
    incident = IncidentFactory(team=team)
    incident_services.incident_transition(incident=incident, action="acknowledge", by=bob)

    run = services.incident_page(incident=incident, by=bob)

    assert run.state == "active"
    assert EscalationRun.objects.filter(incident=incident).count() == 2


def test_firing_twice_writes_each_notification_once(clock, team, two_levels):
    incident = IncidentFactory(team=team)
    run = EscalationRun.objects.get(incident=incident)
    services._fire(run, START, services._Lookup(START), [])
    run.level, run.next_at = 0, START  # as a rolled-back step leaves it
    # A retried step: same keys, no new rows.
    services._fire(run, START, services._Lookup(START), [])

    assert Notification.objects.count() == 1


def test_notification_rules_follow_their_delays(clock, team, alice, hook):
    email = services.contact_method_create(user=alice, kind="email", address="a@example.com")
    webhook = services.contact_method_create(user=alice, kind="webhook", address=hook.url)
    services.notification_rule_create(user=alice, contact_method=email, delay_minutes=0)
    services.notification_rule_create(user=alice, contact_method=webhook, delay_minutes=2)
    policy(name="P", team=team, is_team_default=True, levels=[{"targets": [alice]}])
    IncidentFactory(team=team)

    runs_fire_due()

    rows = Notification.objects.order_by("due_at").values_list("channel", "address", "due_at")
    assert list(rows) == [
        ("email", "a@example.com", START),
        ("webhook", hook.url, START + timedelta(minutes=2)),
    ]


def test_user_without_rules_gets_email_at_their_account_address(clock, team):
    dora = UserFactory(username="dora", email="dora@example.com")
    policy(name="P", team=team, is_team_default=True, levels=[{"targets": [dora]}])
    IncidentFactory(team=team)

    runs_fire_due()

    assert list(Notification.objects.values_list("channel", "address")) == [
        ("email", "dora@example.com")
    ]


def test_a_user_over_the_hourly_cap_is_a_visible_paging_error(clock, team, alice, settings):
    settings.ESCALATION_NOTIFY_MAX_PER_HOUR = 1
    policy(name="P", team=team, is_team_default=True, levels=[{"targets": [alice]}])
    first, second = IncidentFactory(team=team), IncidentFactory(team=team)

    runs_fire_due()

    assert messages(first, "paged") == ["Paged alice directly at level 1."]
    assert messages(second, "paged") == []
    assert messages(second, "paging_error") == [
        "Nobody was paged at level 1: alice was sent 1 notifications this hour already."
    ]
