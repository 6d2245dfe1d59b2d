"""Reads of incidents that a queryset method cannot say in one piece."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from incidents.enums import Priority
from incidents.models import Incident


def open_counts_by_priority(incidents: QuerySet[Incident], *, cap: int) -> dict[int, int]:
    """How many of `incidents` are open at each priority, each count stopped after `cap`.

    Counting every open incident of a big desk is what made the home page slow, so each
    priority is a bounded read (PostgreSQL reads it from the open-only (priority, id) index).
    The queryset is compiled once and wrapped five times: the ORM's UNION of five querysets
    compiled the visibility filter five times over, and SQLite refuses a LIMIT inside a UNION.
    """
    sql, params = incidents.open().order_by().values("priority").query.sql_with_params()
    count = (
        f"(SELECT COUNT(*) FROM (SELECT 1 FROM ({sql}) AS open_incidents"  # noqa: S608 - the ORM's SQL
        f" WHERE priority = %s LIMIT {cap + 1}) AS bounded)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join([count] * len(Priority)),
            [value for p in Priority for value in (*params, p.value)],
        )
        return dict(zip(Priority.values, cursor.fetchone(), strict=True))
