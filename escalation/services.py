"""Every write of the escalation app: paging runs, notifications, SLA timers, schedules.

The timer engine (DESIGN.md, "The event stream"): an EscalationRun row holds the level
due at `next_at`; the beat sweeper claims due rows with SELECT ... FOR UPDATE SKIP LOCKED,
rechecks them and writes Notification rows; workers deliver those, each claimed by a
compare-and-set, so a redelivered or duplicated message never sends twice.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from config.celery import enqueue_on_commit, queue_length
from escalation.models import (
    ChannelKind,
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    EscalationRun,
    EscalationTarget,
    IncidentTimer,
    LayerMember,
    LayerRestriction,
    LevelHours,
    Notification,
    NotificationReason,
    NotificationRule,
    NotificationStatus,
    Override,
    RunState,
    Schedule,
    ScheduleLayer,
    ServiceOnCall,
    SlaBreach,
    SlaTarget,
    TargetKind,
    TimerKind,
    TimerState,
    UserFeedToken,
    new_token,
)
from escalation.selectors import (
    ScheduleResolver,
    next_hours_start,
    overdue_runs,
    within_hours,
)
from escalation.transports import TRANSPORTS, DeliveryError
from incidents.enums import Priority, RoleKind, Status
from incidents.exceptions import Conflict, TransitionNotAllowed
from incidents.models import Incident, Service, Team, User
from incidents.services import incident_transition, record_event

logger = logging.getLogger(__name__)


class EventKind:
    """Timeline kinds this app writes (the timeline's `kind` is open-ended)."""

    PAGING_STARTED = "paging_started"
    PAGED = "paged"
    PAGING_ERROR = "paging_error"
    ESCALATED = "escalated"
    PAGING_STOPPED = "paging_stopped"
    NOTIFICATION_FAILED = "notification_failed"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    UPDATE_DUE = "update_due"


ACK_SALT = "escalation.ack"


def _record(incident: Incident, kind: str, message: str, **data: Any) -> None:
    record_event(incident=incident, kind=kind, actor=None, data={"message": message, **data})


def _deliver_task():
    # tasks.py imports this module; the task is looked up when needed to keep one direction.
    from escalation.tasks import deliver_notifications

    return deliver_notifications


def _dispatch(notification: Notification) -> None:
    _dispatch_many([notification])


def _dispatch_many(notifications: Iterable[Notification]) -> None:
    """After commit, one message per channel for each ESCALATION_DELIVER_BATCH notifications:
    a burst of pages costs a few broker publishes and claims, not one of each per page."""
    by_channel: dict[str, list[int]] = defaultdict(list)
    for notification in notifications:
        by_channel[notification.channel].append(notification.pk)
    size = settings.ESCALATION_DELIVER_BATCH
    for channel, ids in by_channel.items():
        task = _deliver_task().s().set(queue=settings.ESCALATION_NOTIFY_QUEUE_PREFIX + channel)
        for start in range(0, len(ids), size):
            enqueue_on_commit(task, notification_ids=ids[start : start + size])


# --- Schedules and contact methods ----------------------------------------------------


@transaction.atomic
def schedule_create(
    *, name: str, time_zone: str = "UTC", team: Team | None = None, description: str = ""
) -> Schedule:
    schedule = Schedule(name=name, time_zone=time_zone, team=team, description=description)
    schedule.full_clean()
    schedule.save()
    return schedule


@transaction.atomic
def layer_create(
    *,
    schedule: Schedule,
    users: list[User],
    start_date,
    handoff_time,
    turn_unit: str = "weeks",
    turn_length: int = 1,
    time_zone: str | None = None,
    name: str = "",
    restrictions: list[dict] | None = None,
) -> ScheduleLayer:
    position = schedule.layers.count()
    layer = ScheduleLayer(
        schedule=schedule,
        name=name or f"Layer {position + 1}",
        position=position,
        time_zone=time_zone or schedule.time_zone,
        start_date=start_date,
        handoff_time=handoff_time,
        turn_unit=turn_unit,
        turn_length=turn_length,
    )
    layer.full_clean()
    layer.save()
    _layer_fill(layer, users, restrictions or [])
    return layer


@transaction.atomic
def override_create(
    *, schedule: Schedule, user: User, start: datetime, end: datetime, by: User | None
) -> Override:
    override = Override(schedule=schedule, user=user, start=start, end=end, created_by=by)
    override.full_clean()
    override.save()
    return override


@transaction.atomic
def contact_method_create(*, user: User, kind: str, address: str, label: str = "") -> ContactMethod:
    method = ContactMethod(user=user, kind=kind, address=address.strip(), label=label)
    method.full_clean()
    method.save()
    return method


@transaction.atomic
def notification_rule_create(
    *, user: User, contact_method: ContactMethod, delay_minutes: int = 0
) -> NotificationRule:
    if contact_method.user_id != user.pk:
        raise ValidationError({"contact_method": "Use one of your own contact methods."})
    return NotificationRule.objects.create(
        user=user, contact_method=contact_method, delay_minutes=delay_minutes
    )


@transaction.atomic
def schedule_update(
    *, schedule: Schedule, name: str, time_zone: str, team: Team | None, description: str = ""
) -> Schedule:
    schedule.name, schedule.time_zone, schedule.team = name, time_zone, team
    schedule.description = description
    schedule.full_clean()
    schedule.save()
    return schedule


@transaction.atomic
def schedule_layers_replace(*, schedule: Schedule, layers: list[dict]) -> Schedule:
    """The API's whole-rotation edit: the schedule's layers become exactly these."""
    schedule.layers.all().delete()
    for spec in layers:
        layer_create(schedule=schedule, **spec)
    return schedule


@transaction.atomic
def schedule_delete(*, schedule: Schedule) -> None:
    # Running escalations keep their snapshot; a level naming this schedule then pages
    # nobody and says so on the timeline.
    schedule.delete()


@transaction.atomic
def schedule_rotate_token(*, schedule: Schedule) -> Schedule:
    """A new iCal feed URL: every calendar subscribed to the old one stops updating."""
    schedule.ical_token = new_token()
    schedule.save(update_fields=["ical_token"])
    return schedule


def _layer_fill(layer: ScheduleLayer, users: list[User], restrictions: list[dict]) -> None:
    LayerMember.objects.bulk_create(
        LayerMember(layer=layer, user=u, position=i) for i, u in enumerate(users)
    )
    for r in restrictions:
        restriction = LayerRestriction(layer=layer, **r)
        restriction.full_clean()
        restriction.save()


@transaction.atomic
def layer_update(
    *,
    layer: ScheduleLayer,
    users: list[User],
    start_date,
    handoff_time,
    turn_unit: str,
    turn_length: int,
    time_zone: str,
    name: str,
    restrictions: list[dict],
) -> ScheduleLayer:
    """Replace the layer's rotation and restrictions; who is on call changes from now on."""
    layer.name, layer.time_zone = name or layer.name, time_zone
    layer.start_date, layer.handoff_time = start_date, handoff_time
    layer.turn_unit, layer.turn_length = turn_unit, turn_length
    layer.full_clean()
    layer.save()
    layer.members.all().delete()
    layer.restrictions.all().delete()
    _layer_fill(layer, users, restrictions)
    return layer


@transaction.atomic
def layer_delete(*, layer: ScheduleLayer) -> None:
    layer.delete()


@transaction.atomic
def override_delete(*, override: Override) -> None:
    override.delete()


def user_feed_token(*, user: User) -> str:
    return UserFeedToken.objects.get_or_create(user=user)[0].token


@transaction.atomic
def user_feed_token_rotate(*, user: User) -> str:
    """A new personal iCal feed URL: the old one stops working."""
    feed, _ = UserFeedToken.objects.get_or_create(user=user)
    feed.token = new_token()
    feed.save(update_fields=["token"])
    return feed.token


@transaction.atomic
def contact_method_update(
    *, method: ContactMethod, kind: str, address: str, label: str = ""
) -> ContactMethod:
    method.kind, method.address, method.label = kind, address.strip(), label
    method.full_clean()
    method.save()
    return method


@transaction.atomic
def notification_rule_update(
    *, rule: NotificationRule, contact_method: ContactMethod, delay_minutes: int
) -> NotificationRule:
    if contact_method.user_id != rule.user_id:
        raise ValidationError({"contact_method": "Use one of your own contact methods."})
    rule.contact_method, rule.delay_minutes = contact_method, delay_minutes
    rule.save(update_fields=["contact_method", "delay_minutes"])
    return rule


@transaction.atomic
def contact_method_delete(*, user: User, method: ContactMethod) -> None:
    """Its notification rules go with it (on_delete cascade)."""
    if method.user_id != user.pk:
        raise PermissionDenied("Not your contact method.")
    method.delete()


@transaction.atomic
def notification_rule_delete(*, user: User, rule: NotificationRule) -> None:
    if rule.user_id != user.pk:
        raise PermissionDenied("Not your notification rule.")
    rule.delete()


# --- Policies ----------------------------------------------------------------------------


@transaction.atomic
def policy_create(
    *,
    name: str,
    team: Team | None = None,
    is_team_default: bool = False,
    repeat: int = 0,
    levels: list[dict] | None = None,
    **hours: Any,
) -> EscalationPolicy:
    """`levels`: [{"delay_minutes": 30, "hours": "always", "targets": [user|schedule|team]}]."""
    policy = EscalationPolicy(
        name=name, team=team, is_team_default=is_team_default, repeat=repeat, **hours
    )
    policy.full_clean()
    policy.save()
    for position, spec in enumerate(levels or []):
        level_add(policy=policy, position=position, **spec)
    return policy


@transaction.atomic
def level_add(
    *,
    policy: EscalationPolicy,
    targets: list[User | Schedule | Team],
    delay_minutes: int = 30,
    hours: str = LevelHours.ALWAYS,
    position: int | None = None,
) -> EscalationLevel:
    if position is None:
        position = policy.levels.count()
    level = EscalationLevel.objects.create(
        policy=policy, position=position, delay_minutes=delay_minutes, hours=hours
    )
    _targets_add(level, targets)
    return level


def _targets_add(level: EscalationLevel, targets: list[User | Schedule | Team]) -> None:
    for target in targets:
        kind = {User: TargetKind.USER, Schedule: TargetKind.SCHEDULE, Team: TargetKind.TEAM}[
            type(target)
        ]
        EscalationTarget.objects.create(level=level, kind=kind, **{kind: target})


@transaction.atomic
def policy_update(
    *,
    policy: EscalationPolicy,
    name: str,
    team: Team | None,
    is_team_default: bool,
    repeat: int,
    **hours: Any,
) -> EscalationPolicy:
    """Runs already paging keep their snapshot; the change applies to the next page."""
    policy.name, policy.team, policy.is_team_default, policy.repeat = (
        name,
        team,
        is_team_default,
        repeat,
    )
    for field, value in hours.items():
        setattr(policy, field, value)
    policy.full_clean()
    policy.save()
    return policy


@transaction.atomic
def policy_levels_replace(*, policy: EscalationPolicy, levels: list[dict]) -> EscalationPolicy:
    """The API's whole-policy edit: the levels become exactly these, in this order."""
    policy.levels.all().delete()
    for position, spec in enumerate(levels):
        level_add(policy=policy, position=position, **spec)
    return policy


@transaction.atomic
def policy_delete(*, policy: EscalationPolicy) -> None:
    # Running escalations keep following their snapshot.
    policy.delete()


@transaction.atomic
def level_update(
    *,
    level: EscalationLevel,
    targets: list[User | Schedule | Team],
    delay_minutes: int,
    hours: str,
) -> EscalationLevel:
    level.delay_minutes, level.hours = delay_minutes, hours
    level.full_clean()
    level.save()
    level.targets.all().delete()
    _targets_add(level, targets)
    return level


@transaction.atomic
def level_delete(*, level: EscalationLevel) -> None:
    """Remove a level and close the gap, so positions stay 0..n-1."""
    policy = level.policy
    level.delete()
    for position, remaining in enumerate(policy.levels.order_by("position", "id")):
        if remaining.position != position:
            remaining.position = position
            remaining.save(update_fields=["position"])


@transaction.atomic
def service_oncall_set(
    *, service: Service, policy: EscalationPolicy | None, **support_hours: Any
) -> ServiceOnCall:
    """The service's own policy (None: its team's default) and support hours for P4/P5."""
    oncall, _ = ServiceOnCall.objects.get_or_create(service=service)
    oncall.policy = policy
    for field, value in support_hours.items():
        setattr(oncall, field, value)
    oncall.full_clean()
    oncall.save()
    return oncall


def policy_for(incident: Incident) -> EscalationPolicy | None:
    """The service's policy while the incident sits with the service's team, else the team's."""
    if incident.service_id:
        oncall = ServiceOnCall.objects.filter(service_id=incident.service_id).first()
        same_team = incident.team_id in (None, incident.service.team_id)
        if oncall and oncall.policy_id and same_team:
            return oncall.policy
    if incident.team_id:
        return EscalationPolicy.objects.filter(
            team_id=incident.team_id, is_team_default=True
        ).first()
    return None


def policy_snapshot(policy: EscalationPolicy, at: datetime) -> dict:
    """The policy as it is now, with the levels that apply at this hour."""
    business = within_hours(
        at=at,
        tz_name=policy.time_zone,
        days=policy.business_days,
        start=policy.business_start,
        end=policy.business_end,
    )
    skip = LevelHours.AFTER_HOURS if business else LevelHours.BUSINESS
    levels = policy.levels.exclude(hours=skip).prefetch_related(
        "targets__user", "targets__schedule", "targets__team"
    )
    return {
        "policy_id": policy.pk,
        "name": policy.name,
        "repeat": policy.repeat,
        "business_hours": business,
        "levels": [
            {
                "delay_minutes": level.delay_minutes,
                "targets": [
                    {
                        "kind": t.kind,
                        "id": getattr(t, f"{t.kind}_id"),
                        "name": str(getattr(t, t.kind)),
                    }
                    for t in level.targets.all()
                ],
            }
            for level in levels
        ],
    }


# --- Runs ----------------------------------------------------------------------------------


def _support_hours_start(incident: Incident, now: datetime) -> datetime:
    """P4 and P5 page only within the service's support hours (low urgency)."""
    if incident.priority < Priority.P4 or not incident.service_id:
        return now
    oncall = ServiceOnCall.objects.filter(service_id=incident.service_id).first()
    if oncall is None:
        return now
    return next_hours_start(
        at=now,
        tz_name=oncall.time_zone,
        days=oncall.support_days,
        start=oncall.support_start,
        end=oncall.support_end,
    )


def run_start(*, incident: Incident, reason: str, replacing: bool = True) -> EscalationRun | None:
    """Start paging `incident` through its policy; must run inside the incident's transaction.
    `replacing=False`: the incident is new, so it has no run to stop first."""
    now = timezone.now()
    if replacing:
        _runs_stop(
            incident=incident, state=RunState.STOPPED, reason=f"replaced: {reason}", quiet=True
        )
    policy = policy_for(incident)
    if policy is None:
        # Not a timeline event: with no policy set up there is no team to tell; the
        # incident page's paging panel says "no escalation policy" instead.
        logger.info("%s: no escalation policy, nobody paged", incident.number)
        return None
    snapshot = policy_snapshot(policy, now)
    due = _support_hours_start(incident, now)
    run = EscalationRun.objects.create(
        incident=incident, policy=policy, snapshot=snapshot, next_at=due, started_at=now
    )
    message = f"Paging started with policy {policy.name} ({reason})."
    if due > now:
        message = (
            f"P{incident.priority} pages within support hours only: paging with policy "
            f"{policy.name} starts at {due.isoformat()}."
        )
    _record(incident, EventKind.PAGING_STARTED, message, policy=policy.name, run=run.pk)
    if due <= now:
        enqueue_on_commit(_step_task(), run_id=run.pk)
    return run


def _step_task():
    # See _deliver_task; the queue is read per call so tests can give workers their own.
    from escalation.tasks import escalation_step

    return escalation_step.s().set(queue=settings.ESCALATION_ENGINE_QUEUE)


def _runs_stop(*, incident: Incident, state: str, reason: str, quiet: bool = False) -> int:
    """Stop paging and cancel pages not yet sent, in the caller's transaction.

    An acknowledge that races the sweeper waits here for the sweeper's row lock, then
    cancels whatever notifications the sweeper committed: none of them is sent after.
    """
    now = timezone.now()
    stopped = EscalationRun.objects.filter(incident=incident, state=RunState.ACTIVE).update(
        state=state, stopped_at=now, stop_reason=reason, next_at=None
    )
    Notification.objects.filter(
        incident=incident, reason=NotificationReason.PAGE, status=NotificationStatus.PENDING
    ).update(status=NotificationStatus.CANCELLED, last_error=reason)
    if stopped and not quiet:
        _record(incident, EventKind.PAGING_STOPPED, f"Paging stopped: {reason}.")
    return stopped


def run_stop(*, incident: Incident, reason: str, acknowledged: bool = False) -> int:
    """Stop paging because of a transition, which is on the timeline already."""
    state = RunState.ACKNOWLEDGED if acknowledged else RunState.STOPPED
    return _runs_stop(incident=incident, state=state, reason=reason, quiet=True)


@transaction.atomic
def incident_page(*, incident: Incident, by: User) -> EscalationRun | None:
    """The "page" button: start (or restart) paging through the incident's policy."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if not incident.is_open:
        raise Conflict(f"{incident.number} is {incident.status}; it cannot be paged.")
    return run_start(incident=incident, reason=f"paged by {by.get_username()}")


@transaction.atomic
def run_escalate_now(*, incident: Incident, by: User, level: int | None = None) -> EscalationRun:
    """Jump to the next level (or a chosen one, counted from 1) now."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    run = (
        EscalationRun.objects.select_for_update()
        .filter(incident=incident, state=RunState.ACTIVE)
        .first()
    )
    if run is None:
        raise Conflict(f"{incident.number} is not being paged; page it first.")
    levels = run.snapshot.get("levels", [])
    if level is not None:
        if not 1 <= level <= len(levels):
            raise ValidationError({"level": f"Choose a level from 1 to {len(levels)}."})
        run.level = level - 1
    elif run.next_at is None:
        raise Conflict("Every level has been paged already.")
    run.next_at = timezone.now()
    run.save(update_fields=["level", "next_at"])
    record_event(
        incident=incident,
        kind=EventKind.ESCALATED,
        actor=by,
        data={
            "message": f"{by.get_username()} escalated to level {run.level + 1} now.",
            "level": run.level + 1,
        },
    )
    enqueue_on_commit(_step_task(), run_id=run.pk)
    return run


