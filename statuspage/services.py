"""Every write of the status page. Each bumps the public cache version on commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from incidents.enums import PublicStatus, Status
from incidents.exceptions import Conflict
from incidents.models import Incident, User
from incidents.services import record_event
from statuspage import cache, notify
from statuspage.enums import ComponentStatus, IncidentImpact, MaintenanceStatus, SubscriberKind
from statuspage.models import (
    Component,
    ComponentGroup,
    ComponentStatusChange,
    Maintenance,
    MaintenanceUpdate,
    PageSettings,
    PublicIncident,
    PublicUpdate,
    Subscriber,
)

PUBLISHED = "published"  # the timeline event kind this app adds
RESOLVED_TEXT = "This incident has been resolved."


def page_settings() -> PageSettings:
    page = PageSettings.objects.order_by("pk").first()
    return page or PageSettings.objects.create()


@transaction.atomic
def page_settings_save(*, page: PageSettings) -> PageSettings:
    page.full_clean()
    page.save()
    cache.bump()
    return page


# --- Components ----------------------------------------------------------------------------

COMPONENT_FIELDS = {
    "name", "description", "group", "service", "position", "showcase",
    "only_show_if_degraded", "start_date",
}  # fmt: skip


@transaction.atomic
def group_save(*, group: ComponentGroup | None = None, **fields: Any) -> ComponentGroup:
    group = group or ComponentGroup()
    for field, value in fields.items():
        setattr(group, field, value)
    group.full_clean()
    group.save()
    cache.bump()
    return group


@transaction.atomic
def group_delete(*, group: ComponentGroup) -> None:
    group.delete()
    cache.bump()


@transaction.atomic
def component_create(*, status: str = ComponentStatus.OPERATIONAL, **fields: Any) -> Component:
    unknown = set(fields) - COMPONENT_FIELDS
    if unknown:
        raise TypeError(f"component_create() got unexpected fields: {sorted(unknown)}")
    component = Component(status=status, **fields)
    component.full_clean()
    component.save()
    ComponentStatusChange.objects.create(
        component=component, status=status, at=component.created_at, reason="created"
    )
    cache.bump()
    return component


@transaction.atomic
def component_update(
    *, component: Component, status: str | None = None, reason: str = "edited", **fields: Any
) -> Component:
    unknown = set(fields) - COMPONENT_FIELDS
    if unknown:
        raise TypeError(f"component_update() got unexpected fields: {sorted(unknown)}")
    component = Component.objects.select_for_update().get(pk=component.pk)
    for field, value in fields.items():
        setattr(component, field, value)
    component.full_clean()
    component.save()
    if status is not None:
        component_set_status(component=component, status=status, reason=reason)
    cache.bump()
    return component


@transaction.atomic
def component_delete(*, component: Component) -> None:
    component.delete()
    cache.bump()


def component_set_status(
    *, component: Component, status: str, reason: str, at: datetime | None = None
) -> tuple[str, str] | None:
    """Set and record a status; the (old, new) pair, or None when it did not change."""
    if status not in ComponentStatus.values:
        raise ValidationError({"status": f"Choose a status: {', '.join(ComponentStatus.values)}."})
    old = component.status
    if old == status:
        return None
    at = at or timezone.now()
    Component.objects.filter(pk=component.pk).update(status=status, updated_at=at)
    component.status, component.updated_at = status, at
    ComponentStatusChange.objects.create(
        component=component, status=status, previous=old, at=at, reason=reason[:200]
    )
    cache.bump()
    return old, status


def _components_from(items: Any, field: str) -> list[tuple[Component, str]]:
    """`[{"component": id, "status": s}]` -> locked components with their new status."""
    if not items:
        return []
    shape = f'Give a list of {{"component": id, "status": status}}; status one of {", ".join(ComponentStatus.values)}.'  # noqa: E501
    if not isinstance(items, list):
        raise ValidationError({field: shape})
    wanted: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict) or set(item) != {"component", "status"}:
            raise ValidationError({field: shape})
        if item["status"] not in ComponentStatus.values:
            raise ValidationError({field: shape})
        wanted[str(item["component"])] = item["status"]
    ids = [int(k) for k in wanted if k.isdigit()]
    found = Component.objects.select_for_update().filter(Q(pk__in=ids) | Q(code__in=list(wanted)))
    by_key = {}
    for component in found.order_by("pk"):
        by_key[str(component.pk)] = by_key[component.code] = component
    missing = sorted(set(wanted) - set(by_key))
    if missing:
        raise ValidationError({field: f"There is no component {', '.join(missing)}."})
    return [(by_key[key], status) for key, status in wanted.items()]


def _apply_components(pairs: list[tuple[Component, str]], reason: str) -> list[dict]:
    """Apply new statuses; Statuspage's affected_components for the ones that changed."""
    affected = []
    for component, status in pairs:
        old = component.status
        component_set_status(component=component, status=status, reason=reason)
        affected.append(
            {"code": component.code, "name": component.name, "old_status": old,
             "new_status": status}
        )  # fmt: skip
    return affected


