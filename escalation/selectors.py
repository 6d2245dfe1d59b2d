"""Who is on call: one resolver, used by paging, the pages, the API and the iCal feeds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from escalation.models import (
    EscalationRun,
    LayerMember,
    Notification,
    NotificationStatus,
    Override,
    RunState,
    Schedule,
    ScheduleLayer,
    TurnUnit,
)
from incidents.models import User

AUDIT_GRACE = timedelta(minutes=1)


@dataclass(frozen=True)
class Shift:
    user: User | None
    start: datetime
    end: datetime
    source: str  # the layer's name, "override", or "" when nobody is on call


def _local_naive(at: datetime, tz: ZoneInfo) -> datetime:
    return at.astimezone(tz).replace(tzinfo=None)


def _aware(local: datetime, tz: ZoneInfo) -> datetime:
    # A wall-clock time that a spring-forward skips maps to the instant the clock passes it.
    aware = local.replace(tzinfo=tz).astimezone(UTC)
    if _local_naive(aware, tz) == local:
        return aware
    moment = local.replace(tzinfo=tz, fold=1).astimezone(UTC)  # the earlier reading
    while _local_naive(moment, tz) < local:
        moment += timedelta(minutes=1)
    return moment


class LayerResolver:
    def __init__(self, layer: ScheduleLayer):
        self.layer = layer
        self.tz = ZoneInfo(layer.time_zone)
        self.users = [m.user for m in layer.members.all()]
        self.restrictions = list(layer.restrictions.all())
        self.start_local = datetime.combine(layer.start_date, layer.handoff_time)
        unit_hours = {TurnUnit.HOURS: 1, TurnUnit.DAYS: 24, TurnUnit.WEEKS: 24 * 7}
        self.turn = timedelta(hours=unit_hours[layer.turn_unit] * layer.turn_length)

    def turn_index(self, at: datetime) -> int | None:
        if self.layer.turn_unit == TurnUnit.HOURS:
            # Hourly turns are elapsed time: a 12-hour turn lasts 12 hours even across DST.
            elapsed = at - _aware(self.start_local, self.tz)
        else:
            # Daily and weekly turns hand off at the same wall-clock time every day, so a
            # DST change makes one turn an hour shorter or longer, as people expect.
            elapsed = _local_naive(at, self.tz) - self.start_local
        index = elapsed // self.turn
        return index if index >= 0 else None

    def restricted_out(self, at: datetime) -> bool:
        if not self.restrictions:
            return False
        local = _local_naive(at, self.tz)
        moment, weekday = local.time(), local.weekday()
        for r in self.restrictions:
            if r.start_time < r.end_time:
                if weekday in r.days and r.start_time <= moment < r.end_time:
                    return False
            elif (weekday in r.days and moment >= r.start_time) or (
                (weekday - 1) % 7 in r.days and moment < r.end_time
            ):
                return False
        return True

    def user_at(self, at: datetime) -> User | None:
        if not self.users:
            return None
        index = self.turn_index(at)
        if index is None or self.restricted_out(at):
            return None
        return self.users[index % len(self.users)]

    def boundaries(self, start: datetime, end: datetime) -> set[datetime]:
        """Every instant in [start, end) where this layer may change hands."""
        found: set[datetime] = set()
        if self.layer.turn_unit == TurnUnit.HOURS:
            first = _aware(self.start_local, self.tz)
            n = max(0, (start - first) // self.turn)
            while (moment := first + n * self.turn) < end:
                found.add(moment)
                n += 1
        else:
            day = _local_naive(start, self.tz).date() - timedelta(days=1)
            last = _local_naive(end, self.tz).date() + timedelta(days=1)
            turn_days = self.turn.days
            while day <= last:
                if (day - self.layer.start_date).days % turn_days == 0:
                    found.add(_aware(datetime.combine(day, self.layer.handoff_time), self.tz))
                for r in self.restrictions:
                    if day.weekday() in r.days:
                        found.add(_aware(datetime.combine(day, r.start_time), self.tz))
                        end_day = day if r.start_time < r.end_time else day + timedelta(days=1)
                        found.add(_aware(datetime.combine(end_day, r.end_time), self.tz))
                day += timedelta(days=1)
        if self.layer.turn_unit == TurnUnit.HOURS and self.restrictions:
            day = _local_naive(start, self.tz).date() - timedelta(days=1)
            while day <= _local_naive(end, self.tz).date():
                for r in self.restrictions:
                    found.add(_aware(datetime.combine(day, r.start_time), self.tz))
                    found.add(_aware(datetime.combine(day, r.end_time), self.tz))
                day += timedelta(days=1)
        return {m for m in found if start <= m < end}


class ScheduleResolver:
    """A schedule loaded once (layers, members, restrictions, overrides) and asked many times."""

    def __init__(self, schedule: Schedule, *, overrides_from: datetime | None = None):
        self.schedule = schedule
        if "layers" in getattr(schedule, "_prefetched_objects_cache", {}):
            # Loaded by with_oncall_data(): pages resolve many schedules in constant queries.
            layers, overrides = schedule.layers.all(), schedule.overrides.all()
        else:
            layers = schedule.layers.prefetch_related(*_LAYER_DATA)
            overrides = schedule.overrides.select_related("user")
            if overrides_from is not None:
                overrides = overrides.filter(end__gt=overrides_from)
        # Higher positions sit on top, so they are asked first.
        self.layers = [LayerResolver(layer) for layer in sorted(layers, key=_top_first)]
        # The newest override wins where two overlap.
        self.overrides = sorted(overrides, key=lambda o: (o.created_at, o.pk), reverse=True)

    def shift_at(self, at: datetime) -> tuple[User | None, str]:
        for override in self.overrides:
            if override.start <= at < override.end:
                return override.user, "override"
        for layer in self.layers:
            if user := layer.user_at(at):
                return user, layer.layer.name
        return None, ""

    def shifts(self, start: datetime, end: datetime) -> list[Shift]:
        """The final schedule between start and end, as consecutive shifts."""
        moments = {start}
        for layer in self.layers:
            moments |= layer.boundaries(start, end)
        for override in self.overrides:
            moments |= {m for m in (override.start, override.end) if start <= m < end}
        ordered = sorted(moments)
        shifts: list[Shift] = []
        for i, moment in enumerate(ordered):
            user, source = self.shift_at(moment)
            until = ordered[i + 1] if i + 1 < len(ordered) else end
            if shifts and shifts[-1].user == user and shifts[-1].source == source:
                shifts[-1] = Shift(user, shifts[-1].start, until, source)
            else:
                shifts.append(Shift(user, moment, until, source))
        return shifts


_LAYER_DATA = (
    Prefetch("members", queryset=LayerMember.objects.select_related("user")),
    "restrictions",
)


def with_oncall_data(schedules: QuerySet[Schedule], since: datetime) -> QuerySet[Schedule]:
    """Schedules with what ScheduleResolver needs from `since` on, in four queries in all."""
    return schedules.prefetch_related(
        Prefetch("layers", queryset=ScheduleLayer.objects.prefetch_related(*_LAYER_DATA)),
        Prefetch(
            "overrides", queryset=Override.objects.filter(end__gt=since).select_related("user")
        ),
    )


@dataclass(frozen=True)
class OnCallNow:
    schedule: Schedule
    current: Shift
    next: Shift | None


def oncall_now(schedules: QuerySet[Schedule], at: datetime, horizon: timedelta) -> list[OnCallNow]:
    """Each schedule's current shift and the one after it (looking `horizon` ahead)."""
    found = []
    for schedule in with_oncall_data(schedules, at):
        shifts = ScheduleResolver(schedule, overrides_from=at).shifts(at, at + horizon)
        found.append(OnCallNow(schedule, shifts[0], shifts[1] if len(shifts) > 1 else None))
    return found