class _Lookup:
    """Who targets are and how to reach them at one instant, remembered for one sweeper
    batch: runs that share a schedule, user or team cost one lookup between them."""

    def __init__(self, at: datetime):
        self.at = at
        self._users: dict[tuple[str, int], list[User]] = {}
        self._rules: dict[int, list[tuple[NotificationRule | None, str, str, int]]] = {}
        self._written: dict[int, int] = {}

    def users(self, kind: str, pk: int) -> list[User]:
        if (kind, pk) not in self._users:
            if kind == TargetKind.USER:
                found = list(User.objects.filter(pk=pk, is_active=True))
            elif kind == TargetKind.SCHEDULE:
                schedule = Schedule.objects.filter(pk=pk).first()
                resolver = schedule and ScheduleResolver(schedule, overrides_from=self.at)
                user = resolver.shift_at(self.at)[0] if resolver else None
                found = [user] if user else []
            else:
                members = User.objects.filter(teams__pk=pk, is_active=True)
                found = list(members.order_by("username"))
            self._users[kind, pk] = found
        return self._users[kind, pk]

    def over_hourly_cap(self, user: User) -> bool:
        """As over_hourly_cap(), counted once per batch and then kept up to date here."""
        if user.pk not in self._written:
            self._written[user.pk] = _written_last_hour(user, self.at)
        return self._written[user.pk] >= settings.ESCALATION_NOTIFY_MAX_PER_HOUR

    def wrote(self, user: User, count: int) -> None:
        self._written[user.pk] = self._written.get(user.pk, 0) + count

    def rules(self, user: User) -> list[tuple[NotificationRule | None, str, str, int]]:
        if user.pk not in self._rules:
            self._rules[user.pk] = _rules_for(user)
        return self._rules[user.pk]


