"""Daily uptime per component, rolled up from ComponentStatusChange (README "Status page").

A day is a calendar day in the page's time zone. Only the part of it when the component
existed and that has passed is measured. Uptime = 100 x (1 - weighted down seconds /
measured seconds), with the weights of `enums.DOWNTIME_WEIGHT`: major outage counts
fully as down, partial outage 30%, degraded performance and maintenance as up.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from statuspage import cache
from statuspage.enums import DOWNTIME_WEIGHT, ComponentStatus
from statuspage.models import Component, PageSettings, PublicIncident, UptimeDay
from statuspage.selectors import worst_status


def page_zone() -> ZoneInfo:
    page = PageSettings.objects.order_by("pk").first()
    return ZoneInfo(page.time_zone if page else "UTC")


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def seconds_by_status(
    changes: list[tuple[datetime, str]], start: datetime, end: datetime
) -> dict[str, float]:
    """`changes`: (at, status) sorted by time, including the last one before `start`."""
    spent: dict[str, float] = {}
    for i, (at, status) in enumerate(changes):
        until = changes[i + 1][0] if i + 1 < len(changes) else end
        lo, hi = max(at, start), min(until, end)
        if hi > lo:
            spent[status] = spent.get(status, 0.0) + (hi - lo).total_seconds()
    return spent


def uptime_percent(spent: dict[str, float]) -> float | None:
    measured = sum(spent.values())
    if measured <= 0:
        return None
    down = sum(DOWNTIME_WEIGHT[status] * secs for status, secs in spent.items())
    return round(100 * (1 - down / measured), 4)


def uptime_rollup(*, now: datetime | None = None, days: int = 2) -> int:
    """Write the last `days` days (today so far included) for every component."""
    now = now or timezone.now()
    zone = page_zone()
    today = now.astimezone(zone).date()
    span = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    first_start, _ = day_bounds(span[0], zone)
    _, last_end = day_bounds(span[-1], zone)
    written = 0
    for component in Component.objects.all():
        before = (
            component.changes.filter(at__lt=first_start)
            .order_by("-at", "-id")
            .values_list("at", "status")
            .first()
        )
        within = list(
            component.changes.filter(at__gte=first_start, at__lt=last_end)
            .order_by("at", "id")
            .values_list("at", "status")
        )
        changes = ([before] if before else []) + within
        if not changes:
            changes = [(component.created_at, ComponentStatus.OPERATIONAL)]
        incidents = list(
            PublicIncident.objects.filter(components=component, incident__is_private=False)
            .filter(started_at__lt=last_end)
            .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=first_start))
            .values_list("name", "started_at", "resolved_at")
        )
        with transaction.atomic():
            for day in span:
                start, end = day_bounds(day, zone)
                end = min(end, now)
                spent = seconds_by_status(changes, start, end)
                percent = uptime_percent(spent)
                if percent is None:
                    continue
                names = [
                    name
                    for name, began, resolved in incidents
                    if began < end and (resolved is None or resolved >= start)
                ]
                UptimeDay.objects.update_or_create(
                    component=component,
                    day=day,
                    defaults={
                        "seconds": {k: round(v) for k, v in spent.items()},
                        "uptime": percent,
                        "worst": worst_status(spent),
                        "incidents": names,
                    },
                )
                written += 1
    with transaction.atomic():
        cache.bump()
    return written
