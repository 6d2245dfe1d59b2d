"""iCal feeds per schedule and per user, behind rotatable secret tokens."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from icalendar import Calendar

from escalation import services
from tests.escalation.factories import ScheduleFactory, rotation

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def events(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    return [
        (str(e["summary"]), e.decoded("dtstart"), e.decoded("dtend"))
        for e in calendar.walk("VEVENT")
    ]


def test_schedule_feed_lists_shifts_and_dies_when_rotated(client, alice, bob):
    schedule = ScheduleFactory(name="Primary")
    rotation(schedule, [alice, bob], turn_unit="days", start_date=date(2026, 3, 1))
    services.override_create(
        schedule=schedule, user=bob, start=NOW, end=NOW + timedelta(hours=2), by=None
    )
    url = f"/oncall/feeds/schedule/{schedule.ical_token}.ics"

    found = events(client.get(url))

    assert found[:3] == [
        ("On call: alice on Primary (Layer 1)", datetime(2026, 3, 1, 9, tzinfo=UTC), NOW),
        ("On call: bob on Primary (override)", NOW, NOW + timedelta(hours=2)),
        (
            "On call: bob on Primary (Layer 1)",
            NOW + timedelta(hours=2),
            datetime(2026, 3, 3, 9, tzinfo=UTC),
        ),
    ]
    assert found[-1][2] == NOW + timedelta(days=60)
    services.schedule_rotate_token(schedule=schedule)
    assert client.get(url).status_code == 404
    assert client.get(f"/oncall/feeds/schedule/{schedule.ical_token}.ics").status_code == 200


def test_user_feed_has_only_their_shifts_across_schedules(
    client, alice, bob, django_assert_max_num_queries
):
    for name in ("One", "Two", "Three"):
        schedule = ScheduleFactory(name=name)
        rotation(schedule, [alice, bob], start_date=date(2026, 3, 2))
    url = f"/oncall/feeds/user/{services.user_feed_token(user=alice)}.ics"

    with django_assert_max_num_queries(6):
        found = events(client.get(url))

    assert {summary for summary, _, _ in found} == {
        "On call: alice on One (Layer 1)",
        "On call: alice on Two (Layer 1)",
        "On call: alice on Three (Layer 1)",
    }
    assert len(found) == 3 * 5  # weeks alternate: alice holds 5 of the 9 weeks in view
    services.user_feed_token_rotate(user=alice)
    assert client.get(url).status_code == 404


def test_feed_links_are_on_the_pages(client, manager):
    schedule = ScheduleFactory()
    client.force_login(manager)
    schedule_page = client.get(f"/oncall/schedules/{schedule.pk}/").content.decode()
    mine = client.get("/me/notifications/").content.decode()
    assert f"http://testserver/oncall/feeds/schedule/{schedule.ical_token}.ics" in schedule_page
    token = services.user_feed_token(user=manager)
    assert f"http://testserver/oncall/feeds/user/{token}.ics" in mine

    client.post(f"/oncall/schedules/{schedule.pk}/rotate-token/")
    client.post("/me/notifications/rotate-feed/")
    schedule.refresh_from_db()
    assert schedule.ical_token in client.get(f"/oncall/schedules/{schedule.pk}/").content.decode()
    assert services.user_feed_token(user=manager) != token
