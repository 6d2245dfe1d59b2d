"""The learning dashboard's numbers, computed in the database (README "Postmortems and metrics").

Every function takes a `Period` and optional team and service ids and returns plain data
(dicts and lists of numbers in seconds or percent), so that pages, the API, the CSV export
and the benchmark call the same code. Definitions:

- An incident counts in a period when it was created in it; cancelled incidents (duplicates,
  false alarms) never count.
- MTTA: created -> acknowledged (resolving an incident that was never acknowledged
  acknowledges it); MTTM: created -> mitigated; MTTR: created -> resolved. Mean and median.
- SLA compliance: of the incidents whose target has a verdict (met, or breached: late or
  still waiting past the deadline), the percentage met. Targets are the escalation app's
  (`escalation.services.sla_targets`); a priority without a target is not counted.
- Reopen rate: incidents reopened at least once / incidents resolved at least once.
- Recurrence: an incident repeats when the previous incident of the same service (or
  category) in the period was created at most 30 (90) days before it.
- Postmortem completion: resolved major incidents whose postmortem is published.
- Action item completion: done / (all - won't do), for postmortems of the period's incidents.
"""

from __future__ import annotations

import statistics
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Lag
from django.utils import timezone

from escalation.services import sla_targets
from incidents.enums import Priority, Status
from incidents.models import Incident
from postmortems.enums import ActionStatus, PostmortemStatus
from postmortems.models import ActionItem
from postmortems.slo import error_budgets, slos_in_scope

DAY = 86400


class Median(Aggregate):
    """PostgreSQL's percentile_cont; on SQLite a Python aggregate registered per connection."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, function="VIGIL_MEDIAN", template="%(function)s(%(expressions)s)"
        )


class _SqliteMedian:
    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def sqlite_functions(sender, connection, **kwargs) -> None:
    """connection_created receiver: gives `make run`'s SQLite the median aggregate."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("VIGIL_MEDIAN", 1, _SqliteMedian)


@dataclass(frozen=True)
class Period:
    """[start, end): incidents created in it count."""

    start: datetime
    end: datetime

    @classmethod
    def days(cls, days: int, *, now: datetime | None = None) -> Period:
        now = now or timezone.now()
        return cls(now - timedelta(days=days), now)

    @classmethod
    def dates(cls, since: date, until: date) -> Period:
        """From the start of `since` to the end of `until`, in the site's time zone."""
        zone = timezone.get_current_timezone()
        return cls(
            datetime.combine(since, time.min, tzinfo=zone),
            datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone),
        )


def incidents(period: Period, team: int | None = None, service: int | None = None) -> QuerySet:
    # The covering indexes (postmortems migrations 0003-0006) hold every column the metrics
    # read, so a year of rows is an index-only scan: count rows with COUNT(*), or
    # COUNT(created_at) with a filter, never the primary key, which is not in them.
    # Private incidents are left out for everyone: a count per team or category would
    # otherwise tell a responder that a security incident exists.
    qs = Incident.objects.filter(
        created_at__gte=period.start, created_at__lt=period.end, is_private=False
    ).exclude(status=Status.CANCELLED)
    if team:
        qs = qs.filter(team_id=team)
    if service:
        qs = qs.filter(service_id=service)
    return qs.order_by()


# The incidents' stored durations (Incident.seconds_to_...), read from covering indexes.
TIMES = {
    "mtta": F("seconds_to_acknowledge"),
    "mttm": F("seconds_to_mitigate"),
    "mttr": F("seconds_to_resolve"),
}
# Group keys. Names of services, teams and categories are read afterwards by primary key:
# grouping on the narrow key alone keeps the sorts behind the medians small.
GROUPS = {
    "priority": "priority",
    "service": "service_id",
    "team": "team_id",
    "month": "month",
    "category": "category_id",
    "source": "source",
}
DURATION_GROUPS = ("priority", "service", "team", "month")
COUNT_GROUPS = ("priority", "service", "category", "source")


def _grouped(qs: QuerySet, by: str) -> QuerySet:
    return qs.values(GROUPS[by]).order_by(GROUPS[by])


