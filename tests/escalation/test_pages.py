"""The on-call pages: who is on call now, schedules, layers and overrides in the browser."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalation import services
from escalation.models import LayerRestriction, Override, Schedule, ScheduleLayer
from tests.escalation.factories import ScheduleFactory, rotation

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 in Paris


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def queries(client, url: str) -> tuple[int, bytes]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(captured), response.content


def weekly(name, users, **kwargs):
    schedule = ScheduleFactory(name=name)
    rotation(schedule, users, start_date=date(2026, 2, 23), **kwargs)
    return schedule


def test_oncall_page_shows_who_is_on_call_until_when_and_next(client, responder, alice, bob):
    weekly("Payments primary", [alice, bob])
    client.force_login(responder)

    html = client.get("/oncall/").content.decode()

    assert "Payments primary" in html
    # Weekly from Mon 23 Feb 09:00 UTC: alice's week ends an hour from now, then bob's.
    row = html[html.index("Payments primary") : html.index("</tr>", html.index("Payments primary"))]
    assert "<strong>alice</strong>" in row and "you" not in row
    client.force_login(alice)
    assert (
        '<strong>alice</strong> <span class="badge you">you</span>'
        in client.get("/oncall/").content.decode()
    )
    assert ">Mon 2 Mar 09:00</time></td>\n    <td>bob</td>" in row


def test_oncall_page_runs_constant_queries(
    client, responder, alice, bob, django_assert_max_num_queries
):
    client.force_login(responder)
    weekly("One", [alice, bob])
    one, _ = queries(client, "/oncall/")
    weekly("Two", [alice])
    weekly(
        "Three",
        [bob],
        turn_unit="days",
        restrictions=[{"days": [0, 1, 2, 3, 4], "start_time": time(9), "end_time": time(17)}],
    )
    three, html = queries(client, "/oncall/")
    assert one == three
    assert html.count(b'data-testid="oncall-') == 3
    with django_assert_max_num_queries(one):
        client.get("/oncall/")


def test_oncall_pages_are_for_responders_and_writes_for_managers(client, stakeholder, responder):
    schedule = ScheduleFactory()
    client.force_login(stakeholder)
    assert client.get("/oncall/").status_code == 403
    client.force_login(responder)
    assert client.get(f"/oncall/schedules/{schedule.pk}/").status_code == 200
    assert client.get("/oncall/schedules/new/").status_code == 403
    assert client.post("/oncall/schedules/new/", {"name": "X"}).status_code == 403
    # Covering a shift is a responder's job, as in the API: the empty form is just invalid.
    assert client.post(f"/oncall/schedules/{schedule.pk}/overrides/", {}).status_code == 400
    assert client.get("/oncall/schedules/999999/").status_code == 404


def test_manager_creates_a_schedule_with_a_restricted_layer(client, manager, alice, bob):
    client.force_login(manager)

    created = client.post(
        "/oncall/schedules/new/", {"name": "Database", "time_zone": "Europe/Paris"}
    )
    schedule = Schedule.objects.get(name="Database")
    layer_page = client.post(
        f"/oncall/schedules/{schedule.pk}/layers/new/",
        {
            "name": "Business hours",
            "users": "alice, bob",
            "turn_length": "1",
            "turn_unit": "days",
            "start_date": "2026-03-02",
            "handoff_time": "09:00",
            "time_zone": "Europe/Paris",
            "restrictions": "Mon-Fri 09:00-17:00",
        },
    )

    assert created.status_code == 302 and created["Location"] == f"/oncall/schedules/{schedule.pk}/"
    assert layer_page.status_code == 302
    layer = ScheduleLayer.objects.get(schedule=schedule)
    assert [m.user.username for m in layer.members.all()] == ["alice", "bob"]
    assert [(r.days, r.start_time, r.end_time) for r in LayerRestriction.objects.all()] == [
        ([0, 1, 2, 3, 4], time(9), time(17))
    ]
    html = client.get(f"/oncall/schedules/{schedule.pk}/").content.decode()
    assert "<strong>alice</strong> (Business hours)" in html


def test_layer_form_names_the_bad_field(client, manager, alice):
    schedule = ScheduleFactory()
    client.force_login(manager)
    base = {
        "users": "alice",
        "turn_length": "1",
        "turn_unit": "weeks",
        "start_date": "2026-03-02",
        "handoff_time": "09:00",
        "time_zone": "UTC",
    }

    unknown = client.post(
        f"/oncall/schedules/{schedule.pk}/layers/new/", base | {"users": "alice, zed"}
    )
    bad_window = client.post(
        f"/oncall/schedules/{schedule.pk}/layers/new/", base | {"restrictions": "Someday 9-5"}
    )
    bad_zone = client.post(
        f"/oncall/schedules/{schedule.pk}/layers/new/", base | {"time_zone": "Mars/Base"}
    )

    assert unknown.status_code == 400 and b"No active user named zed" in unknown.content
    assert (
        bad_window.status_code == 400
        and "like “Mon-Fri 09:00-17:00”".encode() in bad_window.content
    )
    assert bad_zone.status_code == 400 and b"id_time_zone_error" in bad_zone.content
    assert not ScheduleLayer.objects.exists()


def test_manager_edits_a_layer(client, manager, alice, bob, carol):
    schedule = weekly("Edit me", [alice, bob])
    layer = schedule.layers.get()
    client.force_login(manager)
    form = client.get(f"/oncall/schedules/{schedule.pk}/layers/{layer.pk}/")
    assert b'value="alice, bob"' in form.content

    client.post(
        f"/oncall/schedules/{schedule.pk}/layers/{layer.pk}/",
        {
            "name": "Primary",
            "users": "carol",
            "turn_length": "12",
            "turn_unit": "hours",
            "start_date": "2026-03-01",
            "handoff_time": "08:00",
            "time_zone": "UTC",
            "restrictions": "Sat-Sun 00:00-00:00",
        },
    )

    layer.refresh_from_db()
    assert (layer.name, layer.turn_length, layer.turn_unit) == ("Primary", 12, "hours")
    assert [m.user.username for m in layer.members.all()] == ["carol"]
    assert [r.days for r in layer.restrictions.all()] == [[5, 6]]


def test_override_is_read_in_the_viewers_time_zone_and_wins(client, responder, alice, bob):
    responder.time_zone = "Europe/Paris"
    responder.save()
    schedule = weekly("Cover", [alice])
    client.force_login(responder)

    response = client.post(
        f"/oncall/schedules/{schedule.pk}/overrides/",
        {"user": bob.pk, "start": "2026-03-02T10:00", "end": "2026-03-02T12:00"},
    )

    assert response.status_code == 302
    override = Override.objects.get()
    assert (override.start, override.end, override.created_by) == (
        datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 11, 0, tzinfo=UTC),
        responder,
    )
    html = client.get(f"/oncall/schedules/{schedule.pk}/").content.decode()
    # The final schedule, in Paris time: alice, bob's override 10:00-12:00, alice again.
    assert (
        "Mon 2 Mar 10:00</time></td>\n      "
        '<td><time datetime="2026-03-02T12:00:00+01:00">Mon 2 Mar 12:00' in html
    )
    assert "bob covers Mon 2 Mar 10:00 \u2013 Mon 2 Mar 12:00 CET" in html

    client.post(f"/oncall/schedules/{schedule.pk}/overrides/{override.pk}/delete/")
    assert not Override.objects.exists()


def test_override_ending_before_it_starts_is_refused(client, manager, alice):
    schedule = ScheduleFactory()
    client.force_login(manager)
    response = client.post(
        f"/oncall/schedules/{schedule.pk}/overrides/",
        {"user": alice.pk, "start": "2026-03-02T10:00", "end": "2026-03-02T09:00"},
    )
    assert response.status_code == 400
    assert b"An override ends after it starts." in response.content
    assert not Override.objects.exists()


def test_schedule_page_shows_fourteen_days_in_constant_queries(
    client, responder, alice, bob, carol, django_assert_max_num_queries
):
    schedule = weekly("Busy", [alice])
    client.force_login(responder)
    one, html = queries(client, f"/oncall/schedules/{schedule.pk}/")
    rotation(
        schedule,
        [bob, carol],
        turn_unit="days",
        start_date=date(2026, 3, 1),
        restrictions=[{"days": [5, 6], "start_time": time(0), "end_time": time(0)}],
    )
    nights = {"days": list(range(7)), "start_time": time(20), "end_time": time(8)}
    rotation(
        schedule,
        [carol],
        turn_unit="hours",
        turn_length=12,
        start_date=date(2026, 3, 1),
        restrictions=[nights],
    )
    for day in range(3):
        start = NOW + timedelta(days=day)
        services.override_create(
            schedule=schedule, user=bob, start=start, end=start + timedelta(hours=1), by=None
        )
    three, html = queries(client, f"/oncall/schedules/{schedule.pk}/")

    assert one == three
    assert b"Final schedule, next 14 days" in html and html.count(b"<tr class=") > 14
    with django_assert_max_num_queries(one):
        client.get(f"/oncall/schedules/{schedule.pk}/")


def test_schedule_edit_and_layer_delete(client, manager, alice):
    schedule = weekly("Old name", [alice])
    layer = schedule.layers.get()
    client.force_login(manager)
    client.post(
        f"/oncall/schedules/{schedule.pk}/edit/",
        {"name": "New name", "time_zone": "UTC", "description": "Night desk"},
    )
    client.post(f"/oncall/schedules/{schedule.pk}/layers/{layer.pk}/delete/")
    schedule.refresh_from_db()
    assert (schedule.name, schedule.description) == ("New name", "Night desk")
    assert not schedule.layers.exists()
    duplicate = client.post("/oncall/schedules/new/", {"name": "New name", "time_zone": "UTC"})
    assert duplicate.status_code == 400 and b"id_name_error" in duplicate.content