def _top_first(layer: ScheduleLayer) -> tuple[int, int]:
    return (-layer.position, -layer.pk)


def oncall_at(schedule: Schedule, at: datetime) -> User | None:
    """Who is on call on `schedule` at the instant `at`: an override, else the top layer."""
    return ScheduleResolver(schedule, overrides_from=at).shift_at(at)[0]


def oncall_shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    return ScheduleResolver(schedule, overrides_from=start).shifts(start, end)


def user_shifts(user: User, start: datetime, end: datetime) -> list[tuple[Schedule, Shift]]:
    """The shifts `user` holds on every schedule they are on, for their iCal feed."""
    schedules = Schedule.objects.filter(
        pk__in=LayerMember.objects.filter(user=user).values("layer__schedule")
    ) | Schedule.objects.filter(pk__in=Override.objects.filter(user=user).values("schedule"))
    found = []
    for schedule in with_oncall_data(schedules.distinct(), start):
        for shift in ScheduleResolver(schedule, overrides_from=start).shifts(start, end):
            if shift.user == user:
                found.append((schedule, shift))
    return sorted(found, key=lambda pair: pair[1].start)


def within_hours(
    *, at: datetime, tz_name: str, days: list[int], start: time | None, end: time | None
) -> bool:
    """Is `at` inside the weekly hours (no hours configured means always)."""
    if start is None or end is None or not days:
        return True
    local = _local_naive(at, ZoneInfo(tz_name))
    if start < end:
        return local.weekday() in days and start <= local.time() < end
    return (local.weekday() in days and local.time() >= start) or (
        (local.weekday() - 1) % 7 in days and local.time() < end
    )


def next_hours_start(
    *, at: datetime, tz_name: str, days: list[int], start: time | None, end: time | None
) -> datetime:
    """The next instant at or after `at` that is within the hours."""
    if within_hours(at=at, tz_name=tz_name, days=days, start=start, end=end):
        return at
    tz = ZoneInfo(tz_name)
    day: date = _local_naive(at, tz).date()
    for _ in range(8):
        if day.weekday() in days:
            candidate = _aware(datetime.combine(day, start), tz)
            if candidate > at:
                return candidate
        day += timedelta(days=1)
    return at


def overdue_runs(now: datetime | None = None):
    """Active runs more than a minute past due: the auditor's query, on the partial index."""
    cutoff = (now or timezone.now()) - AUDIT_GRACE
    return EscalationRun.objects.filter(state=RunState.ACTIVE, next_at__lt=cutoff)


def overdue_notifications(now: datetime | None = None):
    """Pages and notices due more than a minute ago and never claimed, on their partial index."""
    cutoff = (now or timezone.now()) - AUDIT_GRACE
    return Notification.objects.filter(status=NotificationStatus.PENDING, due_at__lt=cutoff)