def _months(period: Period) -> list[datetime]:
    """The first instant of each month (in the site's time zone) that the period touches."""
    zone = timezone.get_current_timezone()
    start = period.start.astimezone(zone)
    months = [datetime(start.year, start.month, 1, tzinfo=zone)]
    while True:
        last = months[-1]
        following = datetime(last.year + last.month // 12, last.month % 12 + 1, 1, tzinfo=zone)
        if following >= period.end:
            return months
        months.append(following)


def _by_month(qs: QuerySet, period: Period, aggregates: dict) -> QuerySet:
    """One aggregate per month, in one UNION ALL query: each reads its month's rows from the
    index in order, where GROUP BY month would first sort a whole period's rows (a third of
    the time over a year of a million incidents)."""
    months = _months(period)
    branches = [
        qs.filter(created_at__gte=start, created_at__lt=end)
        .values(month=Value(start, output_field=DateTimeField()))
        .annotate(incidents=Count("*"), **aggregates)
        for start, end in zip(months, [*months[1:], period.end], strict=True)
    ]
    return branches[0].union(*branches[1:], all=True).order_by("month")


def _labelled(rows, by: str) -> list[dict]:
    """Rows keyed by GROUPS[by] -> rows with `key` and a human `label`, in one more query."""
    rows = [dict(r) for r in rows]
    for r in rows:
        r["key"] = r.pop(GROUPS[by])
    names: dict = {}
    if GROUPS[by].endswith("_id"):
        model = Incident._meta.get_field(by).related_model
        keys = [r["key"] for r in rows if r["key"] is not None]
        names = dict(model.objects.filter(pk__in=keys).values_list("pk", "name"))
    for r in rows:
        if by == "month":
            r["key"] = timezone.localtime(r["key"]).strftime("%Y-%m")
            r["label"] = r["key"]
        elif by == "priority":
            r["label"] = f"P{r['key']}"
        elif r["key"] is None:
            r["label"] = "(none)"
        else:
            r["label"] = names.get(r["key"], str(r["key"]))
    return rows


def _aggregates(measures) -> dict:
    aggregates = {}
    for measure in measures:
        seconds = TIMES[measure]
        aggregates[f"{measure}_measured"] = Count(seconds)
        aggregates[f"{measure}_mean"] = Avg(seconds)
        aggregates[f"{measure}_median"] = Median(seconds)
    return aggregates


def _measured(period: Period, qs: QuerySet, aggregates: dict, by: str | None) -> list[dict]:
    with roomy_sorts():
        if by is None:
            return [qs.aggregate(**aggregates)]
        if by == "month":  # months without incidents have no row, as with GROUP BY
            rows = [r for r in _by_month(qs, period, aggregates) if r.pop("incidents")]
        else:
            rows = _grouped(qs, by).annotate(**aggregates)
        return _labelled(rows, by)


def time_to(
    measure: str,
    period: Period,
    team: int | None = None,
    service: int | None = None,
    *,
    by: str | None = None,
) -> list[dict]:
    """One of MTTA, MTTM, MTTR ("mtta"...): rows of measured incidents, mean and median
    seconds; one sort of the period's values, the cheapest of the duration metrics."""
    rows = _measured(period, incidents(period, team, service), _aggregates([measure]), by)
    prefix = f"{measure}_"
    return [{k.removeprefix(prefix): v for k, v in r.items()} for r in rows]


def durations(
    period: Period, team: int | None = None, service: int | None = None, *, by: str | None = None
) -> list[dict]:
    """MTTA, MTTM and MTTR side by side, in one scan: `mtta_mean`, `mtta_median`..."""
    return _measured(period, incidents(period, team, service), _aggregates(TIMES), by)


_roomy = ContextVar("roomy", default=False)


@contextmanager
def roomy_sorts():
    """Medians sort every value: give those sorts memory instead of temporary files.

    Reentrant, so that the dashboard sets it once for all of its queries."""
    if connection.vendor != "postgresql" or _roomy.get():
        yield
        return
    token = _roomy.set(True)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = %s", [settings.METRICS_WORK_MEM])
            # Whole-year scans read the narrow covering indexes (migration 0003) rather
            # than the wide table only when random reads are priced as on an SSD.
            cursor.execute("SET LOCAL random_page_cost = %s", [settings.METRICS_RANDOM_PAGE_COST])
            yield
    finally:
        _roomy.reset(token)


def counts(
    period: Period, team: int | None = None, service: int | None = None, *, by: str
) -> list[dict]:
    """Incidents per priority, service, category or source, most first."""
    rows = _grouped(incidents(period, team, service), by).annotate(incidents=Count("*"))
    return sorted(_labelled(rows, by), key=lambda r: -r["incidents"])


def _by_priority(values: dict, output_field) -> Case:
    whens = [When(priority=p, then=Value(v)) for p, v in values.items() if v is not None]
    return Case(*whens, default=None, output_field=output_field)


def _deadline(targets: dict[int, timedelta | None]) -> ExpressionWrapper:
    target = _by_priority(targets, DurationField())
    return ExpressionWrapper(F("created_at") + target, output_field=DateTimeField())


def _target_seconds(targets: dict[int, timedelta | None]) -> Case:
    seconds = {p: t.total_seconds() for p, t in targets.items() if t}
    return _by_priority(seconds, FloatField())


def sla_table() -> dict[str, dict[int, timedelta | None]]:
    """The acknowledge and resolve targets of every priority."""
    table = {p: sla_targets(p) for p in Priority.values}
    return {
        "acknowledge": {p: t[0] for p, t in table.items()},
        "resolve": {p: t[1] for p, t in table.items()},
    }


def sla_compliance(
    period: Period,
    team: int | None = None,
    service: int | None = None,
    *,
    now: datetime | None = None,
    targets: dict | None = None,
) -> dict:
    """Met, breached and percent met for acknowledge and resolve, overall and by priority."""
    now = now or timezone.now()
    targets = targets or sla_table()
    # Met or late: the stored duration against the target's seconds; still waiting: past the
    # deadline. Both read only the covering index's columns.
    qs = incidents(period, team, service).annotate(
        ack_target=_target_seconds(targets["acknowledge"]),
        resolve_target=_target_seconds(targets["resolve"]),
        ack_due=_deadline(targets["acknowledge"]),
        resolve_due=_deadline(targets["resolve"]),
    )
    aggregates = {}
    verdicts = (
        ("acknowledge", TIMES["mtta"].name, "ack_target", "ack_due"),
        ("resolve", TIMES["mttr"].name, "resolve_target", "resolve_due"),
    )
    for kind, took, target, due in verdicts:
        aggregates[f"{kind}_met"] = Count("created_at", filter=Q(**{f"{took}__lte": F(target)}))
        aggregates[f"{kind}_breached"] = Count(
            "created_at",
            filter=Q(**{f"{took}__gt": F(target)})
            | Q(**{f"{took}__isnull": True, f"{due}__lt": now}),
        )
    rows = list(qs.values("priority").order_by("priority").annotate(**aggregates))
    result = {kind: _compliance(rows, kind) for kind in targets}
    result["by_priority"] = [
        {
            "priority": r["priority"],
            "label": f"P{r['priority']}",
            **{kind: _compliance([r], kind) for kind in targets},
        }
        for r in rows
    ]
    return result


def _compliance(rows: list[dict], kind: str) -> dict:
    met = sum(r[f"{kind}_met"] for r in rows)
    breached = sum(r[f"{kind}_breached"] for r in rows)
    return {"met": met, "breached": breached, "percent": _percent(met, met + breached)}


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def reopen_rate(period: Period, team: int | None = None, service: int | None = None) -> dict:
    row = incidents(period, team, service).aggregate(
        resolved=Count(
            "created_at", filter=Q(seconds_to_resolve__isnull=False) | Q(reopen_count__gt=0)
        ),
        reopened=Count("created_at", filter=Q(reopen_count__gt=0)),
    )
    return {**row, "percent": _percent(row["reopened"], row["resolved"])}


def recurrence(
    period: Period, team: int | None = None, service: int | None = None, *, by: str = "service"
) -> list[dict]:
    """Per service (or category): incidents, and how many came within 30 and 90 days of the
    previous one; worst first. One query: LAG over the period's incidents, grouped outside."""
    key = GROUPS[by]
    inner = (
        incidents(period, team, service)
        .filter(**{f"{key}__isnull": False})
        .annotate(previous=Window(Lag("created_at"), partition_by=[F(key)], order_by="created_at"))
        .values(key, "created_at", "previous")
    )
    sql, params = inner.query.sql_with_params()
    gap = _gap_seconds_sql()
    outer = f"""
        SELECT {key}, COUNT(*),
               SUM(CASE WHEN {gap} <= {30 * DAY} THEN 1 ELSE 0 END),
               SUM(CASE WHEN {gap} <= {90 * DAY} THEN 1 ELSE 0 END)
        FROM ({sql}) AS ordered GROUP BY {key}
    """  # noqa: S608 - only our own identifiers and the ORM's parametrised SQL
    with roomy_sorts(), connection.cursor() as cursor:
        cursor.execute(outer, params)
        found = [
            {key: pk, "incidents": total, "repeats_30": int(r30 or 0), "repeats_90": int(r90 or 0)}
            for pk, total, r30, r90 in cursor.fetchall()
        ]
    rows = _labelled(found, by)
    for r in rows:
        r["percent_30"] = _percent(r["repeats_30"], r["incidents"])
        r["percent_90"] = _percent(r["repeats_90"], r["incidents"])
    return sorted(rows, key=lambda r: (-r["repeats_30"], -r["repeats_90"], r["label"]))


def _gap_seconds_sql() -> str:
    if connection.vendor == "postgresql":
        return "date_part('epoch', created_at - previous)"  # EXTRACT would make a numeric
    return "(julianday(created_at) - julianday(previous)) * 86400"


def postmortem_completion(
    period: Period, team: int | None = None, service: int | None = None
) -> dict:
    row = (
        incidents(period, team, service)
        .filter(is_major=True, seconds_to_resolve__isnull=False)
        .aggregate(
            major_resolved=Count("*"),
            with_postmortem=Count("postmortem"),
            published=Count("postmortem", filter=Q(postmortem__status=PostmortemStatus.PUBLISHED)),
        )
    )
    return {**row, "percent": _percent(row["published"], row["major_resolved"])}


def action_item_completion(
    period: Period, team: int | None = None, service: int | None = None, *, today=None
) -> dict:
    today = today or timezone.localdate()
    row = ActionItem.objects.filter(
        postmortem__incident__in=incidents(period, team, service).values("pk")
    ).aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(status=ActionStatus.DONE)),
        wont_do=Count("pk", filter=Q(status=ActionStatus.WONT_DO)),
        overdue=Count(
            "pk",
            filter=Q(status__in=[ActionStatus.OPEN, ActionStatus.IN_PROGRESS], due_date__lt=today),
        ),
    )
    return {**row, "percent": _percent(row["done"], row["total"] - row["wont_do"])}