def _settle(components: Iterable[Component], *, reason: str) -> None:
    """After an incident or maintenance ends: each component returns to what is still true."""
    now = timezone.now()
    for component in components:
        component = Component.objects.select_for_update().get(pk=component.pk)
        open_incidents = component.public_incidents.exclude(status=PublicStatus.RESOLVED).filter(
            incident__is_private=False
        )
        if open_incidents.exists():
            # Another incident still holds it: back to the last status an incident gave it.
            last = (
                component.changes.exclude(status=ComponentStatus.UNDER_MAINTENANCE)
                .order_by("-at", "-id")
                .values_list("status", flat=True)
                .first()
            )
            if component.status == ComponentStatus.UNDER_MAINTENANCE and last:
                component_set_status(component=component, status=last, reason=reason, at=now)
            continue
        in_maintenance = component.maintenances.filter(
            status__in=[MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING]
        ).exists()
        target = (
            ComponentStatus.UNDER_MAINTENANCE if in_maintenance else ComponentStatus.OPERATIONAL
        )
        component_set_status(component=component, status=target, reason=reason, at=now)


# --- Public incidents ----------------------------------------------------------------------


@transaction.atomic
def public_incident_publish(
    *,
    incident: Incident,
    by: User | None,
    title: str,
    impact: str,
    components: list | None = None,
    body: str = "",
    status: str = PublicStatus.INVESTIGATING,
) -> PublicIncident:
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.is_private:
        raise Conflict(f"{incident.number} is private; private incidents are never published.")
    if not incident.is_open:
        raise Conflict(
            f"{incident.number} is {incident.status}; only open incidents are published."
        )
    if PublicIncident.objects.filter(incident=incident).exists():
        raise Conflict(f"{incident.number} is already on the status page.")
    errors = {}
    if not title.strip():
        errors["title"] = "Give the incident a public title."
    if impact not in IncidentImpact.values:
        errors["impact"] = f"Choose an impact: {', '.join(IncidentImpact.values)}."
    if status not in PublicStatus.values or status == PublicStatus.RESOLVED:
        errors["status"] = "Choose a status: investigating, identified or monitoring."
    if errors:
        raise ValidationError(errors)
    pairs = _components_from(components, "components")
    now = timezone.now()
    public = PublicIncident.objects.create(
        incident=incident,
        name=title.strip()[:200],
        impact=impact,
        status=status,
        started_at=incident.occurred_at or incident.created_at,
        created_at=now,
        updated_at=now,
        monitoring_at=now if status == PublicStatus.MONITORING else None,
    )
    public.components.set([c for c, _ in pairs])
    affected = _apply_components(pairs, reason=f"{incident.number} published")
    update = PublicUpdate.objects.create(
        public_incident=public,
        status=status,
        body=body.strip() or f"We are investigating: {public.name}.",
        affected_components=affected or None,
        created_at=now,
    )
    record_event(
        incident=incident,
        kind=PUBLISHED,
        actor=by,
        data={"title": public.name, "impact": impact, "components": affected},
    )
    notify.incident_update(public=public, update=update)
    cache.bump()
    return public


