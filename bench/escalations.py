"""Escalation lag: N paging runs all due at one instant T, fired by the real beat sweeper
and worker; lag is how long after T each page was written and sent."""

from __future__ import annotations

import math
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from bench import fixtures
from bench.scenarios import Row
from escalation import services as escalation_services
from escalation.models import (
    EscalationPolicy,
    EscalationRun,
    Notification,
    NotificationStatus,
    RunState,
)
from incidents.enums import Status
from incidents.models import Incident, Service, TimelineEvent

POLICY = "Bench: page the on-call"


def _policy() -> EscalationPolicy:
    oncall = fixtures.user("bench-oncall")
    policy = EscalationPolicy.objects.filter(name=POLICY).first()
    if policy is None:
        policy = escalation_services.policy_create(
            name=POLICY, levels=[{"delay_minutes": 30, "targets": [oncall]}]
        )
    return policy


def _arm(count: int, due_in: float) -> tuple[list[int], object]:
    """`count` triggered incidents, each with a run due at now + due_in, in one commit.

    Written in bulk rather than through `incident_create` and `run_start` one by one:
    what is measured is the engine firing them, and 10,000 service calls would take
    longer than the scenario.
    """
    policy = _policy()
    service = Service.objects.order_by("pk").first()
    now = timezone.now()
    due = now + timedelta(seconds=due_in)
    snapshot = escalation_services.policy_snapshot(policy, now)
    incidents = [
        Incident(
            title=f"Bench escalation {i}",
            source="bench",
            service=service,
            team_id=service.team_id,
            impact=1,
            urgency=2,
            priority=2,
            status=Status.TRIGGERED,
            reported_at=now,
            created_at=now,
            updated_at=now,
        )
        for i in range(count)
    ]
    with transaction.atomic():
        Incident.objects.bulk_create(incidents, batch_size=2000)
        TimelineEvent.objects.bulk_create(
            [
                TimelineEvent(
                    incident=i, kind="created", actor_name="bench", created_at=now, data={}
                )
                for i in incidents
            ],
            batch_size=5000,
        )
        EscalationRun.objects.bulk_create(
            [
                EscalationRun(
                    incident_id=i.pk, policy=policy, snapshot=snapshot, next_at=due, started_at=now
                )
                for i in incidents
            ],
            batch_size=5000,
        )
    return [i.pk for i in incidents], due


def _settle(ids: list[int]) -> None:
    """Close the benchmark's incidents and drop their unsent pages, so that later runs
    neither list 10,000 open incidents nor start with a backlog of this run's pages."""
    now = timezone.now()
    Notification.objects.filter(incident_id__in=ids, status=NotificationStatus.PENDING).update(
        status=NotificationStatus.CANCELLED, last_error="bench over"
    )
    EscalationRun.objects.filter(incident_id__in=ids).update(
        state=RunState.STOPPED, next_at=None, stopped_at=now, stop_reason="bench over"
    )
    Incident.objects.filter(pk__in=ids).update(
        status=Status.CLOSED, acknowledged_at=now, resolved_at=now, closed_at=now
    )


def _ms(values: list[float], p: float) -> float:
    data = sorted(values)
    return data[min(len(data) - 1, max(0, round(p / 100 * len(data) + 0.5) - 1))] * 1000


def escalations(count: int, *, due_in: float = 10.0, timeout: float = 240.0) -> list[Row]:
    ids, due = _arm(count, due_in)
    pages = Notification.objects.filter(incident_id__in=ids)
    deadline = time.monotonic() + due_in + timeout
    while time.monotonic() < deadline:
        time.sleep(2)
        if pages.filter(sent_at__isnull=False).count() >= count:
            break
    rows = list(pages.values_list("created_at", "sent_at"))
    _settle(ids)
    # A page not written or sent in time counts as infinitely late: p99 is then "inf",
    # not the p99 of the lucky ones.
    missing = [math.inf] * count
    written = sorted([(c - due).total_seconds() for c, _ in rows] + missing)[:count]
    sent = sorted([(s - due).total_seconds() for _, s in rows if s is not None] + missing)[:count]
    result = []
    for name, lags in (("written", written), ("sent", sent)):
        done = [lag for lag in lags if lag != math.inf]
        last = max(done, default=math.nan)
        row = Row(
            scenario=f"escalation: {count:,} due at once, page {name}",
            rate=len(done) / last if done and last > 0 else 0.0,
            p50=_ms(lags, 50),
            p95=_ms(lags, 95),
            p99=_ms(lags, 99),
            queries=math.nan,
            errors=count - len(done),
            note=f"lag after due time; {len(done):,} in {timeout:.0f} s, last at {last:,.1f} s",
        )
        row.extra = {"count": count, "done": len(done), "max_ms": last * 1000}
        result.append(row)
    return result
