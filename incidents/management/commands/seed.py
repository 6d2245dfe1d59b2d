"""Bulk-insert realistic incidents for benchmarks: a million in about a minute.

It writes rows directly (not through the services) because it seeds history, not
activity: every incident gets its lifecycle timestamps and one `created` timeline event.
PostgreSQL generates the rows itself (generate_series and random()), so nothing crosses
the wire but one statement per batch; ids come from the table's identity, so the desk
keeps numbering after them and concurrent writers never collide. The timeline's
append-only trigger refuses only UPDATE and DELETE: these are plain INSERTs. The embedded
SQLite database gets the same distributions from Python with bulk_create (slower).
"""

import random
import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from incidents.enums import Priority, ResolutionCode, Status
from incidents.events import incidents_loaded
from incidents.models import Category, Incident, Service, Team, TimelineEvent, User
from incidents.services import DEFAULT_MATRIX

SOURCES = ["web", "api", "alertmanager", "pagerduty", "email"]
TITLE_WORDS = ["Errors", "Latency", "Outage", "Timeouts", "Alerts"]
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
IMPACTS, URGENCIES = (1, 2, 2, 2, 3, 3), (1, 2, 2, 3, 3)

# One batch: random draws (r), then the derived classification (c), then the lifecycle
# times (t); the inserted incidents feed their `created` timeline events (ins).
SQL = """
WITH r AS (
    SELECT %(now)s::timestamptz - make_interval(mins => floor(random() * %(minutes)s)::int)
               AS created,
           (%(impacts)s::int[])[1 + floor(random() * 6)::int] AS impact,
           (%(urgencies)s::int[])[1 + floor(random() * 5)::int] AS urgency,
           random() AS status_draw, -ln(1 - random()) AS ack_draw,
           -ln(1 - random()) AS resolve_draw, random() AS mitigate_draw,
           random() AS close_draw, random() AS reopen_draw,
           1 + floor(random() * cardinality(%(services)s::bigint[]))::int AS s,
           1 + floor(random() * cardinality(%(teams)s::bigint[]))::int AS t,
           1 + floor(random() * cardinality(%(categories)s::bigint[]))::int AS c,
           1 + floor(random() * cardinality(%(users)s::bigint[]))::int AS u,
           1 + floor(random() * 5)::int AS word, 1 + floor(random() * 5)::int AS src,
           1 + floor(random() * cardinality(%(codes)s::text[]))::int AS code,
           floor(random() * 1000000)::int AS tag
    FROM generate_series(1, %(count)s)
), c AS (
    SELECT r.*, (%(matrix)s::int[])[(impact - 1) * 3 + urgency] AS priority,
           CASE {status_case} END AS status
    FROM r
), t AS (
    SELECT c.*,
           created + make_interval(secs => ack_draw * (%(ack)s::float[])[priority] * 60) AS ack
    FROM c
), times AS (
    SELECT t.*,
           ack + make_interval(secs => resolve_draw * (%(resolve)s::float[])[priority] * 60)
               AS resolved,
           status NOT IN ('triggered', 'cancelled') AS worked,
           status IN ('resolved', 'closed') AS finished
    FROM t
), ins AS (
    INSERT INTO {incident_table} ({incident_columns})
    SELECT {incident_values} FROM times
    RETURNING id, opened_by_id, source, created_at, title, priority
)
INSERT INTO {event_table} (incident_id, kind, actor_id, actor_name, created_at, data)
SELECT id, 'created', opened_by_id, source, created_at,
       jsonb_build_object('title', title, 'source', source, 'priority', priority)
FROM ins
"""

# Columns the batch computes; every other column gets its field's default.
COMPUTED = {
    "title": "(%(words)s::text[])[word] || ' on ' || (%(service_names)s::text[])[s] || ' #' || tag",
    "description": "'Seeded incident for benchmarks.'",
    "source": "(%(sources)s::text[])[src]",
    "opened_by_id": "(%(users)s::bigint[])[u]",
    "reported_at": "created",
    "service_id": "(%(services)s::bigint[])[s]",
    "category_id": "(%(categories)s::bigint[])[c]",
    "team_id": "(%(teams)s::bigint[])[t]",
    "impact": "impact",
    "urgency": "urgency",
    "priority": "priority",
    "is_major": f"priority = {Priority.P1.value}",
    "status": "status",
    "acknowledged_at": "CASE WHEN worked THEN ack END",
    "mitigated_at": "CASE WHEN finished OR status = 'mitigated' "
    "THEN ack + (resolved - ack) * (0.3 + 0.7 * mitigate_draw) END",
    "resolved_at": "CASE WHEN finished THEN resolved END",
    "closed_at": "CASE WHEN status = 'closed' "
    "THEN resolved + make_interval(secs => close_draw * 7 * 86400) END",
    "resolution_code": "CASE WHEN finished THEN (%(codes)s::text[])[code] ELSE '' END",
    "resolution_notes": "CASE WHEN finished THEN 'Seeded.' ELSE '' END",
    "reopen_count": "CASE WHEN finished AND reopen_draw < 0.03 THEN 1 ELSE 0 END",
    "cancel_reason": "CASE WHEN status = 'cancelled' THEN 'false_alarm' ELSE '' END",
    "hold_reason": "CASE WHEN status = 'on_hold' THEN 'awaiting_vendor' ELSE '' END",
    "created_at": "created",
    "updated_at": "CASE WHEN finished THEN resolved ELSE created END",
}


def _status_case() -> str:
    total, bound, cases = sum(STATUS_WEIGHTS.values()), 0, []
    for status, weight in STATUS_WEIGHTS.items():
        bound += weight
        cases.append(f"WHEN status_draw < {bound / total!r} THEN '{status.value}'")
    return " ".join(cases[:-1]) + f" ELSE '{Status(list(STATUS_WEIGHTS)[-1]).value}'"


