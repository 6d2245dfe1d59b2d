"""Every write of the integrations app (keys, alerts, heartbeats).

Incidents are created and changed only through `incidents.services`, so the timeline
and the incident_event signal (escalation pages on it) see every alert-driven change.
"""

from __future__ import annotations

import json
import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from incidents import services as incident_services
from incidents.enums import OPEN_STATUSES, ResolutionCode, Status
from incidents.exceptions import TransitionNotAllowed
from incidents.models import Incident, Service, TimelineEvent, User
from integrations import statements
from integrations.enums import AlertEventKind, AlertStatus, IntegrationKind, Severity
from integrations.models import Alert, Integration

INTEGRATION_SETTINGS = (
    "name",
    "enabled",
    "severity_map",
    "auto_resolve",
    "group_window_seconds",
    "rate_limit_per_minute",
    "heartbeat_interval_seconds",
    "heartbeat_grace_seconds",
)


# --- Integrations and keys -------------------------------------------------------------


@transaction.atomic
def integration_create(
    *, name: str, service: Service, kind: str, by: User | None = None, **options: Any
) -> tuple[Integration, str]:
    """Create an integration; the key is returned here once and stored only as a hash."""
    unknown = set(options) - set(INTEGRATION_SETTINGS)
    if unknown:
        raise TypeError(f"integration_create() got unexpected fields: {sorted(unknown)}")
    integration = Integration(name=name, service=service, kind=kind, **options)
    key = integration.set_key()
    integration.full_clean()
    if kind == IntegrationKind.HEARTBEAT:
        integration.heartbeat_due_at = _heartbeat_due(integration, timezone.now())
    integration.save()
    return integration, key


@transaction.atomic
def integration_update(*, integration: Integration, **changes: Any) -> Integration:
    unknown = set(changes) - set(INTEGRATION_SETTINGS) - {"service"}
    if unknown:
        raise TypeError(f"integration_update() got unexpected fields: {sorted(unknown)}")
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    for field, value in changes.items():
        setattr(integration, field, value)
    integration.full_clean()
    integration.save()
    return integration


@transaction.atomic
def integration_rotate_key(*, integration: Integration) -> str:
    """A new key; the old one stops working when this commits."""
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    key = integration.set_key()
    integration.save(update_fields=["key_hash", "key_prefix", "key_rotated_at"])
    return key


# --- Alerts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertOutcome:
    alert: Alert | None
    action: str  # created | grouped | repeated | resolved | acknowledged | dropped


def _firing(integration: Integration, dedup_key: str) -> Alert | None:
    return (
        Alert.objects.select_for_update(of=("self",))
        .select_related("incident")
        .filter(integration=integration, dedup_key=dedup_key, status=AlertStatus.FIRING)
        .first()
    )


def _describe(*, source: str, details: dict, links: list) -> str:
    lines = [f"Source: {source}"] if source else []
    for key, value in (details or {}).items():
        lines.append(f"{key}: {value}")
    for link in links or []:
        lines.append(str(link.get("href", "") if isinstance(link, dict) else link))
    return "\n".join(lines)[:10000]


def alert_trigger(
    *,
    integration: Integration,
    summary: str,
    severity: str,
    dedup_key: str = "",
    source: str = "",
    details: dict | None = None,
    links: list | None = None,
    now: datetime | None = None,
) -> AlertOutcome:
    """A firing alert: it counts on its open incident, joins a storm's, or opens one.

    The first two are one statement each, without a transaction of their own or a lock
    held between round trips: nine alerts in ten repeat one (a flapping check, a monitor
    re-sending), and a storm's alerts all join the incident its first one opened. Only
    opening an incident takes the long way, `_trigger`.
    """
    now = now or timezone.now()
    details, links = details or {}, links or []
    if dedup_key and (alert := _count_repeat(integration, dedup_key, details, now)):
        return AlertOutcome(alert, "repeated")
    new = Alert(
        integration=integration,
        dedup_key=dedup_key or uuid.uuid4().hex,
        summary=summary[:1024],
        severity=severity,
        source=source[:255],
        details=details,
        links=links,
        first_seen=now,
        last_seen=now,
    )
    if outcome := _group(new, now):
        return outcome
    try:
        return _trigger(new, now)
    except IntegrityError:
        # The same key inserted by a trigger that locked another service (the integration
        # moved meanwhile): the unique index refused this copy; it is a repeat now.
        new.pk = None
        return _trigger(new, now)


def _write_attached(
    integration: Integration, statement: statements.Prepared, params: list
) -> Alert | None:
    """Run a statement that writes one alert and its attached event; announce the event.
    The alert's `inserted` says whether it is new."""
    event_params = [
        AlertEventKind.ALERT_ATTACHED,
        integration.name,
        timezone.now(),
        integration.name,
    ]
    found = list(statement.raw(Alert, [*params, *event_params]))
    if not found:
        return None
    (alert,) = found
    alert.integration = integration
    incident_services.announce_event(
        event=TimelineEvent(
            pk=alert.event_id,
            incident_id=alert.incident_id,
            kind=AlertEventKind.ALERT_ATTACHED,
            actor_name=integration.name,
            created_at=alert.event_created_at,
            data=json.loads(alert.event_data),
        )
    )
    return alert