def _resolve_targets(level: dict, lookup: _Lookup) -> tuple[list[tuple[User, str]], list[str]]:
    picks: dict[int, tuple[User, str]] = {}
    errors: list[str] = []
    for target in level["targets"]:
        kind, name = target["kind"], target["name"]
        via, error = {
            TargetKind.USER: ("", f"user {name} no longer exists or is inactive"),
            TargetKind.SCHEDULE: (f"schedule {name}", f"schedule {name} has nobody on call"),
            TargetKind.TEAM: (f"team {name}", f"team {name} has no members"),
        }[kind]
        found = lookup.users(kind, target["id"])
        if not found:
            errors.append(error)
        for user in found:
            picks.setdefault(user.pk, (user, via))
    return list(picks.values()), errors


def _how(via: str) -> str:
    return f"via {via}" if via else "directly"


def _rules_for(user: User) -> list[tuple[NotificationRule | None, str, str, int]]:
    rules = [
        (rule, rule.contact_method.kind, rule.contact_method.address, rule.delay_minutes)
        for rule in user.notification_rules.select_related("contact_method")
    ]
    if not rules and user.email:
        # Someone who set nothing up is still reachable at their account's email.
        rules = [(None, ChannelKind.EMAIL, user.email, 0)]
    return rules


def _written_last_hour(user: User, now: datetime) -> int:
    recent = Notification.objects.filter(recipient=user, created_at__gt=now - timedelta(hours=1))
    return recent.count()