def _statement() -> tuple[str, dict]:
    columns, values, defaults = [], [], {}
    for field in Incident._meta.concrete_fields:
        if field.primary_key or field.generated:  # the database computes these
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in COMPUTED:
            values.append(COMPUTED[field.column])
        else:
            name = f"default_{field.column}"
            defaults[name] = field.get_db_prep_save(field.get_default(), connection)
            values.append(f"%({name})s")
    sql = SQL.format(
        status_case=_status_case(),
        incident_table=Incident._meta.db_table,
        incident_columns=", ".join(columns),
        incident_values=", ".join(values),
        event_table=TimelineEvent._meta.db_table,
    )
    return sql, defaults


class Command(BaseCommand):
    help = "Bulk-insert N incidents spread over the last D days (for benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--incidents", type=int, required=True)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--batch", type=int, default=50000)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, incidents: int, days: int, batch: int, seed: int, **options):
        reference = self.reference_data()
        write = self.sql_batches if connection.vendor == "postgresql" else self.python_batches
        started = time.monotonic()
        first_id = (Incident.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
        done = 0
        for size in write(incidents, days=days, batch=batch, seed=seed, reference=reference):
            done += size
            rate = done / max(time.monotonic() - started, 1e-6)
            self.stdout.write(f"  {done:>9,} / {incidents:,} incidents  ({rate:,.0f}/s)")
        incidents_loaded.send(sender=self.__class__, first_id=first_id)
        if connection.vendor == "postgresql":
            # Statistics of the new rows before anything is measured: until autovacuum
            # gets to it, the planner thinks the table is small and picks slow plans.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {incidents:,} incidents in {time.monotonic() - started:.1f}s"
            )
        )

    def sql_batches(self, incidents, *, days, batch, seed, reference):
        teams, services, categories, users = reference
        sql, params = _statement()
        params |= {
            "now": timezone.now(),
            "minutes": days * 24 * 60,
            "impacts": list(IMPACTS),
            "urgencies": list(URGENCIES),
            "matrix": [DEFAULT_MATRIX[(i, u)] for i in (1, 2, 3) for u in (1, 2, 3)],
            "ack": [float(MINUTES_TO_ACK[p]) for p in range(1, 6)],
            "resolve": [float(MINUTES_TO_RESOLVE[p]) for p in range(1, 6)],
            "services": [s.pk for s in services],
            "service_names": [s.name for s in services],
            "teams": [t.pk for t in teams],
            "categories": [c.pk for c in categories],
            "users": [u.pk for u in users],
            "sources": SOURCES,
            "words": TITLE_WORDS,
            "codes": list(ResolutionCode.values),
        }
        with connection.cursor() as cursor:
            # Reproducible data (setseed takes -1..1), not secrets.
            cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
            for start in range(0, incidents, batch):
                size = min(batch, incidents - start)
                with transaction.atomic():
                    cursor.execute(sql, {**params, "count": size})
                yield size

    def python_batches(self, incidents, *, days, batch, seed, reference):
        rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
        now = timezone.now()
        for start in range(0, incidents, batch):
            size = min(batch, incidents - start)
            with transaction.atomic():
                rows = Incident.objects.bulk_create(
                    _python_incident(rng, now, days, *reference) for _ in range(size)
                )
                TimelineEvent.objects.bulk_create(
                    TimelineEvent(
                        incident=i, kind="created", actor_id=i.opened_by_id,
                        actor_name=i.source, created_at=i.created_at,
                        data={"title": i.title, "source": i.source, "priority": i.priority},
                    )
                    for i in rows
                )  # fmt: skip
            yield size

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


def _python_incident(rng, now, days, teams, services, categories, users) -> Incident:
    """One incident drawn as the SQL batch draws them (for databases other than PostgreSQL)."""
    impact, urgency = rng.choice(IMPACTS), rng.choice(URGENCIES)
    priority = DEFAULT_MATRIX[(impact, urgency)]
    status = rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0]
    created = now - timedelta(minutes=rng.randrange(days * 24 * 60))
    ack = created + timedelta(minutes=rng.expovariate(1 / MINUTES_TO_ACK[priority]))
    resolved = ack + timedelta(minutes=rng.expovariate(1 / MINUTES_TO_RESOLVE[priority]))
    worked = status not in (Status.TRIGGERED, Status.CANCELLED)
    finished = status in (Status.RESOLVED, Status.CLOSED)
    service = rng.choice(services)
    return Incident(
        title=f"{rng.choice(TITLE_WORDS)} on {service.name} #{rng.randrange(10**6)}",
        description="Seeded incident for benchmarks.",
        source=rng.choice(SOURCES),
        opened_by=rng.choice(users),
        reported_at=created,
        service=service,
        category=rng.choice(categories),
        team=rng.choice(teams),
        impact=impact,
        urgency=urgency,
        priority=priority,
        is_major=priority == Priority.P1,
        status=status,
        acknowledged_at=ack if worked else None,
        mitigated_at=ack + (resolved - ack) * rng.uniform(0.3, 1.0)
        if finished or status == Status.MITIGATED
        else None,
        resolved_at=resolved if finished else None,
        closed_at=resolved + timedelta(days=rng.uniform(0, 7)) if status == Status.CLOSED else None,
        resolution_code=rng.choice(ResolutionCode.values) if finished else "",
        resolution_notes="Seeded." if finished else "",
        reopen_count=1 if finished and rng.random() < 0.03 else 0,
        cancel_reason="false_alarm" if status == Status.CANCELLED else "",
        hold_reason="awaiting_vendor" if status == Status.ON_HOLD else "",
        created_at=created,
        updated_at=resolved if finished else created,
    )
