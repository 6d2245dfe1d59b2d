from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from incidents import services
from incidents.enums import Status
from incidents.exceptions import Conflict, TransitionNotAllowed
from incidents.models import Incident, TimelineEvent
from incidents.tasks import close_stale_incidents
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db

# What each action needs to succeed, so every case tests the state rule alone.
PARAMS = {
    "hold": {"reason": "awaiting_vendor"},
    "resolve": {"resolution_code": "fixed", "notes": "Restarted the pool."},
    "cancel": {"reason": "false_alarm"},
}
ALLOWED = {
    ("acknowledge", "triggered"): "acknowledged",
    ("investigate", "triggered"): "investigating",
    ("investigate", "acknowledged"): "investigating",
    ("investigate", "mitigated"): "investigating",
    ("investigate", "on_hold"): "investigating",
    ("mitigate", "triggered"): "mitigated",
    ("mitigate", "acknowledged"): "mitigated",
    ("mitigate", "investigating"): "mitigated",
    ("mitigate", "on_hold"): "mitigated",
    ("hold", "acknowledged"): "on_hold",
    ("hold", "investigating"): "on_hold",
    ("hold", "mitigated"): "on_hold",
    **{("resolve", s): "resolved" for s in
       ("triggered", "acknowledged", "investigating", "mitigated", "on_hold")},
    ("reopen", "resolved"): "investigating",
    ("close", "resolved"): "closed",
    **{("cancel", s): "cancelled" for s in
       ("triggered", "acknowledged", "investigating", "mitigated", "on_hold")},
}  # fmt: skip
ALL_CASES = [(a, s) for a in services.TRANSITIONS for s in Status.values]


def incident_in(status: str, **kwargs) -> Incident:
    incident = IncidentFactory(**kwargs)
    Incident.objects.filter(pk=incident.pk).update(status=status)  # arrange only
    incident.refresh_from_db()
    return incident


def test_transition_table_is_the_documented_one():
    table = {(a, s) for a, t in services.TRANSITIONS.items() for s in t.sources}
    assert table == set(ALLOWED)


@pytest.mark.parametrize(("action", "source"), [c for c in ALL_CASES if c in ALLOWED])
def test_transition_allowed_moves_and_records_it(action, source):
    reporter = UserFactory(role="responder")
    incident = incident_in(source, by=reporter)

    incident = services.incident_transition(
        incident=incident, action=action, by=reporter, **PARAMS.get(action, {})
    )

    assert incident.status == ALLOWED[(action, source)]
    assert Incident.objects.get(pk=incident.pk).status == ALLOWED[(action, source)]
    event = incident.timeline.filter(kind="transitioned").get()
    assert (event.data["action"], event.data["from"], event.data["to"]) == (
        action,
        source,
        ALLOWED[(action, source)],
    )
    assert event.actor == reporter


@pytest.mark.parametrize(("action", "source"), [c for c in ALL_CASES if c not in ALLOWED])
def test_transition_refused_names_both_states_and_changes_nothing(action, source):
    reporter = UserFactory(role="manager")
    incident = incident_in(source, by=reporter)

    with pytest.raises(TransitionNotAllowed) as refused:
        services.incident_transition(
            incident=incident, action=action, by=reporter, **PARAMS.get(action, {})
        )

    assert f"it is {source}" in str(refused.value)
    assert action in str(refused.value)
    assert Incident.objects.get(pk=incident.pk).status == source
    assert not incident.timeline.filter(kind="transitioned").exists()


def test_lifecycle_stamps_each_time_once():
    incident = IncidentFactory()
    t0 = timezone.now()
    with time_machine.travel(t0 + timedelta(minutes=5), tick=False):
        incident = services.incident_transition(incident=incident, action="acknowledge", by=None)
    with time_machine.travel(t0 + timedelta(minutes=9), tick=False):
        incident = services.incident_transition(incident=incident, action="investigate", by=None)
    with time_machine.travel(t0 + timedelta(minutes=20), tick=False):
        incident = services.incident_transition(incident=incident, action="mitigate", by=None)
    with time_machine.travel(t0 + timedelta(minutes=30), tick=False):
        incident = services.incident_transition(incident=incident, action="investigate", by=None)
        incident = services.incident_transition(incident=incident, action="mitigate", by=None)

    assert incident.acknowledged_at == t0 + timedelta(minutes=5)
    assert incident.mitigated_at == t0 + timedelta(minutes=20)