def over_hourly_cap(user: User, now: datetime) -> bool:
    """ESCALATION_NOTIFY_MAX_PER_HOUR notifications written for the user in the last hour:
    a storm must not flood one phone (or run up one SMS bill)."""
    return _written_last_hour(user, now) >= settings.ESCALATION_NOTIFY_MAX_PER_HOUR


def notify_user(
    *,
    user: User,
    reason: str,
    key: str,
    subject: str,
    body: str,
    now: datetime,
    incident: Incident | None = None,
    run: EscalationRun | None = None,
    rules: list[tuple[NotificationRule | None, str, str, int]] | None = None,
    cap_checked: bool = False,
    outbox: list[Notification] | None = None,
) -> list[Notification]:
    """Write one notification per rule of the user, each due after its delay; idempotent.

    Past the hourly cap nothing more is written (see over_hourly_cap); a caller that
    checked it already says so with `cap_checked`. The ones due now are dispatched, or
    added to `outbox` for a caller that dispatches a whole batch's at once.
    """
    if not cap_checked and over_hourly_cap(user, now):
        cap = settings.ESCALATION_NOTIFY_MAX_PER_HOUR
        logger.warning("%s: over %d notifications this hour; not sent: %s", user, cap, subject)
        return []
    created = []
    rules = _rules_for(user) if rules is None else rules
    for i, (rule, channel, address, delay) in enumerate(rules):
        notification = Notification(
            recipient=user,
            incident=incident,
            run=run,
            channel=channel,
            address=address,
            rule=rule,
            reason=reason,
            subject=subject[:300],
            body=body,
            due_at=now + timedelta(minutes=delay),
            dispatched_until=(
                now + timedelta(seconds=settings.ESCALATION_REDISPATCH_SECONDS)
                if delay == 0
                else None
            ),
            idempotency_key=f"{key}:{rule.pk if rule else 'account'}:{i}",
        )
        try:
            with transaction.atomic():
                notification.save()
        except IntegrityError:
            continue  # already written by an earlier attempt of the same step
        created.append(notification)
        if delay == 0:
            if outbox is None:
                _dispatch(notification)
            else:
                outbox.append(notification)
    return created


