"""The alert hot path's two statements (PostgreSQL), each parsed and planned once per
connection: nine alerts in ten repeat one, and planning these CTEs costs more than
running them.

Each statement is PREPAREd on a connection's first use of it and EXECUTEd after. A
prepared statement outlives a rolled-back transaction and dies with its connection, so a
WeakSet of the connections that hold it is all the bookkeeping. Every column is named
(never `*`), so a migration that adds one cannot change a prepared result type; every
parameter is cast, because PREPARE has no value to guess a type from. The firing status
is a literal, not a parameter: only a constant proves that a plan made before any value is
known may use the partial indexes on firing alerts.
"""

from __future__ import annotations

import functools
import itertools
import re
import weakref

from django.db import connection
from django.db.models.query import RawQuerySet

from incidents.models import Incident, TimelineEvent
from integrations.enums import AlertStatus
from integrations.models import Alert, Integration

# The columns a new alert is written with; its incident comes from the statement.
NEW_ALERT_COLUMNS = [
    f for f in Alert._meta.concrete_fields if f.column not in ("id", "incident_id", "resolved_at")
]


class Prepared:
    def __init__(self, name: str, build) -> None:
        self.name = name
        self.build = functools.cache(build)  # the SQL, with %s placeholders
        self.connections: weakref.WeakSet = weakref.WeakSet()

    def raw(self, model, params: list) -> RawQuerySet:
        connection.ensure_connection()
        if connection.connection not in self.connections:
            numbers = itertools.count(1)
            sql = re.sub("%s", lambda _: f"${next(numbers)}", self.build())
            with connection.cursor() as cursor:
                cursor.execute(f"PREPARE {self.name} AS {sql}")
            self.connections.add(connection.connection)
        placeholders = ", ".join(["%s"] * len(params))
        return model.objects.raw(f"EXECUTE {self.name} ({placeholders})", params)


def _attached_event(written: str) -> str:
    """`written` (a CTE writing one alert, `inserted` when it is new), then its
    alert_attached event with the data of `services._record` built in SQL. Parameters
    after written's own: kind, actor name, created at, integration name."""
    returned = ", ".join(f.column for f in Alert._meta.concrete_fields)
    return f"""
        {written.replace("{returned}", returned)}
        , event AS (
            INSERT INTO {TimelineEvent._meta.db_table}
                (incident_id, kind, actor_id, actor_name, created_at, data)
            SELECT incident_id, %s::varchar, NULL, %s::varchar, %s::timestamptz,
                jsonb_build_object(
                    'alert_id', id, 'dedup_key', dedup_key, 'summary', left(summary, 200),
                    'severity', severity, 'integration', %s::text, 'count', count
                ) || CASE WHEN inserted THEN '{{"grouped": true}}'::jsonb ELSE '{{}}' END
            FROM written
            RETURNING id, created_at, data
        )
        SELECT written.*, event.id AS event_id, event.created_at AS event_created_at,
            event.data AS event_data
        FROM written, event
    """  # noqa: S608 - names from the models; every value is a parameter


def _repeat() -> str:
    """Parameters: last seen, details (or null), integration, dedup key, open statuses;
    then the event's."""
    return _attached_event(f"""
        WITH written AS (
            UPDATE {Alert._meta.db_table} AS alert
            SET count = count + 1, last_seen = %s::timestamptz,
                details = COALESCE(%s::jsonb, details)
            WHERE integration_id = %s::bigint AND dedup_key = %s::varchar
                AND status = '{AlertStatus.FIRING}' AND EXISTS (
                    SELECT 1 FROM {Incident._meta.db_table} AS incident
                    WHERE incident.id = alert.incident_id
                        AND incident.status = ANY(%s::varchar[])
                )
            RETURNING {{returned}}, false AS inserted
        )
    """)  # noqa: S608 - names from the models; every value is a parameter


def _group() -> str:
    """Parameters: window start, open statuses, service, the new alert's columns
    (NEW_ALERT_COLUMNS), open statuses; then the event's."""
    columns = ", ".join(f.column for f in NEW_ALERT_COLUMNS)
    values = ", ".join(f"%s::{f.db_type(connection)}" for f in NEW_ALERT_COLUMNS)
    return _attached_event(f"""
        WITH storm AS (
            -- Per integration of the service, its latest firing alert with an open
            -- incident (alert_firing_recent, read newest first): a storm's thousands of
            -- alerts are not all read for each new one.
            SELECT latest.incident_id
            FROM {Integration._meta.db_table} AS integration
            CROSS JOIN LATERAL (
                SELECT alert.incident_id, alert.first_seen
                FROM {Alert._meta.db_table} AS alert
                JOIN {Incident._meta.db_table} AS incident ON incident.id = alert.incident_id
                WHERE alert.integration_id = integration.id
                    AND alert.status = '{AlertStatus.FIRING}'
                    AND alert.first_seen >= %s::timestamptz
                    AND incident.status = ANY(%s::varchar[])
                ORDER BY alert.first_seen DESC
                LIMIT 1
            ) AS latest
            WHERE integration.service_id = %s::bigint
            ORDER BY latest.first_seen DESC
            LIMIT 1
        ), written AS (
            INSERT INTO {Alert._meta.db_table} AS alert ({columns}, incident_id)
            SELECT {values}, incident_id FROM storm
            ON CONFLICT (integration_id, dedup_key) WHERE status = '{AlertStatus.FIRING}'
            -- Its key fired meanwhile (a trigger of it was being written): a repeat,
            -- counted as `_repeat` does when its incident is open.
            DO UPDATE SET count = alert.count + 1, last_seen = EXCLUDED.last_seen,
                details = CASE WHEN EXCLUDED.details = '{{}}' THEN alert.details
                    ELSE EXCLUDED.details END
            WHERE EXISTS (
                SELECT 1 FROM {Incident._meta.db_table} AS incident
                WHERE incident.id = alert.incident_id AND incident.status = ANY(%s::varchar[])
            )
            -- A row this statement inserted has no xmax; one it updated has its lock's.
            RETURNING {{returned}}, (xmax = 0) AS inserted
        )
    """)  # noqa: S608 - names from the models; every value is a parameter


REPEAT = Prepared("vigil_alert_repeat", _repeat)
GROUP = Prepared("vigil_alert_group", _group)
