from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from escalation import services
from escalation.selectors import oncall_at, oncall_shifts
from tests.escalation.factories import ScheduleFactory, rotation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def at(*args, tz=UTC):
    return datetime(*args, tzinfo=tz)


def test_oncall_weekly_rotation_hands_off_at_handoff_time(alice, bob, carol):
    schedule = ScheduleFactory()
    rotation(schedule, [alice, bob, carol])  # Mondays 09:00 UTC from 2026-01-05

    assert oncall_at(schedule, at(2026, 1, 5, 8, 59)) is None  # before the first turn
    assert oncall_at(schedule, at(2026, 1, 5, 9, 0)) == alice
    assert oncall_at(schedule, at(2026, 1, 12, 8, 59)) == alice
    assert oncall_at(schedule, at(2026, 1, 12, 9, 0)) == bob
    assert oncall_at(schedule, at(2026, 1, 19, 9, 0)) == carol
    assert oncall_at(schedule, at(2026, 1, 26, 9, 0)) == alice


def test_oncall_daily_handoff_keeps_local_time_across_spring_forward(alice, bob):
    schedule = ScheduleFactory(time_zone="America/New_York")
    # New York springs forward on Sunday 2026-03-08 at 02:00.
    rotation(
        schedule, [alice, bob], start_date=date(2026, 3, 6), handoff_time=time(9, 0),
        turn_unit="days", time_zone="America/New_York",
    )  # fmt: skip

    # Fri 09:00 EST alice, Sat bob, Sun alice (EDT now), Mon bob: always 09:00 local.
    assert oncall_at(schedule, at(2026, 3, 7, 8, 59, tz=NY)) == alice
    assert oncall_at(schedule, at(2026, 3, 7, 9, 0, tz=NY)) == bob
    assert oncall_at(schedule, at(2026, 3, 8, 8, 59, tz=NY)) == bob
    assert oncall_at(schedule, at(2026, 3, 8, 9, 0, tz=NY)) == alice
    # 09:00 EDT on Sunday is 13:00 UTC, an hour earlier in UTC than Saturday's 14:00 UTC.
    assert oncall_at(schedule, at(2026, 3, 8, 12, 59)) == bob
    assert oncall_at(schedule, at(2026, 3, 8, 13, 0)) == alice


def test_oncall_handoff_inside_the_skipped_hour_happens_when_the_clock_passes_it(alice, bob):
    schedule = ScheduleFactory(time_zone="America/New_York")
    rotation(
        schedule, [alice, bob], start_date=date(2026, 3, 7), handoff_time=time(2, 30),
        turn_unit="days", time_zone="America/New_York",
    )  # fmt: skip

    # 02:30 does not exist on 2026-03-08; the clock jumps from 01:59:59 EST to 03:00 EDT.
    assert oncall_at(schedule, at(2026, 3, 8, 6, 59)) == alice  # 01:59 EST
    assert oncall_at(schedule, at(2026, 3, 8, 7, 0)) == bob  # 03:00 EDT
    shifts = oncall_shifts(schedule, at(2026, 3, 8, 0, 0), at(2026, 3, 8, 12, 0))
    assert [(s.user, s.start) for s in shifts] == [
        (alice, at(2026, 3, 8, 0, 0)),
        (bob, at(2026, 3, 8, 7, 0)),
    ]


def test_oncall_weekly_handoff_across_fall_back_stays_at_local_time(alice, bob):
    schedule = ScheduleFactory(time_zone="Europe/Berlin")
    # Berlin falls back on Sunday 2026-10-25; Monday handoffs stay at 09:00 local.
    rotation(
        schedule, [alice, bob], start_date=date(2026, 10, 19), handoff_time=time(9, 0),
        time_zone="Europe/Berlin",
    )  # fmt: skip

    assert oncall_at(schedule, at(2026, 10, 26, 7, 59)) == alice  # 08:59 CET
    assert oncall_at(schedule, at(2026, 10, 26, 8, 0)) == bob  # 09:00 CET
    shifts = oncall_shifts(schedule, at(2026, 10, 19, 7, 0), at(2026, 11, 2, 8, 0))
    assert [(s.user, s.start, s.end) for s in shifts] == [
        (alice, at(2026, 10, 19, 7, 0), at(2026, 10, 26, 8, 0)),  # a week and an hour
        (bob, at(2026, 10, 26, 8, 0), at(2026, 11, 2, 8, 0)),
    ]


def test_oncall_hourly_turns_are_elapsed_time_across_dst(alice, bob):
    schedule = ScheduleFactory()
    rotation(
        schedule, [alice, bob], start_date=date(2026, 3, 7), handoff_time=time(20, 0),
        turn_unit="hours", turn_length=12, time_zone="America/New_York",
    )  # fmt: skip

    # 20:00 EST = 01:00 UTC; turns of 12 real hours, whatever the wall clock says.
    assert oncall_at(schedule, at(2026, 3, 8, 12, 59)) == alice
    assert oncall_at(schedule, at(2026, 3, 8, 13, 0)) == bob
    assert oncall_at(schedule, at(2026, 3, 9, 1, 0)) == alice


