"""Bulk-insert realistic incidents for benchmarks: a million in minutes.

It writes rows directly (not through the services) because it seeds history, not
activity: every incident gets its lifecycle timestamps and one `created` timeline event.
"""

import io
import json
import random
import time
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone

from incidents.enums import Priority, ResolutionCode, Status
from incidents.models import Category, Incident, Service, Team, TimelineEvent, User
from incidents.services import DEFAULT_MATRIX

SOURCES = ["web", "api", "alertmanager", "pagerduty", "email"]
# Rough shape of a real desk's history: most work is closed, some is still open.
STATUS_WEIGHTS = {
    Status.CLOSED: 70,
    Status.RESOLVED: 10,
    Status.CANCELLED: 4,
    Status.TRIGGERED: 4,
    Status.ACKNOWLEDGED: 3,
    Status.INVESTIGATING: 4,
    Status.MITIGATED: 3,
    Status.ON_HOLD: 2,
}
# Typical minutes to acknowledge and to resolve, by priority (P1 fastest).
MINUTES_TO_ACK = {1: 8, 2: 20, 3: 120, 4: 600, 5: 1440}
MINUTES_TO_RESOLVE = {1: 150, 2: 360, 3: 2000, 4: 6000, 5: 12000}


class Command(BaseCommand):
    help = "Bulk-insert N incidents spread over the last D days (for benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--incidents", type=int, required=True)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--batch", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, incidents: int, days: int, batch: int, seed: int, **options):
        rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
        teams, services, categories, users = self.reference_data()
        now = timezone.now()
        statuses = list(STATUS_WEIGHTS)
        weights = list(STATUS_WEIGHTS.values())
        started = time.monotonic()
        done = 0
        while done < incidents:
            size = min(batch, incidents - done)
            rows = [
                self.incident(rng, now, days, statuses, weights, teams, services, categories, users)
                for _ in range(size)
            ]
            with transaction.atomic():
                insert(Incident, rows)
                insert(TimelineEvent, [created_event(i) for i in rows])
            done += size
            rate = done / max(time.monotonic() - started, 1e-6)
            self.stdout.write(f"  {done:>9,} / {incidents:,} incidents  ({rate:,.0f}/s)")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {incidents:,} incidents in {time.monotonic() - started:.1f}s"
            )
        )

    def reference_data(self):
        teams = list(Team.objects.all()) or [
            Team.objects.create(name=f"Seed team {i}", slug=f"seed-team-{i}") for i in range(8)
        ]
        services = list(Service.objects.all()) or [
            Service.objects.create(name=f"Seed service {i}", slug=f"seed-service-{i}",
                                   team=teams[i % len(teams)])
            for i in range(24)
        ]  # fmt: skip
        categories = list(Category.objects.all()) or [
            Category.objects.create(name=name, slug=f"seed-{name.lower()}")
            for name in ["Software", "Hardware", "Network", "Security", "Database", "Request"]
        ]
        users = list(User.objects.filter(is_active=True)[:50])
        if len(users) < 10:
            users += User.objects.bulk_create(
                User(username=f"seed-user-{i}", role="responder") for i in range(10)
            )
        return teams, services, categories, users

    def incident(self, rng, now, days, statuses, weights, teams, services, categories, users):
        impact, urgency = rng.choice((1, 2, 2, 2, 3, 3)), rng.choice((1, 2, 2, 3, 3))
        priority = DEFAULT_MATRIX[(impact, urgency)]
        status = rng.choices(statuses, weights)[0]
        created = now - timedelta(minutes=rng.randrange(days * 24 * 60))
        ack = created + timedelta(minutes=rng.expovariate(1 / MINUTES_TO_ACK[priority]))
        resolved = ack + timedelta(minutes=rng.expovariate(1 / MINUTES_TO_RESOLVE[priority]))
        mitigated = ack + (resolved - ack) * rng.uniform(0.3, 1.0)
        worked = status not in (Status.TRIGGERED, Status.CANCELLED)
        finished = status in (Status.RESOLVED, Status.CLOSED)
        service = rng.choice(services)
        team = rng.choice(teams)
        return Incident(
            title=f"{rng.choice(['Errors', 'Latency', 'Outage', 'Timeouts', 'Alerts'])} on "
            f"{service.name} #{rng.randrange(10**6)}",
            description="Seeded incident for benchmarks.",
            source=rng.choice(SOURCES),
            opened_by=rng.choice(users),
            reported_at=created,
            service=service,
            category=rng.choice(categories),
            impact=impact,
            urgency=urgency,
            priority=priority,
            is_major=priority == Priority.P1,
            team=team,
            status=status,
            acknowledged_at=ack if worked else None,
            mitigated_at=mitigated if (finished or status == Status.MITIGATED) else None,
            resolved_at=resolved if finished else None,
            closed_at=resolved + timedelta(days=rng.uniform(0, 7))
            if status == Status.CLOSED
            else None,
            resolution_code=rng.choice(ResolutionCode.values) if finished else "",
            resolution_notes="Seeded." if finished else "",
            reopen_count=1 if finished and rng.random() < 0.03 else 0,
            cancel_reason="false_alarm" if status == Status.CANCELLED else "",
            hold_reason="awaiting_vendor" if status == Status.ON_HOLD else "",
            created_at=created,
            updated_at=resolved if finished else created,
        )


def created_event(incident: Incident) -> TimelineEvent:
    return TimelineEvent(
        incident_id=incident.pk,
        kind="created",
        actor_id=incident.opened_by_id,
        actor_name=incident.source,
        created_at=incident.created_at,
        data={"title": incident.title, "source": incident.source, "priority": incident.priority},
    )


def insert(model: type[models.Model], objs: list[models.Model]) -> None:
    """COPY on PostgreSQL (about 20x bulk_create's rate), bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        created = model.objects.bulk_create(objs)
        for obj, row in zip(objs, created, strict=True):
            obj.pk = row.pk
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        # Ids come from the table's own sequence, so concurrent writers never collide.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
        fields = model._meta.concrete_fields
        buffer = io.StringIO()
        for obj in objs:
            buffer.write("\t".join(copy_value(f, getattr(obj, f.attname)) for f in fields))
            buffer.write("\n")
        buffer.seek(0)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


def copy_value(field: models.Field, value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(field, models.JSONField):
        value = json.dumps(value)
    elif isinstance(value, bool):
        value = "t" if value else "f"
    elif isinstance(value, datetime):
        value = value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