def _count_repeat(
    integration: Integration, dedup_key: str, details: dict, now: datetime
) -> Alert | None:
    """Count a repeat of a firing alert whose incident is open, on that incident's
    timeline; None when there is no such alert. The row lock lasts one statement."""
    if connection.vendor != "postgresql":
        return _count_repeat_in_python(integration, dedup_key, details, now)
    params = [
        now,
        json.dumps(details) if details else None,
        integration.pk,
        dedup_key,
        list(OPEN_STATUSES),
    ]
    return _write_attached(integration, statements.REPEAT, params)


def _group(new: Alert, now: datetime) -> AlertOutcome | None:
    """Insert a new alert into the open incident of its service's latest alert within the
    group window; None when there is none.

    No lock: alerts that join an existing incident cannot race one another. A trigger of
    the same key being written meanwhile is waited for, and this one counted on it as a
    repeat; if its incident is closed, `_trigger` takes over.
    """
    integration = new.integration
    if not integration.group_window_seconds:
        return None
    if connection.vendor != "postgresql":
        return _group_in_python(new, now)
    params = [
        now - timedelta(seconds=integration.group_window_seconds),
        list(OPEN_STATUSES),
        integration.service_id,
        *(
            f.get_db_prep_save(getattr(new, f.attname), connection)
            for f in statements.NEW_ALERT_COLUMNS
        ),
    ]
    alert = _write_attached(integration, statements.GROUP, [*params, list(OPEN_STATUSES)])
    if alert is None:
        return None
    return AlertOutcome(alert, "grouped" if alert.inserted else "repeated")


# SQLite (the embedded mode) has no data-modifying CTE; its transactions take the write
# lock at BEGIN (IMMEDIATE), so a read then a write cannot race there.


@transaction.atomic
def _count_repeat_in_python(
    integration: Integration, dedup_key: str, details: dict, now: datetime
) -> Alert | None:
    alert = Alert.objects.filter(
        integration=integration,
        dedup_key=dedup_key,
        status=AlertStatus.FIRING,
        incident__status__in=OPEN_STATUSES,
    ).first()
    if alert is None:
        return None
    alert.count += 1
    alert.last_seen = now
    alert.details = details or alert.details
    alert.save(update_fields=["count", "last_seen", "details"])
    _record(alert, AlertEventKind.ALERT_ATTACHED, integration, count=alert.count)
    return alert


@transaction.atomic
def _group_in_python(new: Alert, now: datetime) -> AlertOutcome | None:
    integration = new.integration
    storm = (
        Alert.objects.filter(
            integration__service_id=integration.service_id,
            status=AlertStatus.FIRING,
            first_seen__gte=now - timedelta(seconds=integration.group_window_seconds),
            incident__status__in=OPEN_STATUSES,
        )
        .order_by("-first_seen")
        .values_list("incident_id", flat=True)
        .first()
    )
    firing = Alert.objects.filter(
        integration=integration, dedup_key=new.dedup_key, status=AlertStatus.FIRING
    )
    if storm is None or firing.exists():
        return None
    new.incident_id = storm
    new.save(force_insert=True)
    _record(new, AlertEventKind.ALERT_ATTACHED, integration, count=1, grouped=True)
    return AlertOutcome(new, "grouped")


@transaction.atomic
def _trigger(new: Alert, now: datetime) -> AlertOutcome:
    """An alert that neither repeats an open incident's nor joins a storm's.

    It takes the service's row lock, so two alerts of one service cannot both see "no
    incident yet" and open two, nor two triggers of one key both insert; the partial
    unique index on firing alerts keeps one dedup key to one alert even without it.
    """
    integration = new.integration
    service = Service.objects.select_for_update().get(pk=integration.service_id)
    # The lock waited for any trigger of this service being written: count on it, or
    # join the incident it opened.
    if alert := _count_repeat(integration, new.dedup_key, new.details, now):
        return AlertOutcome(alert, "repeated")
    # Still firing but not counted: a person resolved its incident while the source kept
    # firing. It ends here, and this trigger is a new occurrence.
    Alert.objects.filter(
        integration=integration, dedup_key=new.dedup_key, status=AlertStatus.FIRING
    ).update(status=AlertStatus.RESOLVED, resolved_at=now)
    if outcome := _group(new, now):
        return outcome
    impact, urgency = integration.impact_urgency(new.severity)
    new.incident = incident_services.incident_create(
        by=None,
        actor_name=integration.name,
        title=new.summary[:200],
        source=integration.name[:100],
        impact=impact,
        urgency=urgency,
        service=service,
        detected_at=now,
        description=_describe(source=new.source, details=new.details, links=new.links),
    )
    new.save(force_insert=True)
    return AlertOutcome(new, "created")