def _fire(run: EscalationRun, now: datetime, lookup: _Lookup, outbox: list[Notification]) -> None:
    """Page the run's current level and move it on; the pages due now go into `outbox`.
    The caller holds the run's row lock."""
    incident = run.incident
    if not incident.is_open:
        run.state, run.stopped_at, run.next_at = RunState.STOPPED, now, None
        run.stop_reason = f"incident is {incident.status}"
        run.save()
        return
    levels = run.snapshot.get("levels", [])
    if not levels:
        _record(incident, EventKind.PAGING_ERROR, "Nobody was paged: the policy has no levels.")
        run.next_at = None
        run.save(update_fields=["next_at"])
        return
    number = run.level + 1
    level = levels[run.level]
    picks, errors = _resolve_targets(level, lookup)
    # The step is the level's due time: a retried step (its transaction rolled back) has the
    # same one and writes nothing twice; "escalate now" to a level paged before is a new step.
    step = int(run.next_at.timestamp() * 1_000_000)
    paged = 0
    for user, via in picks:
        if lookup.over_hourly_cap(user):
            # Said on the timeline, never a silent gap in the paging.
            cap = settings.ESCALATION_NOTIFY_MAX_PER_HOUR
            errors.append(f"{user.get_username()} was sent {cap} notifications this hour already")
            continue
        paged += 1
        written = notify_user(
            user=user,
            reason=NotificationReason.PAGE,
            key=f"page:{run.pk}:{run.loop}:{run.level}:{user.pk}:{step}",
            subject=f"[Vigil] {incident.number} P{incident.priority}: {incident.title}",
            body=(
                f"{incident.number} needs you: {incident.title}\n"
                f"Priority P{incident.priority}, status {incident.status}.\n"
                f"You were paged {_how(via)} at level {number}."
            ),
            now=now,
            incident=incident,
            run=run,
            rules=lookup.rules(user),
            cap_checked=True,
            outbox=outbox,
        )
        lookup.wrote(user, len(written))
        _record(
            incident,
            EventKind.PAGED,
            f"Paged {user.get_username()} {_how(via)} at level {number}.",
            user=user.get_username(),
            via=via,
            level=number,
            loop=run.loop,
        )
    if errors:
        what = "Part of the level could not be paged"
        if not paged:
            what = "Nobody was paged" if picks else "Nobody on call"
        _record(
            incident,
            EventKind.PAGING_ERROR,
            f"{what} at level {number}: {'; '.join(errors)}.",
            level=number,
            errors=errors,
        )
    delay = timedelta(minutes=level["delay_minutes"])
    if run.level + 1 < len(levels):
        run.level += 1
        run.next_at = now + delay
    elif run.loop < run.snapshot.get("repeat", 0):
        run.loop += 1
        run.level = 0
        run.next_at = now + delay
    else:
        run.next_at = None  # every level paged: still unacknowledged, nothing more to do
    run.save(update_fields=["level", "loop", "next_at"])


def _claim_due_runs(now: datetime, limit: int, run_id: int | None = None):
    qs = EscalationRun.objects.filter(state=RunState.ACTIVE, next_at__lte=now)
    if run_id is not None:
        qs = qs.filter(pk=run_id)
    # The incident is locked too, first in the order every incident write takes (incident,
    # then its runs, timers, notifications); an incident busy in an acknowledge is skipped
    # for now instead of deadlocking with it. NO KEY UPDATE lets timeline rows reference it.
    return list(
        qs.select_for_update(skip_locked=True, no_key=True, of=("self", "incident"))
        .select_related("incident", "incident__service")
        .order_by("next_at", "id")[:limit]
    )


def runs_fire_due(*, run_id: int | None = None, batch: int = 100, budget: float = 20.0) -> int:
    """Fire every due level: batches claimed with SKIP LOCKED, each in its own transaction."""
    fired = 0
    deadline = timezone.now() + timedelta(seconds=budget)
    while timezone.now() < deadline:
        with transaction.atomic():
            now = timezone.now()
            runs = _claim_due_runs(now, batch, run_id)
            lookup = _Lookup(now)
            outbox: list[Notification] = []
            for run in runs:
                pages: list[Notification] = []
                try:
                    with transaction.atomic():
                        _fire(run, now, lookup, pages)
                except Exception:
                    logger.exception("Escalation run %s failed to fire; it stays due", run.pk)
                    continue  # its pages were rolled back with it
                outbox += pages
            _dispatch_many(outbox)
            fired += len(runs)
        if len(runs) < batch or run_id is not None:
            break
    return fired


# --- Delivery ------------------------------------------------------------------------------


def ack_token(notification: Notification) -> str:
    return signing.dumps({"n": notification.pk}, salt=ACK_SALT, compress=True)


def ack_url(notification: Notification) -> str:
    if notification.reason != NotificationReason.PAGE:
        return ""
    path = reverse("escalation:acknowledge", args=[ack_token(notification)])
    return settings.BASE_URL + path