def test_oncall_restriction_limits_a_layer_to_business_hours(alice, bob):
    schedule = ScheduleFactory()
    rotation(schedule, [bob], name="Nights and weekends")
    rotation(
        schedule, [alice], name="Business hours",
        restrictions=[{"days": [0, 1, 2, 3, 4], "start_time": time(9), "end_time": time(17)}],
    )  # fmt: skip

    assert oncall_at(schedule, at(2026, 1, 7, 10, 0)) == alice  # Wednesday 10:00
    assert oncall_at(schedule, at(2026, 1, 7, 17, 0)) == bob  # after hours
    assert oncall_at(schedule, at(2026, 1, 10, 10, 0)) == bob  # Saturday


def test_oncall_overnight_restriction_crosses_midnight(alice):
    schedule = ScheduleFactory()
    rotation(
        schedule, [alice],
        restrictions=[{"days": [0], "start_time": time(22), "end_time": time(6)}],
    )  # fmt: skip

    assert oncall_at(schedule, at(2026, 1, 12, 23, 0)) == alice  # Monday night
    assert oncall_at(schedule, at(2026, 1, 13, 5, 59)) == alice  # Tuesday early
    assert oncall_at(schedule, at(2026, 1, 13, 6, 0)) is None
    assert oncall_at(schedule, at(2026, 1, 13, 23, 0)) is None  # Tuesday night


def test_oncall_override_wins_over_every_layer(alice, bob, carol):
    schedule = ScheduleFactory()
    rotation(schedule, [alice])
    rotation(schedule, [bob], name="Top")
    services.override_create(
        schedule=schedule, user=carol, start=at(2026, 1, 7, 12), end=at(2026, 1, 7, 14), by=alice
    )

    assert oncall_at(schedule, at(2026, 1, 7, 11, 59)) == bob  # the top layer wins
    assert oncall_at(schedule, at(2026, 1, 7, 12, 0)) == carol
    assert oncall_at(schedule, at(2026, 1, 7, 14, 0)) == bob
    shifts = oncall_shifts(schedule, at(2026, 1, 7, 0), at(2026, 1, 8, 0))
    assert [(s.user.username, s.source) for s in shifts] == [
        ("bob", "Top"), ("carol", "override"), ("bob", "Top"),
    ]  # fmt: skip


def test_oncall_newest_override_wins_where_two_overlap(alice, bob, carol):
    schedule = ScheduleFactory()
    rotation(schedule, [alice])
    services.override_create(
        schedule=schedule, user=bob, start=at(2026, 1, 7, 0), end=at(2026, 1, 8, 0), by=None
    )
    services.override_create(
        schedule=schedule, user=carol, start=at(2026, 1, 7, 6), end=at(2026, 1, 7, 8), by=None
    )

    assert oncall_at(schedule, at(2026, 1, 7, 7)) == carol
    assert oncall_at(schedule, at(2026, 1, 7, 9)) == bob


def test_oncall_empty_schedule_has_nobody():
    assert oncall_at(ScheduleFactory(), datetime.now(UTC)) is None


def test_override_must_end_after_it_starts(alice):
    schedule = ScheduleFactory()
    with pytest.raises(ValidationError) as error:
        services.override_create(
            schedule=schedule, user=alice, start=at(2026, 1, 7, 8), end=at(2026, 1, 7, 8), by=None
        )
    assert "An override ends after it starts." in str(error.value)


def test_schedule_refuses_an_unknown_time_zone():
    with pytest.raises(ValidationError) as error:
        services.schedule_create(name="Mars", time_zone="Mars/Olympus")
    assert "time_zone" in error.value.message_dict


def test_contact_method_validates_its_address():
    user = UserFactory()
    with pytest.raises(ValidationError) as error:
        services.contact_method_create(user=user, kind="webhook", address="not a url")
    assert "address" in error.value.message_dict
    method = services.contact_method_create(user=user, kind="email", address="u@example.com")
    rule = services.notification_rule_create(user=user, contact_method=method, delay_minutes=2)
    assert (rule.contact_method.address, rule.delay_minutes) == ("u@example.com", 2)


def test_oncall_shifts_cover_fourteen_days_of_a_daily_rotation(alice, bob):
    schedule = ScheduleFactory()
    rotation(schedule, [alice, bob], turn_unit="days")
    start = at(2026, 2, 2, 9)
    shifts = oncall_shifts(schedule, start, start + timedelta(days=14))
    assert len(shifts) == 14
    assert [s.user for s in shifts[:3]] == [alice, bob, alice]