def _close(alert: Alert, now: datetime) -> None:
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = now
    alert.save(update_fields=["status", "resolved_at"])


def _record(alert: Alert, kind: str, integration: Integration, **data: Any) -> None:
    incident_services.record_event(
        incident=alert.incident,
        kind=kind,
        actor=None,
        actor_name=integration.name,
        data={
            "alert_id": alert.pk,
            "dedup_key": alert.dedup_key,
            "summary": alert.summary[:200],
            "severity": alert.severity,
            "integration": integration.name,
            **data,
        },
    )


@transaction.atomic
def alert_resolve(
    *, integration: Integration, dedup_key: str, now: datetime | None = None
) -> AlertOutcome:
    """Resolve the firing alert with this key (unknown keys are dropped, as PagerDuty does)."""
    now = now or timezone.now()
    alert = _firing(integration, dedup_key)
    if alert is None:
        return AlertOutcome(None, "dropped")
    _close(alert, now)
    incident = alert.incident
    if incident is None or not incident.is_open:
        return AlertOutcome(alert, "resolved")
    # The incident's row lock makes "were these its last alerts?" one answer per incident,
    # even when its alerts resolve concurrently. NO KEY UPDATE leaves room for triggers
    # that only add timeline rows to it, so the two paths cannot deadlock.
    incident = Incident.objects.select_for_update(no_key=True).get(pk=incident.pk)
    alert.incident = incident
    still_firing = incident.alerts.filter(status=AlertStatus.FIRING).count()
    _record(alert, AlertEventKind.ALERT_RESOLVED, integration, still_firing=still_firing)
    if integration.auto_resolve and still_firing == 0 and incident.is_open:
        # A major incident still waiting for its commander refuses; people resolve it.
        with suppress(TransitionNotAllowed):
            incident_services.incident_transition(
                incident=incident,
                action="resolve",
                by=None,
                resolution_code=ResolutionCode.FIXED,
                notes=f"All alerts resolved; auto-resolved by {integration.name}.",
            )
    return AlertOutcome(alert, "resolved")


@transaction.atomic
def alert_acknowledge(*, integration: Integration, dedup_key: str) -> AlertOutcome:
    alert = _firing(integration, dedup_key)
    if alert is None:
        return AlertOutcome(None, "dropped")
    if alert.incident is not None and alert.incident.status == Status.TRIGGERED:
        # Refused for a major incident without its commander: it stays triggered.
        with suppress(TransitionNotAllowed):
            incident_services.incident_transition(
                incident=alert.incident, action="acknowledge", by=None
            )
    return AlertOutcome(alert, "acknowledged")


# --- Heartbeats --------------------------------------------------------------------------

HEARTBEAT_KEY = "heartbeat"


def _heartbeat_due(integration: Integration, now: datetime) -> datetime:
    seconds = (integration.heartbeat_interval_seconds or 0) + integration.heartbeat_grace_seconds
    return now + timedelta(seconds=seconds)


@transaction.atomic
def heartbeat_ping(*, integration: Integration, now: datetime | None = None) -> AlertOutcome:
    """A ping: the monitor is alive until interval + grace from now; resolves a miss."""
    now = now or timezone.now()
    Integration.objects.filter(pk=integration.pk).update(
        last_ping_at=now, heartbeat_due_at=_heartbeat_due(integration, now)
    )
    return alert_resolve(integration=integration, dedup_key=HEARTBEAT_KEY, now=now)


def heartbeats_check(*, now: datetime | None = None, batch: int = 100) -> int:
    """Trigger an alert for each heartbeat monitor whose ping is overdue; returns how many."""
    now = now or timezone.now()
    missed = 0
    while True:
        with transaction.atomic():
            due = list(
                Integration.objects.select_for_update(skip_locked=True)
                .select_related("service")
                .filter(enabled=True, heartbeat_due_at__lte=now)
                .order_by("heartbeat_due_at")[:batch]
            )
            for integration in due:
                last = integration.last_ping_at
                since = f"since {last:%Y-%m-%d %H:%M:%S} UTC" if last else "ever"
                alert_trigger(
                    integration=integration,
                    dedup_key=HEARTBEAT_KEY,
                    summary=f"No heartbeat from {integration.name} {since}",
                    severity=Severity.ERROR,
                    source=integration.name,
                    details={"interval_seconds": integration.heartbeat_interval_seconds},
                    now=now,
                )
                # Down until the next ping; that ping sets the next due time.
                Integration.objects.filter(pk=integration.pk).update(heartbeat_due_at=None)
            missed += len(due)
        if len(due) < batch:
            return missed