def notification_from_token(token: str) -> Notification | None:
    try:
        data = signing.loads(token, salt=ACK_SALT, max_age=settings.ESCALATION_ACK_LINK_MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return None
    return (
        Notification.objects.select_related("incident", "run", "recipient")
        .filter(pk=data.get("n"))
        .first()
    )


@transaction.atomic
def _claim_notifications(ids: list[int], now: datetime) -> list[Notification]:
    """Lock and claim the due, still pending ones among `ids` (three statements for a batch)."""
    # Lock the runs before the notifications, in the order an acknowledge takes them (run,
    # then its pending pages), or the two deadlock. The claim then commits either before the
    # acknowledge (and is sent) or sees it (and is cancelled).
    of_these = Notification.objects.filter(pk__in=ids).values("run_id")
    runs = {
        run.pk: run
        for run in EscalationRun.objects.select_for_update(no_key=True)
        .filter(pk__in=of_these)
        .order_by("pk")
    }
    claimed = []
    for notification in (
        Notification.objects.select_for_update(of=("self",))
        .select_related("incident")
        .filter(pk__in=ids)
        .order_by("pk")
    ):
        if notification.status != NotificationStatus.PENDING or notification.due_at > now:
            continue
        run = runs.get(notification.run_id)
        if notification.run_id is not None and (run is None or run.state != RunState.ACTIVE):
            notification.status = NotificationStatus.CANCELLED
            notification.last_error = f"paging {run.state if run else 'deleted'}"
            notification.save(update_fields=["status", "last_error"])
            continue
        notification.status = NotificationStatus.SENDING
        notification.attempts += 1
        notification.claimed_at = now
        notification.claimed_until = now + timedelta(seconds=settings.ESCALATION_SEND_LEASE)
        claimed.append(notification)
    if claimed:
        Notification.objects.filter(pk__in=[n.pk for n in claimed]).update(
            status=NotificationStatus.SENDING,
            attempts=F("attempts") + 1,
            claimed_at=now,
            claimed_until=claimed[0].claimed_until,
        )
    return claimed


def notifications_deliver(*, notification_ids: list[int]) -> dict[int, str]:
    """Send each notification once: claimed together, sent one by one outside any
    transaction, the sent ones recorded together; returns what became of each.

    Past ESCALATION_DELIVER_BUDGET seconds (a slow channel) the rest are handed back
    unsent, and the sweeper dispatches them again: a batch never outlives its lease.
    """
    results = dict.fromkeys(notification_ids, "skipped")
    claimed = _claim_notifications(notification_ids, timezone.now())
    deadline = time.monotonic() + settings.ESCALATION_DELIVER_BUDGET
    sent = []
    for i, notification in enumerate(claimed):
        if time.monotonic() > deadline:
            rest = [n.pk for n in claimed[i:]]
            Notification.objects.filter(pk__in=rest, status=NotificationStatus.SENDING).update(
                status=NotificationStatus.PENDING,
                attempts=F("attempts") - 1,
                claimed_until=None,
                dispatched_until=None,
            )
            results.update(dict.fromkeys(rest, "returned"))
            break
        try:
            TRANSPORTS[notification.channel].send(notification, ack_url=ack_url(notification))
        except DeliveryError as error:
            _delivery_failed(notification, error)
            results[notification.pk] = "failed"
            continue
        sent.append(notification.pk)
        results[notification.pk] = "sent"
    if sent:
        Notification.objects.filter(pk__in=sent, status=NotificationStatus.SENDING).update(
            status=NotificationStatus.SENT, sent_at=timezone.now(), last_error=""
        )
    return results


def notification_deliver(*, notification_id: int) -> str:
    """Send one notification once (see notifications_deliver)."""
    return notifications_deliver(notification_ids=[notification_id])[notification_id]


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=settings.ESCALATION_RETRY_BASE_SECONDS * 2 ** (attempts - 1))


@transaction.atomic
def _delivery_failed(notification: Notification, error: DeliveryError) -> None:
    now = timezone.now()
    if notification.incident_id:
        # The incident before its notifications, the order an acknowledge locks them in.
        Incident.objects.select_for_update(no_key=True).filter(pk=notification.incident_id).get()
    if error.retry and notification.attempts < settings.ESCALATION_MAX_ATTEMPTS:
        Notification.objects.filter(pk=notification.pk, status=NotificationStatus.SENDING).update(
            status=NotificationStatus.PENDING,
            due_at=now + backoff(notification.attempts),
            dispatched_until=None,
            last_error=str(error),
        )
        return
    changed = Notification.objects.filter(
        pk=notification.pk, status=NotificationStatus.SENDING
    ).update(status=NotificationStatus.FAILED, last_error=str(error))
    if not changed:
        return
    # Fall through: the user's next rule for the same page goes now instead of later.
    prefix = notification.idempotency_key.rsplit(":", 2)[0]
    later = Notification.objects.filter(
        idempotency_key__startswith=prefix + ":",
        status=NotificationStatus.PENDING,
        due_at__gt=now,
    ).order_by("due_at", "pk")
    following = later.first()
    if following is not None:
        Notification.objects.filter(pk=following.pk).update(due_at=now, dispatched_until=None)
        following.refresh_from_db()
        _dispatch(following)
    if notification.incident_id:
        then = f"; trying {following.channel} next" if following else "; no other rule left"
        _record(
            notification.incident,
            EventKind.NOTIFICATION_FAILED,
            f"{notification.get_channel_display()} to {notification.recipient.get_username()} "
            f"failed after {notification.attempts} attempt(s): {error}{then}.",
            user=notification.recipient.get_username(),
            channel=notification.channel,
        )