def dashboard(period: Period, team: int | None = None, service: int | None = None) -> dict:
    """Every metric of the dashboard for one scope; a constant number of queries."""
    scope = (period, team, service)
    with roomy_sorts():
        return {
            "period": {"start": period.start, "end": period.end},
            "durations": durations(*scope)[0],
            "durations_by": {by: durations(*scope, by=by) for by in DURATION_GROUPS},
            "sla": sla_compliance(*scope),
            "counts_by": {by: counts(*scope, by=by) for by in COUNT_GROUPS},
            "reopen": reopen_rate(*scope),
            "recurrence_by": {by: recurrence(*scope, by=by) for by in ("service", "category")},
            "postmortems": postmortem_completion(*scope),
            "action_items": action_item_completion(*scope),
            "slos": [b.as_dict() for b in error_budgets(slos_in_scope(team, service))],
        }


# --- The dashboard, cached --------------------------------------------------------------------


def _dashboard_key(period: Period, team: int | None, service: int | None) -> str:
    return f"metrics:dashboard:{period.start.isoformat()}:{period.end.isoformat()}:{team}:{service}"


def dashboard_refresh(period: Period, team: int | None = None, service: int | None = None) -> dict:
    """Compute the dashboard and keep it METRICS_CACHE_SECONDS, saying when it was computed."""
    data = {**dashboard(period, team, service), "computed_at": timezone.now()}
    key = _dashboard_key(period, team, service)
    cache.set(key, data, settings.METRICS_CACHE_SECONDS)
    cache.delete(key + ":computing")
    return data


def dashboard_cached(
    period: Period, team: int | None = None, service: int | None = None
) -> dict | None:
    """The dashboard for a request: from the cache, else computed now for a scope of at most
    METRICS_INLINE_MAX incidents, else None once a worker was asked to compute it.

    A year of a million incidents takes longer than a web request may run (gunicorn's
    timeout): such a scope is computed by a worker, and the page says so until it is ready.
    """
    key = _dashboard_key(period, team, service)
    data = cache.get(key)
    if data is not None:
        return data
    if incidents(period, team, service)[: settings.METRICS_INLINE_MAX + 1].count() <= (
        settings.METRICS_INLINE_MAX
    ):
        return dashboard_refresh(period, team, service)
    # One worker computes a scope at a time, however many people are waiting for it.
    if cache.add(key + ":computing", True, settings.METRICS_COMPUTE_SECONDS):
        from postmortems.tasks import refresh_dashboard  # tasks.py imports this module

        refresh_dashboard.apply_async(
            kwargs={
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "team": team,
                "service": service,
            },
            queue=settings.METRICS_QUEUE,
        )
    return None
