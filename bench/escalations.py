"""Escalation lag, fired by the real beat sweeper and worker: lag is how long after its level's
due time each page was written and sent.

The main rows: N escalations running at once whose next levels fall due spread evenly over a
few minutes, as real ones do (N / spread levels a second). The stress rows: N levels due at
one instant, a thundering herd no real system sees; they report how long the backlog takes
to drain."""

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


def _arm(count: int, due_in: float, spread: float = 0.0) -> tuple[list[int], dict]:
    """`count` triggered incidents, each with a run due between now + due_in and
    now + due_in + spread (evenly spaced), in one commit; returns the ids and each one's due time.

    Written in bulk rather than through `incident_create` and `run_start` one by one:
    what is measured is the engine firing them, and 10,000 service calls would take
    longer than the scenario.
    """
    policy = _policy()
    service = Service.objects.order_by("pk").first()
    now = timezone.now()
    dues = [now + timedelta(seconds=due_in + spread * i / count) for i in range(count)]
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
                for i, due in zip(incidents, dues, strict=True)
            ],
            batch_size=5000,
        )
    return [i.pk for i in incidents], {i.pk: due for i, due in zip(incidents, dues, strict=True)}


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


def _measure(count: int, spread: float, timeout: float) -> tuple[list[float], list[float]]:
    """Arm `count` runs over `spread` seconds, wait for their pages; lags written and sent."""
    due_in = 10.0
    ids, dues = _arm(count, due_in, spread)
    pages = Notification.objects.filter(incident_id__in=ids)
    deadline = time.monotonic() + due_in + spread + timeout
    while time.monotonic() < deadline:
        time.sleep(2)
        if pages.filter(sent_at__isnull=False).count() >= count:
            break
    rows = list(pages.values_list("incident_id", "created_at", "sent_at"))
    _settle(ids)
    # A page not written or sent in time counts as infinitely late: p99 is then "inf",
    # not the p99 of the lucky ones.
    missing = [math.inf] * count
    written = [(c - dues[i]).total_seconds() for i, c, _ in rows]
    sent = [(s - dues[i]).total_seconds() for i, _, s in rows if s is not None]
    return sorted(written + missing)[:count], sorted(sent + missing)[:count]


def _row(name: str, lags: list[float], count: int, window: float, note: str) -> Row:
    done = [lag for lag in lags if lag != math.inf]
    last = max(done, default=math.nan)
    row = Row(
        scenario=name,
        rate=len(done) / window if done and window > 0 else 0.0,
        p50=_ms(lags, 50),
        p95=_ms(lags, 95),
        p99=_ms(lags, 99),
        queries=math.nan,
        errors=count - len(done),
        note=f"{note}; {len(done):,} done, max lag {last:,.1f} s",
    )
    row.extra = {"count": count, "done": len(done), "max_ms": last * 1000}
    return row


def escalations(
    count: int, *, spread: float = 180.0, burst: int | None = None, timeout: float = 240.0
) -> list[Row]:
    result = []
    written, sent = _measure(count, spread, timeout=60.0)
    rate = f"{count / spread:,.0f} levels/s" if spread else "at once"
    for what, lags in (("written", written), ("sent", sent)):
        done = [lag for lag in lags if lag != math.inf]
        window = spread + max(done, default=0.0)
        name = f"escalation: {count:,} running, due over {spread:g} s, page {what}"
        result.append(_row(name, lags, count, window, f"lag after due time; {rate}"))
    burst = count if burst is None else burst
    if burst:
        written, sent = _measure(burst, 0.0, timeout)
        for what, lags in (("written", written), ("sent", sent)):
            done = [lag for lag in lags if lag != math.inf]
            last = max(done, default=0.0)
            name = f"stress: {burst:,} due at once, page {what}"
            note = f"drained in {last:,.1f} s (timeout {timeout:.0f} s)"
            result.append(_row(name, lags, burst, last, note))
    return result