def notifications_dispatch_due(*, limit: int = 500) -> int:
    """Send a message for due notifications nobody has a live message for (the broker's
    copy lost in a Redis restart, a retry's backoff over), and free stale claims."""
    now = timezone.now()
    stale = Notification.objects.filter(status=NotificationStatus.SENDING, claimed_until__lt=now)
    # A worker died mid-send: at-least-once from here, since the send may have happened.
    if reclaimed := stale.update(status=NotificationStatus.PENDING, dispatched_until=None):
        logger.warning("Reclaimed %s notifications from workers that died mid-send", reclaimed)
    # A message past its lease is resent only into an empty queue: while a channel's queue
    # holds messages, a late one is waiting in it, not lost. Resending into a backlog (a
    # burst of thousands of pages) multiplied the queue and starved the deliveries.
    backlogged = [
        channel
        for channel in ChannelKind.values
        if queue_length(settings.ESCALATION_NOTIFY_QUEUE_PREFIX + channel)
    ]
    never_sent = Q(dispatched_until__isnull=True)
    lease_over = Q(dispatched_until__lt=now) & ~Q(channel__in=backlogged)
    with transaction.atomic():
        due = list(
            Notification.objects.filter(status=NotificationStatus.PENDING, due_at__lte=now)
            .filter(never_sent | lease_over)
            .select_for_update(skip_locked=True)
            .order_by("due_at")[:limit]
        )
        lease = now + timedelta(seconds=settings.ESCALATION_REDISPATCH_SECONDS)
        Notification.objects.filter(pk__in=[n.pk for n in due]).update(dispatched_until=lease)
        _dispatch_many(due)
    return len(due)


# --- Acknowledge -------------------------------------------------------------------------


