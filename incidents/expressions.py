"""Database expressions shared by the models and the metrics."""

from __future__ import annotations

from django.db.models import DurationField, ExpressionWrapper, F, FloatField, Func
from django.db.models.functions import Coalesce


class Seconds(Func):
    """A duration expression as float seconds (SQLite stores durations as microseconds)."""

    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="date_part('epoch', %(expressions)s)", **extra
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(%(expressions)s) / 1000000.0", **extra)


def seconds_since_created(field) -> Seconds:
    return Seconds(ExpressionWrapper(field - F("created_at"), output_field=DurationField()))


# Resolving an incident that was never acknowledged acknowledges it.
ACKNOWLEDGED = Coalesce("acknowledged_at", "resolved_at")