def public_update_from_event(*, incident: Incident, data: dict) -> PublicUpdate | None:
    """A public update was posted on `incident` (inside its transaction): show it."""
    status, items = data.get("status") or "", data.get("components") or []
    public = PublicIncident.objects.select_for_update().filter(incident=incident).first()
    if public is None:
        if status or items:
            field = "status" if status else "components"
            raise ValidationError(
                {field: f"{incident.number} is not on the status page: publish it first."}
            )
        return None
    pairs = _components_from(items, "components")
    known = set(public.components.values_list("pk", flat=True))
    public.components.add(*[c for c, _ in pairs if c.pk not in known])
    now = timezone.now()
    status = status or public.status
    affected = _apply_components(pairs, reason=f"{incident.number} update")
    update = PublicUpdate.objects.create(
        public_incident=public,
        source_id=data.get("update_id"),
        status=status,
        body=data["body"],
        affected_components=affected or None,
        created_at=now,
    )
    _set_public_status(public, status, now)
    notify.incident_update(public=public, update=update)
    cache.bump()
    return update


def _set_public_status(public: PublicIncident, status: str, now: datetime) -> None:
    was_resolved = public.is_resolved
    public.status = status
    public.updated_at = now
    if status == PublicStatus.MONITORING and not public.monitoring_at:
        public.monitoring_at = now
    public.resolved_at = now if status == PublicStatus.RESOLVED else None
    public.save()
    if status == PublicStatus.RESOLVED and not was_resolved:
        _settle(public.components.all(), reason=f"{public.incident.number} resolved")


def public_incident_resolve_from_event(*, incident: Incident) -> None:
    """The incident resolved or was cancelled: so does its public face, if still open."""
    public = PublicIncident.objects.select_for_update().filter(incident=incident).first()
    if public is None or public.is_resolved:
        return
    now = timezone.now()
    update = PublicUpdate.objects.create(
        public_incident=public, status=PublicStatus.RESOLVED, body=RESOLVED_TEXT, created_at=now
    )
    _set_public_status(public, PublicStatus.RESOLVED, now)
    notify.incident_update(public=public, update=update)
    cache.bump()


RESOLVING_STATUSES = frozenset({Status.RESOLVED, Status.CANCELLED, Status.CLOSED})


# --- Maintenance ---------------------------------------------------------------------------


def _validate_window(scheduled_for: datetime, scheduled_until: datetime) -> None:
    if scheduled_until <= scheduled_for:
        raise ValidationError({"scheduled_until": "The window must end after it starts."})


@transaction.atomic
def maintenance_create(
    *,
    name: str,
    scheduled_for: datetime,
    scheduled_until: datetime,
    components: Iterable[Component] = (),
    body: str = "",
) -> Maintenance:
    _validate_window(scheduled_for, scheduled_until)
    if not name.strip():
        raise ValidationError({"name": "Name the maintenance."})
    now = timezone.now()
    maintenance = Maintenance.objects.create(
        name=name.strip()[:200],
        scheduled_for=scheduled_for,
        scheduled_until=scheduled_until,
        created_at=now,
        updated_at=now,
    )
    maintenance.components.set(list(components))
    update = MaintenanceUpdate.objects.create(
        maintenance=maintenance,
        status=MaintenanceStatus.SCHEDULED,
        body=body.strip() or f"{maintenance.name} is scheduled.",
        created_at=now,
    )
    notify.maintenance_update(maintenance=maintenance, update=update)
    cache.bump()
    return maintenance


def _locked_maintenance(maintenance: Maintenance) -> Maintenance:
    return Maintenance.objects.select_for_update().get(pk=maintenance.pk)


