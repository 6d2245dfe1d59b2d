"""iCal feeds of on-call shifts, per schedule and per user, behind a secret URL token.

Calendar apps cannot log in, so the token in the URL is the credential: rotating it (on
the schedule page or on "My notifications") revokes every old subscription.
"""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from escalation import selectors
from escalation.models import Schedule, UserFeedToken

PAST = timedelta(days=7)
AHEAD = timedelta(days=60)


def _calendar(name: str, shifts: list[tuple[Schedule, selectors.Shift]]) -> HttpResponse:
    calendar = Calendar()
    calendar.add("prodid", "-//Vigil//On call//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    stamp = timezone.now()
    for schedule, shift in shifts:
        event = Event()
        event.add("uid", f"vigil-{schedule.pk}-{shift.user.pk}-{shift.start:%Y%m%dT%H%M%SZ}")
        event.add("dtstamp", stamp)
        event.add("dtstart", shift.start)
        event.add("dtend", shift.end)
        via = f" ({shift.source})" if shift.source else ""
        event.add("summary", f"On call: {shift.user.get_username()} on {schedule.name}{via}")
        calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_GET
def schedule_feed(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    qs = selectors.with_oncall_data(Schedule.objects.all(), now - PAST)
    schedule = get_object_or_404(qs, ical_token=token)
    shifts = selectors.ScheduleResolver(schedule).shifts(now - PAST, now + AHEAD)
    return _calendar(
        f"On call: {schedule.name}", [(schedule, s) for s in shifts if s.user is not None]
    )


@require_GET
def user_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = get_object_or_404(UserFeedToken.objects.select_related("user"), token=token)
    now = timezone.now()
    shifts = selectors.user_shifts(feed.user, now - PAST, now + AHEAD)
    return _calendar(f"My on-call shifts ({feed.user.get_username()})", shifts)
