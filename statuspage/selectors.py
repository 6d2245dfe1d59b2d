"""The public reads. Every public output starts here, so the privacy rule lives here once:
only PublicIncident rows of incidents that are not private, and only public fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Prefetch, QuerySet

from incidents.enums import PublicStatus
from statuspage.enums import (
    COMPONENT_INDICATOR,
    COMPONENT_RANK,
    DEGRADED_DESCRIPTION,
    DESCRIPTIONS,
    INDICATOR_RANK,
    ComponentStatus,
    MaintenanceStatus,
)
from statuspage.models import (
    Component,
    ComponentGroup,
    Maintenance,
    MaintenanceUpdate,
    PublicIncident,
    PublicUpdate,
    UptimeDay,
)

ACTIVE_MAINTENANCE = (MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING)
UPTIME_DAYS = 90


def public_incidents() -> QuerySet[PublicIncident]:
    return (
        PublicIncident.objects.filter(incident__is_private=False)
        .prefetch_related(
            Prefetch("updates", queryset=PublicUpdate.objects.order_by("-created_at", "-id")),
            Prefetch("components", queryset=Component.objects.order_by("position", "id")),
        )
        .order_by("-started_at", "-id")
    )


def unresolved_incidents() -> QuerySet[PublicIncident]:
    return public_incidents().exclude(status=PublicStatus.RESOLVED)


def maintenances() -> QuerySet[Maintenance]:
    return Maintenance.objects.prefetch_related(
        Prefetch("updates", queryset=MaintenanceUpdate.objects.order_by("-created_at", "-id")),
        Prefetch("components", queryset=Component.objects.order_by("position", "id")),
    ).order_by("-scheduled_for", "-id")


def upcoming_maintenances() -> QuerySet[Maintenance]:
    return maintenances().filter(status=MaintenanceStatus.SCHEDULED).order_by("scheduled_for")


def active_maintenances() -> QuerySet[Maintenance]:
    return maintenances().filter(status__in=ACTIVE_MAINTENANCE).order_by("scheduled_for")


def worst_status(statuses) -> str:
    return max(statuses, key=COMPONENT_RANK.index, default=ComponentStatus.OPERATIONAL)


@dataclass
class GroupView:
    group: ComponentGroup
    components: list[Component]

    @property
    def status(self) -> str:
        return worst_status(c.status for c in self.components)


@dataclass
class Tree:
    """Components in page order: ungrouped ones and groups, interleaved by position."""

    components: list[Component]
    groups: list[GroupView]
    entries: list[Component | GroupView] = field(default_factory=list)


def component_tree() -> Tree:
    components = list(Component.objects.select_related("group").order_by("position", "id"))
    groups = {g.pk: GroupView(g, []) for g in ComponentGroup.objects.order_by("position", "id")}
    entries: list = []
    for component in components:
        if component.group_id in groups:
            groups[component.group_id].components.append(component)
        else:
            entries.append(component)
    entries.extend(groups.values())
    entries.sort(key=lambda e: e.group.position if isinstance(e, GroupView) else e.position)
    return Tree(components=components, groups=list(groups.values()), entries=entries)


@dataclass(frozen=True)
class Rollup:
    indicator: str
    description: str


def rollup(
    components: list[Component], unresolved: list[PublicIncident], active: list[Maintenance]
) -> Rollup:
    """README "Status page": the worst of the component map and the unresolved impacts;
    `maintenance` when that is none and a window is in progress."""
    worst_component = worst_status(c.status for c in components)
    levels = [COMPONENT_INDICATOR[worst_component]] + [i.impact for i in unresolved]
    indicator = max(levels, key=INDICATOR_RANK.index)
    if indicator == "none":
        if active or worst_component == ComponentStatus.UNDER_MAINTENANCE:
            return Rollup("maintenance", DESCRIPTIONS["maintenance"])
        return Rollup("none", DESCRIPTIONS["none"])
    if indicator == "minor" and worst_component == ComponentStatus.DEGRADED:
        return Rollup(indicator, DEGRADED_DESCRIPTION)
    return Rollup(indicator, DESCRIPTIONS[indicator])


@dataclass
class UptimeRow:
    component: Component
    days: list[tuple[date, UptimeDay | None]]

    @property
    def percent(self) -> float | None:
        measured = [d.uptime for _, d in self.days if d is not None]
        return round(sum(measured) / len(measured), 2) if measured else None


def uptime_rows(components: list[Component], today: date) -> list[UptimeRow]:
    first = today - timedelta(days=UPTIME_DAYS - 1)
    by_key = {
        (d.component_id, d.day): d
        for d in UptimeDay.objects.filter(day__gte=first, day__lte=today, component__in=components)
    }
    span = [first + timedelta(days=i) for i in range(UPTIME_DAYS)]
    return [UptimeRow(c, [(day, by_key.get((c.pk, day))) for day in span]) for c in components]


def incidents_in_month(start: datetime, end: datetime) -> QuerySet[PublicIncident]:
    return public_incidents().filter(started_at__gte=start, started_at__lt=end)


def maintenances_in_month(start: datetime, end: datetime) -> QuerySet[Maintenance]:
    return maintenances().filter(scheduled_for__gte=start, scheduled_for__lt=end)