@transaction.atomic
def maintenance_edit(
    *,
    maintenance: Maintenance,
    name: str | None = None,
    scheduled_for: datetime | None = None,
    scheduled_until: datetime | None = None,
    components: Iterable[Component] | None = None,
) -> Maintenance:
    maintenance = _locked_maintenance(maintenance)
    if maintenance.status == MaintenanceStatus.COMPLETED:
        raise Conflict("A completed maintenance can no longer be changed.")
    if scheduled_for and maintenance.status != MaintenanceStatus.SCHEDULED:
        raise Conflict("The maintenance has started: extend or end it instead.")
    maintenance.name = (name or maintenance.name).strip()[:200]
    maintenance.scheduled_for = scheduled_for or maintenance.scheduled_for
    maintenance.scheduled_until = scheduled_until or maintenance.scheduled_until
    _validate_window(maintenance.scheduled_for, maintenance.scheduled_until)
    maintenance.updated_at = timezone.now()
    maintenance.save()
    if components is not None:
        maintenance.components.set(list(components))
    cache.bump()
    return maintenance


@transaction.atomic
def maintenance_post_update(
    *, maintenance: Maintenance, body: str, status: str | None = None
) -> MaintenanceUpdate:
    maintenance = _locked_maintenance(maintenance)
    if not body.strip():
        raise ValidationError({"body": "An update needs some text."})
    if status == MaintenanceStatus.VERIFYING:
        if maintenance.status != MaintenanceStatus.IN_PROGRESS:
            raise Conflict("Only a maintenance in progress can move to verifying.")
        maintenance.status = status
        maintenance.save(update_fields=["status"])
    elif status not in (None, "", maintenance.status):
        raise ValidationError({"status": "Start, end or verify a maintenance with its actions."})
    update = MaintenanceUpdate.objects.create(
        maintenance=maintenance, status=maintenance.status, body=body.strip()
    )
    maintenance.updated_at = update.created_at
    maintenance.save(update_fields=["updated_at"])
    notify.maintenance_update(maintenance=maintenance, update=update)
    cache.bump()
    return update


@transaction.atomic
def maintenance_start(*, maintenance: Maintenance, body: str = "") -> Maintenance:
    maintenance = _locked_maintenance(maintenance)
    if maintenance.status != MaintenanceStatus.SCHEDULED:
        raise Conflict(f"The maintenance is {maintenance.status}; only a scheduled one starts.")
    now = timezone.now()
    maintenance.status = MaintenanceStatus.IN_PROGRESS
    maintenance.started_at = now
    maintenance.updated_at = now
    maintenance.save()
    for component in maintenance.components.select_for_update():
        component_set_status(
            component=component,
            status=ComponentStatus.UNDER_MAINTENANCE,
            reason=f"maintenance {maintenance.code} started",
            at=now,
        )
    update = MaintenanceUpdate.objects.create(
        maintenance=maintenance,
        status=maintenance.status,
        body=body.strip() or "Scheduled maintenance is in progress.",
        created_at=now,
    )
    notify.maintenance_update(maintenance=maintenance, update=update)
    cache.bump()
    return maintenance


@transaction.atomic
def maintenance_complete(*, maintenance: Maintenance, body: str = "") -> Maintenance:
    """End the window, on time or early; components return to what is still true."""
    maintenance = _locked_maintenance(maintenance)
    if maintenance.status not in (MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING):
        raise Conflict(f"The maintenance is {maintenance.status}; only a started one ends.")
    now = timezone.now()
    maintenance.status = MaintenanceStatus.COMPLETED
    maintenance.completed_at = now
    maintenance.updated_at = now
    maintenance.save()
    _settle(
        maintenance.components.filter(status=ComponentStatus.UNDER_MAINTENANCE),
        reason=f"maintenance {maintenance.code} completed",
    )
    update = MaintenanceUpdate.objects.create(
        maintenance=maintenance,
        status=maintenance.status,
        body=body.strip() or "The scheduled maintenance has been completed.",
        created_at=now,
    )
    notify.maintenance_update(maintenance=maintenance, update=update)
    cache.bump()
    return maintenance


@transaction.atomic
def maintenance_cancel(*, maintenance: Maintenance) -> None:
    maintenance = _locked_maintenance(maintenance)
    if maintenance.status != MaintenanceStatus.SCHEDULED:
        raise Conflict("Only a maintenance that has not started can be cancelled; end it.")
    maintenance.delete()
    cache.bump()


