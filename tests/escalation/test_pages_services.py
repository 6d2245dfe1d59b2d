"""The writes the on-call pages need, and the constant-query "on call now" read."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from escalation import selectors, services
from escalation.models import EscalationLevel, Schedule, ServiceOnCall
from tests.escalation.factories import ScheduleFactory, policy, rotation
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday


def test_layer_update_replaces_rotation_and_restrictions(alice, bob):
    schedule = ScheduleFactory()
    layer = rotation(
        schedule, [alice], restrictions=[{"days": [0], "start_time": time(9), "end_time": time(17)}]
    )

    services.layer_update(
        layer=layer,
        users=[bob, alice],
        start_date=date(2026, 3, 2),
        handoff_time=time(8, 0),
        turn_unit="days",
        turn_length=1,
        time_zone="Europe/Paris",
        name="Primary",
        restrictions=[],
    )

    assert [m.user.username for m in layer.members.all()] == ["bob", "alice"]
    assert layer.restrictions.count() == 0
    assert selectors.oncall_at(schedule, T0) == bob


def test_level_delete_closes_the_gap(alice, bob, carol):
    p = policy(levels=[{"targets": [alice]}, {"targets": [bob]}, {"targets": [carol]}])
    services.level_delete(level=p.levels.get(position=1))
    assert list(EscalationLevel.objects.values_list("position", "targets__user__username")) == [
        (0, "alice"),
        (1, "carol"),
    ]


def test_service_policy_set_and_clear():
    service = ServiceFactory()
    p = policy()
    services.service_oncall_set(service=service, policy=p)
    assert ServiceOnCall.objects.get(service=service).policy == p
    services.service_oncall_set(service=service, policy=None)
    assert ServiceOnCall.objects.get(service=service).policy is None


def test_feed_tokens_rotate(alice):
    schedule = ScheduleFactory()
    old_schedule, old_user = schedule.ical_token, services.user_feed_token(user=alice)
    services.schedule_rotate_token(schedule=schedule)
    assert services.user_feed_token(user=alice) == old_user
    assert services.user_feed_token_rotate(user=alice) != old_user
    assert schedule.ical_token != old_schedule


def test_contact_methods_are_deleted_only_by_their_owner(alice, bob):
    method = services.contact_method_create(user=alice, kind="email", address="a@example.com")
    with pytest.raises(PermissionDenied):
        services.contact_method_delete(user=bob, method=method)
    services.contact_method_delete(user=alice, method=method)
    assert not alice.contact_methods.exists()


@pytest.mark.parametrize("n", [1, 3])
def test_oncall_now_runs_constant_queries(n, alice, bob, django_assert_num_queries):
    for _ in range(n):
        schedule = ScheduleFactory()
        rotation(schedule, [alice, bob], turn_unit="days")
        services.override_create(
            schedule=schedule, user=bob, start=T0, end=T0 + timedelta(hours=1), by=None
        )
    with django_assert_num_queries(5):
        rows = selectors.oncall_now(Schedule.objects.all(), T0, timedelta(days=14))
    assert [(r.current.user, r.current.source, r.next.start) for r in rows] == [
        (bob, "override", T0 + timedelta(hours=1))
    ] * n