def test_stored_durations_follow_the_lifecycle():
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        incident = IncidentFactory()
    fresh = Incident.objects.get(pk=incident.pk)
    assert (fresh.seconds_to_acknowledge, fresh.seconds_to_resolve) == (None, None)
    for minutes, action in ((5, "acknowledge"), (20, "mitigate"), (90, "resolve")):
        with time_machine.travel(t0 + timedelta(minutes=minutes), tick=False):
            services.incident_transition(
                incident=incident, action=action, by=None, **PARAMS.get(action, {})
            )

    durations = Incident.objects.values_list(
        "seconds_to_acknowledge", "seconds_to_mitigate", "seconds_to_resolve"
    ).get(pk=incident.pk)
    assert durations == (300, 1200, 5400)


def test_resolve_without_acknowledge_stamps_mitigated_but_not_acknowledged():
    incident = services.incident_transition(
        incident=IncidentFactory(), action="resolve", by=None, **PARAMS["resolve"]
    )
    assert incident.acknowledged_at is None
    assert incident.mitigated_at == incident.resolved_at


def test_resolve_requires_code_and_notes():
    incident = IncidentFactory()
    with pytest.raises(ValidationError) as error:
        services.incident_transition(incident=incident, action="resolve", by=None)
    assert set(error.value.message_dict) == {"resolution_code", "notes"}
    assert Incident.objects.get(pk=incident.pk).status == "triggered"


def test_hold_requires_a_known_reason_and_resume_clears_it():
    incident = incident_in("investigating")
    with pytest.raises(ValidationError) as error:
        services.incident_transition(incident=incident, action="hold", by=None, reason="lunch")
    assert "reason" in error.value.message_dict

    incident = services.incident_transition(
        incident=incident, action="hold", by=None, reason="awaiting_caller"
    )
    assert incident.hold_reason == "awaiting_caller"
    incident = services.incident_transition(incident=incident, action="investigate", by=None)
    assert incident.hold_reason == ""


def test_reopen_counts_and_keeps_the_first_resolution_on_the_timeline():
    incident = services.incident_transition(
        incident=IncidentFactory(), action="resolve", by=None, **PARAMS["resolve"]
    )
    incident = services.incident_transition(
        incident=incident, action="reopen", by=None, notes="Back again"
    )

    assert (incident.status, incident.reopen_count, incident.resolved_at) == (
        "investigating",
        1,
        None,
    )
    kinds = list(incident.timeline.order_by("id").values_list("data__action", flat=True))
    assert kinds == [None, "resolve", "reopen"]
    first_resolution = incident.timeline.get(data__action="resolve").data
    assert first_resolution["notes"] == "Restarted the pool."


def test_cancel_as_duplicate_links_the_original():
    original = IncidentFactory()
    duplicate = IncidentFactory()
    with pytest.raises(ValidationError) as error:
        services.incident_transition(
            incident=duplicate, action="cancel", by=None, reason="duplicate"
        )
    assert "duplicate_of" in error.value.message_dict

    duplicate = services.incident_transition(
        incident=duplicate, action="cancel", by=None, reason="duplicate", duplicate_of=original
    )
    assert (duplicate.status, duplicate.duplicate_of) == ("cancelled", original)