@transaction.atomic
def maintenance_extend(*, maintenance: Maintenance, until: datetime, body: str = "") -> Maintenance:
    maintenance = _locked_maintenance(maintenance)
    if maintenance.status == MaintenanceStatus.COMPLETED:
        raise Conflict("The maintenance is completed; schedule a new one.")
    if until <= maintenance.scheduled_until:
        raise ValidationError({"until": "Extend to a time after the current end."})
    maintenance.scheduled_until = until
    maintenance.updated_at = timezone.now()
    maintenance.save()
    update = MaintenanceUpdate.objects.create(
        maintenance=maintenance,
        status=maintenance.status,
        body=body.strip() or f"The maintenance window is extended to {until:%Y-%m-%d %H:%M %Z}.",
    )
    notify.maintenance_update(maintenance=maintenance, update=update)
    cache.bump()
    return maintenance


def maintenances_advance(*, now: datetime | None = None) -> dict[str, int]:
    """The beat task: start due windows, complete ended ones. Each row claimed once."""
    now = now or timezone.now()
    done = {"started": 0, "completed": 0}
    while True:
        with transaction.atomic():
            due = (
                Maintenance.objects.select_for_update(skip_locked=True)
                .filter(status=MaintenanceStatus.SCHEDULED, scheduled_for__lte=now)
                .order_by("scheduled_for")
                .first()
            )
            if due is None:
                break
            maintenance_start(maintenance=due)
            done["started"] += 1
    while True:
        with transaction.atomic():
            due = (
                Maintenance.objects.select_for_update(skip_locked=True)
                .filter(
                    status__in=[MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING],
                    scheduled_until__lte=now,
                )
                .order_by("scheduled_until")
                .first()
            )
            if due is None:
                break
            maintenance_complete(maintenance=due)
            done["completed"] += 1
    return done


# --- Subscribers ---------------------------------------------------------------------------


@transaction.atomic
def subscriber_subscribe(*, email: str, components: Iterable[Component] = ()) -> Subscriber:
    """Start (or restart) a double opt-in. Says nothing about whether the address existed:
    a confirmed subscriber gets an email with a link to manage, not a second subscription."""
    email = email.strip().lower()
    components = list(components)
    subscriber = (
        Subscriber.objects.select_for_update()
        .filter(kind=SubscriberKind.EMAIL, email=email)
        .first()
    )
    if subscriber is None:
        subscriber = Subscriber(kind=SubscriberKind.EMAIL, email=email)
        subscriber.full_clean()
        try:
            with transaction.atomic():
                subscriber.save()
        except IntegrityError:  # the same address at the same moment
            subscriber = Subscriber.objects.get(kind=SubscriberKind.EMAIL, email=email)
    if subscriber.confirmed_at:
        notify.already_subscribed(subscriber=subscriber)
    else:
        subscriber.components.set(components)
        notify.confirm_subscription(subscriber=subscriber)
    return subscriber


@transaction.atomic
def subscriber_confirm(*, subscriber: Subscriber) -> Subscriber:
    if subscriber.confirmed_at is None:
        Subscriber.objects.filter(pk=subscriber.pk, confirmed_at=None).update(
            confirmed_at=timezone.now()
        )
        subscriber.refresh_from_db()
    return subscriber


@transaction.atomic
def subscriber_unsubscribe(
    *, subscriber: Subscriber, components: Iterable[Component] | None = None
) -> Subscriber | None:
    """Unsubscribe from everything (None) or keep only `components`."""
    components = list(components or [])
    if not components:
        subscriber.delete()
        return None
    subscriber.components.set(components)
    return subscriber


@transaction.atomic
def webhook_subscriber_create(*, url: str, components: Iterable[Component] = ()) -> Subscriber:
    subscriber = Subscriber(
        kind=SubscriberKind.WEBHOOK, webhook_url=url, confirmed_at=timezone.now()
    )
    subscriber.full_clean()
    subscriber.save()
    subscriber.components.set(list(components))
    return subscriber
