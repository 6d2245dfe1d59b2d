"""Error budgets of availability SLOs (README "Postmortems and metrics").

A service's downtime comes from its status-page components' history, weighted as the
status page's uptime weighs it (`statuspage.enums.DOWNTIME_WEIGHT`: a major outage counts
fully, a partial outage partly). With several components, the service is as down as its
worst component at each moment. A service without components is down during the impact
windows of its P1 (as a major outage) and P2 (as a partial outage) incidents: from the
postmortem's impact start (else occurred, else created) to its impact end (else mitigated,
else resolved, else now).

Budget = (100 - target) % of the window; consumed = weighted downtime / budget.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from incidents.enums import Priority, Status
from incidents.models import Incident
from postmortems.models import ServiceLevelObjective
from statuspage.enums import DOWNTIME_WEIGHT, ComponentStatus
from statuspage.models import Component, ComponentStatusChange
from statuspage.uptime import day_bounds, page_zone, seconds_by_status

INCIDENT_STATUS = {
    Priority.P1: ComponentStatus.MAJOR_OUTAGE,
    Priority.P2: ComponentStatus.PARTIAL_OUTAGE,
}
Timeline = list[tuple[datetime, str]]


@dataclass
class Budget:
    slo: ServiceLevelObjective
    start: datetime
    end: datetime
    source: str  # "components" or "incidents"
    downtime_seconds: float
    burn: list[tuple[date, float]] = field(default_factory=list)  # cumulative % consumed

    @property
    def budget_seconds(self) -> float:
        return (100 - float(self.slo.target)) / 100 * (self.end - self.start).total_seconds()

    @property
    def consumed_percent(self) -> float:
        return round(100 * self.downtime_seconds / self.budget_seconds, 2)

    @property
    def left_percent(self) -> float:
        return round(100 - self.consumed_percent, 2)

    @property
    def availability_percent(self) -> float:
        measured = (self.end - self.start).total_seconds()
        return round(100 * (1 - self.downtime_seconds / measured), 4)

    def as_dict(self) -> dict:
        return {
            "service": self.slo.service.slug,
            "service_name": self.slo.service.name,
            "target": float(self.slo.target),
            "window_days": self.slo.window_days,
            "start": self.start,
            "end": self.end,
            "source": self.source,
            "availability_percent": self.availability_percent,
            "budget_seconds": round(self.budget_seconds, 1),
            "downtime_seconds": round(self.downtime_seconds, 1),
            "consumed_percent": self.consumed_percent,
            "left_percent": self.left_percent,
            "burn": [{"day": d.isoformat(), "consumed_percent": p} for d, p in self.burn],
        }


def worst_of(timelines: list[Timeline]) -> Timeline:
    """Several (at, status) timelines, each sorted, as one: the worst status at each moment."""
    moments = sorted({at for timeline in timelines for at, _ in timeline})
    merged: Timeline = []
    for at in moments:
        current = [s for timeline in timelines for s in _status_at(timeline, at)]
        status = max(current, key=lambda s: DOWNTIME_WEIGHT[s])
        if not merged or merged[-1][1] != status:
            merged.append((at, status))
    return merged


def _status_at(timeline: Timeline, at: datetime) -> list[str]:
    before = [status for when, status in timeline if when <= at]
    return before[-1:]


def down_seconds(timeline: Timeline, start: datetime, end: datetime) -> float:
    spent = seconds_by_status(timeline, start, end)
    return sum(DOWNTIME_WEIGHT[status] * seconds for status, seconds in spent.items())


def error_budgets(
    slos: list[ServiceLevelObjective], *, now: datetime | None = None
) -> list[Budget]:
    """Budgets of several SLOs in a constant number of queries (three, whatever the count)."""
    now = now or timezone.now()
    if not slos:
        return []
    earliest = now - timedelta(days=max(slo.window_days for slo in slos))
    services = [slo.service_id for slo in slos]
    timelines = _component_timelines(services, earliest)
    windows = _incident_timelines(services, earliest, now)
    zone = page_zone()
    budgets = []
    for slo in slos:
        start = now - timedelta(days=slo.window_days)
        if slo.service_id in timelines:
            source, timeline = "components", worst_of(timelines[slo.service_id])
        else:
            source, timeline = "incidents", worst_of(windows.get(slo.service_id, []))
        budget = Budget(slo, start, now, source, down_seconds(timeline, start, now))
        budget.burn = _burn(timeline, start, now, budget.budget_seconds, zone)
        budgets.append(budget)
    return budgets


def error_budget(slo: ServiceLevelObjective, *, now: datetime | None = None) -> Budget:
    return error_budgets([slo], now=now)[0]


def _burn(timeline: Timeline, start, end, budget: float, zone) -> list[tuple[date, float]]:
    """Cumulative percent of the budget consumed at the end of each day of the window."""
    points, total = [], 0.0
    day = start.astimezone(zone).date()
    while True:
        lo, hi = day_bounds(day, zone)
        total += down_seconds(timeline, max(lo, start), min(hi, end))
        points.append((day, round(100 * total / budget, 2)))
        if hi >= end:
            return points
        day += timedelta(days=1)


def _component_timelines(services: list[int], since: datetime) -> dict[int, list[Timeline]]:
    components = list(
        Component.objects.filter(service_id__in=services).values("pk", "service_id", "created_at")
    )
    changes: dict[int, Timeline] = defaultdict(list)
    # Every change since the window opened, and before it only the last one of each component
    # (DISTINCT ON would say it shorter, but only on PostgreSQL).
    rows = (
        ComponentStatusChange.objects.filter(component__in=[c["pk"] for c in components])
        .filter(Q(at__gte=since) | Q(pk__in=_last_before(since, components)))
        .order_by("component_id", "at", "id")
        .values_list("component_id", "at", "status")
    )
    for component, at, status in rows:
        changes[component].append((at, status))
    timelines: dict[int, list[Timeline]] = defaultdict(list)
    for c in components:
        timeline = changes.get(c["pk"]) or [(c["created_at"], ComponentStatus.OPERATIONAL)]
        timelines[c["service_id"]].append(timeline)
    return timelines


def _last_before(since: datetime, components: list[dict]):
    last = ComponentStatusChange.objects.filter(
        component_id=OuterRef("component_id"), at__lt=since
    ).order_by("-at", "-id")
    return (
        ComponentStatusChange.objects.filter(
            component__in=[c["pk"] for c in components], at__lt=since
        )
        .filter(pk=Subquery(last.values("pk")[:1]))
        .values("pk")
    )


def _incident_timelines(services: list[int], since: datetime, now: datetime):
    rows = (
        Incident.objects.filter(service_id__in=services, priority__in=list(INCIDENT_STATUS))
        .exclude(status=Status.CANCELLED)
        .select_related("postmortem")
        .filter(created_at__lt=now)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=since))
    )
    windows: dict[int, list[Timeline]] = defaultdict(list)
    for incident in rows:
        began, ended = impact_window(incident, now=now)
        if ended > since and ended > began:
            status = INCIDENT_STATUS[incident.priority]
            windows[incident.service_id].append(
                [(began, status), (ended, ComponentStatus.OPERATIONAL)]
            )
    return windows


def impact_window(incident: Incident, *, now: datetime) -> tuple[datetime, datetime]:
    postmortem = getattr(incident, "postmortem", None)
    began = (
        (postmortem and postmortem.impact_started_at) or incident.occurred_at or incident.created_at
    )
    ended = (
        (postmortem and postmortem.impact_ended_at)
        or incident.mitigated_at
        or incident.resolved_at
        or now
    )
    return began, ended


def incident_share(incident: Incident, budget: Budget) -> float:
    """Percent of the SLO's error budget that this incident's impact window consumed."""
    if incident.priority not in INCIDENT_STATUS:
        return 0.0
    began, ended = impact_window(incident, now=budget.end)
    status = INCIDENT_STATUS[incident.priority]
    timeline = [(began, status), (ended, ComponentStatus.OPERATIONAL)]
    return round(100 * down_seconds(timeline, began, ended) / budget.budget_seconds, 2)


def postmortem_impact(postmortem) -> dict | None:
    """For a postmortem's impact section: the budget of its service's SLO at the end of the
    impact window, and this incident's share of it; None without an SLO."""
    incident = postmortem.incident
    if incident.service_id is None:
        return None
    slo = (
        ServiceLevelObjective.objects.select_related("service")
        .filter(service_id=incident.service_id)
        .first()
    )
    if slo is None:
        return None
    _, ended = impact_window(incident, now=timezone.now())
    budget = error_budget(slo, now=ended)
    share = incident_share(incident, budget)
    text = (
        f"this incident used {share}% of the error budget of {slo.service.name} "
        f"({float(slo.target):g}% over {slo.window_days} days); at the end of its impact "
        f"{budget.consumed_percent}% was consumed, {budget.left_percent}% left."
    )
    return {"budget": budget, "share_percent": share, "text": text}


def slos_in_scope(team: int | None = None, service: int | None = None):
    qs = ServiceLevelObjective.objects.select_related("service")
    if team:
        qs = qs.filter(service__team_id=team)
    if service:
        qs = qs.filter(service_id=service)
    return list(qs)