def test_close_is_the_reporters_confirmation_or_a_manager_on_their_behalf():
    reporter = UserFactory(role="stakeholder")
    other = UserFactory(role="responder")
    manager = UserFactory(role="manager")
    incident = incident_in("resolved", by=reporter)

    with pytest.raises(PermissionDenied):
        services.incident_transition(incident=incident, action="close", by=other)
    closed = services.incident_transition(incident=incident, action="close", by=manager)

    assert closed.status == "closed"
    assert closed.timeline.get(data__action="close").data["on_behalf_of_reporter"] is True

    by_reporter = services.incident_transition(
        incident=incident_in("resolved", by=reporter), action="close", by=reporter
    )
    assert by_reporter.closed_at is not None


def _resolved_days_ago(*days: int) -> list[Incident]:
    incidents = []
    for age in days:
        with time_machine.travel(timezone.now() - timedelta(days=age), tick=False):
            incidents.append(
                services.incident_transition(
                    incident=IncidentFactory(), action="resolve", by=None, **PARAMS["resolve"]
                )
            )
    return incidents


def test_auto_close_takes_a_batch_oldest_first(settings):
    settings.INCIDENT_AUTO_CLOSE_DAYS, settings.INCIDENT_AUTO_CLOSE_BATCH = 3, 2
    newer, oldest, older, recent = _resolved_days_ago(5, 9, 7, 1)

    closed, more = services.incidents_close_stale()

    statuses = Incident.objects.in_bulk([i.pk for i in (newer, oldest, older, recent)])
    assert (closed, more) == (2, True)
    assert [statuses[i.pk].status for i in (oldest, older, newer, recent)] == [
        "closed",
        "closed",
        "resolved",
        "resolved",
    ]


def test_auto_close_task_works_through_every_batch(settings):
    settings.INCIDENT_AUTO_CLOSE_DAYS, settings.INCIDENT_AUTO_CLOSE_BATCH = 3, 2
    stale = _resolved_days_ago(4, 5, 6, 7, 8)
    recent = _resolved_days_ago(1)

    assert close_stale_incidents() == 5
    assert set(Incident.objects.filter(status="closed").values_list("pk", flat=True)) == {
        i.pk for i in stale
    }
    assert Incident.objects.get(pk=recent[0].pk).status == "resolved"


def test_auto_close_after_the_configured_days(settings):
    settings.INCIDENT_AUTO_CLOSE_DAYS = 3
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        old = services.incident_transition(
            incident=IncidentFactory(), action="resolve", by=None, **PARAMS["resolve"]
        )
    with time_machine.travel(start + timedelta(days=2), tick=False):
        recent = services.incident_transition(
            incident=IncidentFactory(), action="resolve", by=None, **PARAMS["resolve"]
        )

    closed, more = services.incidents_close_stale(now=start + timedelta(days=3, minutes=1))

    assert (closed, more) == (1, False)
    assert Incident.objects.get(pk=old.pk).status == "closed"
    assert Incident.objects.get(pk=recent.pk).status == "resolved"
    assert old.timeline.get(data__action="close").data == {
        "action": "close",
        "from": "resolved",
        "to": "closed",
        "auto_closed": True,
    }


def test_major_incident_cannot_leave_triggered_without_a_commander():
    commander = UserFactory()
    incident = IncidentFactory(impact=1, urgency=1)
    assert incident.is_major

    with pytest.raises(TransitionNotAllowed, match="incident commander"):
        services.incident_transition(incident=incident, action="acknowledge", by=None)

    services.role_assign(incident=incident, kind="commander", user=commander, by=None)
    incident = services.incident_transition(incident=incident, action="acknowledge", by=None)
    assert incident.status == "acknowledged"


def test_major_incident_may_be_cancelled_as_false_alarm_without_a_commander():
    incident = IncidentFactory(impact=1, urgency=1)
    incident = services.incident_transition(
        incident=incident, action="cancel", by=None, reason="false_alarm"
    )
    assert incident.status == "cancelled"


def test_closed_incident_refuses_edits():
    incident = incident_in("closed")
    with pytest.raises(Conflict, match="can no longer be changed"):
        services.incident_update_details(incident=incident, by=None, title="New")
    assert TimelineEvent.objects.filter(incident=incident, kind="updated").count() == 0