@transaction.atomic
def page_acknowledge(*, incident: Incident, by: User | None) -> Incident:
    """Acknowledge a page: the incident if it is still triggered, else just the paging."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status == Status.TRIGGERED:
        try:
            with transaction.atomic():
                incident = incident_transition(incident=incident, action="acknowledge", by=by)
        except TransitionNotAllowed:
            pass  # a major incident waiting for its commander: paging still stops
    who = by.get_username() if by else "someone"
    _runs_stop(incident=incident, state=RunState.ACKNOWLEDGED, reason=f"acknowledged by {who}")
    return incident


@transaction.atomic
def ack_link_use(*, notification: Notification) -> Incident:
    """The emailed link: works once, without logging in, as the person it was sent to."""
    used = Notification.objects.filter(pk=notification.pk, ack_used_at__isnull=True).update(
        ack_used_at=timezone.now()
    )
    if not used:
        raise Conflict("This acknowledge link has been used already.")
    return page_acknowledge(incident=notification.incident, by=notification.recipient)


# --- SLA timers and update reminders --------------------------------------------------------

DEFAULT_SLA = {
    Priority.P1: (timedelta(minutes=15), timedelta(hours=4), timedelta(minutes=30)),
    Priority.P2: (timedelta(minutes=30), timedelta(hours=8), timedelta(minutes=60)),
    Priority.P3: (timedelta(hours=4), timedelta(days=3), timedelta(hours=4)),
    Priority.P4: (timedelta(days=1), timedelta(weeks=1), None),
    Priority.P5: (None, None, None),
}
WARN_AT = 0.75


def sla_targets(priority: int) -> tuple[timedelta | None, timedelta | None, timedelta | None]:
    row = SlaTarget.objects.filter(priority=priority).first()
    if row is None:
        return DEFAULT_SLA[priority]
    return row.time_to_acknowledge, row.time_to_resolve, row.update_every


def _timer(incident: Incident, kind: str, due: datetime) -> None:
    IncidentTimer.objects.create(incident=incident, kind=kind, due_at=due)


def timers_start(*, incident: Incident) -> None:
    ack, resolve, update = sla_targets(incident.priority)
    start = incident.created_at
    due = {}
    if ack:
        due[TimerKind.ACK_WARNING] = start + ack * WARN_AT
        due[TimerKind.ACK_BREACH] = start + ack
    if resolve:
        due[TimerKind.RESOLVE_WARNING] = start + resolve * WARN_AT
        due[TimerKind.RESOLVE_BREACH] = start + resolve
    if update:
        due[TimerKind.UPDATE_DUE] = start + update
    # One INSERT: every incident an alert opens starts these.
    IncidentTimer.objects.bulk_create(
        IncidentTimer(incident=incident, kind=kind, due_at=at) for kind, at in due.items()
    )


def _live_timers(incident: Incident, kinds: list[str]):
    return IncidentTimer.objects.filter(
        incident=incident, kind__in=kinds, state__in=[TimerState.PENDING, TimerState.PAUSED]
    )


ACK_KINDS = [TimerKind.ACK_WARNING, TimerKind.ACK_BREACH]
RESOLVE_KINDS = [TimerKind.RESOLVE_WARNING, TimerKind.RESOLVE_BREACH]


def timers_on_transition(*, incident: Incident, previous: str, target: str) -> None:
    now = timezone.now()
    if target != Status.TRIGGERED:
        _live_timers(incident, ACK_KINDS).update(state=TimerState.CANCELLED)
    if target not in (Status.ON_HOLD, *_OPEN):
        _live_timers(incident, [*RESOLVE_KINDS, TimerKind.UPDATE_DUE]).update(
            state=TimerState.CANCELLED
        )
    elif target == Status.ON_HOLD:
        # On hold stops the resolve clock: keep what was left.
        for timer in _live_timers(incident, RESOLVE_KINDS).filter(state=TimerState.PENDING):
            timer.remaining = max(timer.due_at - now, timedelta(0))
            timer.state, timer.due_at = TimerState.PAUSED, None
            timer.save(update_fields=["remaining", "state", "due_at"])
    elif previous == Status.ON_HOLD:
        for timer in _live_timers(incident, RESOLVE_KINDS).filter(state=TimerState.PAUSED):
            timer.state, timer.due_at, timer.remaining = (
                TimerState.PENDING,
                now + timer.remaining,
                None,
            )
            timer.save(update_fields=["remaining", "state", "due_at"])


_OPEN = (Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.MITIGATED, Status.TRIGGERED)


def timers_on_update(*, incident: Incident, now: datetime) -> None:
    """A stakeholder or public update restarts the update cadence."""
    update_every = sla_targets(incident.priority)[2]
    _live_timers(incident, [TimerKind.UPDATE_DUE]).update(state=TimerState.CANCELLED)
    if update_every and incident.is_open:
        _timer(incident, TimerKind.UPDATE_DUE, now + update_every)


def _update_reminder_recipient(incident: Incident) -> User | None:
    roles = {r.kind: r.user for r in incident.roles.select_related("user")}
    return roles.get(RoleKind.COMMUNICATIONS) or roles.get(RoleKind.COMMANDER) or incident.assignee


def _fire_timer(timer: IncidentTimer, now: datetime) -> None:
    incident = timer.incident
    timer.state, timer.fired_at = TimerState.FIRED, now
    timer.save(update_fields=["state", "fired_at"])
    ack, resolve, update_every = sla_targets(incident.priority)
    if timer.kind in (TimerKind.ACK_WARNING, TimerKind.RESOLVE_WARNING):
        what = "acknowledge" if timer.kind == TimerKind.ACK_WARNING else "resolve"
        _record(
            incident,
            EventKind.SLA_WARNING,
            f"75% of the time to {what} has passed.",
            sla=what,
        )
    elif timer.kind in (TimerKind.ACK_BREACH, TimerKind.RESOLVE_BREACH):
        what = "acknowledge" if timer.kind == TimerKind.ACK_BREACH else "resolve"
        target = (ack if what == "acknowledge" else resolve) or timedelta(0)
        SlaBreach.objects.get_or_create(incident=incident, kind=what, defaults={"target": target})
        manager = incident.team.manager if incident.team_id else None
        _record(
            incident,
            EventKind.SLA_BREACHED,
            f"Time to {what} breached"
            + (f": {manager.get_username()} (team manager) notified." if manager else "."),
            sla=what,
        )
        if manager:
            notify_user(
                user=manager,
                reason=NotificationReason.SLA_BREACH,
                key=f"sla:{incident.pk}:{what}:{manager.pk}",
                subject=f"[Vigil] SLA breached on {incident.number}: time to {what}",
                body=f"{incident.number} {incident.title} breached its time to {what}.",
                now=now,
                incident=incident,
            )
    elif timer.kind == TimerKind.UPDATE_DUE:
        recipient = _update_reminder_recipient(incident)
        who = recipient.get_username() if recipient else "nobody (no lead, commander or assignee)"
        _record(incident, EventKind.UPDATE_DUE, f"A stakeholder update is due; reminded {who}.")
        if recipient:
            notify_user(
                user=recipient,
                reason=NotificationReason.UPDATE_REMINDER,
                key=f"update:{timer.pk}:{recipient.pk}",
                subject=f"[Vigil] {incident.number}: a stakeholder update is due",
                body=f"No stakeholder update on {incident.number} {incident.title} lately.",
                now=now,
                incident=incident,
            )
        if update_every and incident.is_open:
            _timer(incident, TimerKind.UPDATE_DUE, now + update_every)


def timers_fire_due(*, batch: int = 100) -> int:
    fired = 0
    while True:
        with transaction.atomic():
            now = timezone.now()
            timers = list(
                IncidentTimer.objects.filter(state=TimerState.PENDING, due_at__lte=now)
                # Incident first, as in _claim_due_runs.
                .select_for_update(skip_locked=True, no_key=True, of=("self", "incident"))
                .select_related("incident", "incident__team__manager")
                .order_by("due_at")[:batch]
            )
            for timer in timers:
                _fire_timer(timer, now)
            fired += len(timers)
        if len(timers) < batch:
            return fired


def next_update_due(incident: Incident) -> datetime | None:
    timer = _live_timers(incident, [TimerKind.UPDATE_DUE]).filter(state=TimerState.PENDING).first()
    return timer.due_at if timer else None


# --- Shift-start notices ------------------------------------------------------------------


def shift_notices_send(*, now: datetime | None = None) -> int:
    """Tell each user when their on-call shift starts (once per shift)."""
    now = now or timezone.now()
    lead = timedelta(minutes=settings.ESCALATION_SHIFT_NOTICE_MINUTES)
    sent = 0
    for schedule in Schedule.objects.all():
        since = schedule.announced_until or now
        until = now + lead
        if until <= since:
            continue
        # One second back, so a handoff exactly at the window's start counts as a start.
        start = since - timedelta(seconds=1)
        resolver = ScheduleResolver(schedule, overrides_from=start)
        with transaction.atomic():
            for shift in resolver.shifts(start, until):
                if shift.user is None or shift.start <= start:
                    continue
                local = shift.start.astimezone(timezone.get_current_timezone())
                sent += len(
                    notify_user(
                        user=shift.user,
                        reason=NotificationReason.SHIFT_START,
                        key=f"shift:{schedule.pk}:{shift.user.pk}:{shift.start.isoformat()}",
                        subject=f"[Vigil] Your on-call shift on {schedule.name} starts",
                        body=f"You are on call on {schedule.name} from {local:%Y-%m-%d %H:%M %Z}.",
                        now=now,
                    )
                )
            Schedule.objects.filter(pk=schedule.pk).update(announced_until=until)
    return sent


# --- Auditor ----------------------------------------------------------------------------


def runs_audit() -> int:
    """Find runs overdue by more than a minute, log them, and fire them."""
    overdue = list(overdue_runs().values_list("pk", flat=True)[:1000])
    if overdue:
        logger.error(
            "Auditor: %s escalation runs overdue by over a minute: %s", len(overdue), overdue
        )
        runs_fire_due()
    return len(overdue)


def sweep() -> dict[str, int]:
    return {
        "runs": runs_fire_due(),
        "timers": timers_fire_due(),
        "notifications": notifications_dispatch_due(),
    }
