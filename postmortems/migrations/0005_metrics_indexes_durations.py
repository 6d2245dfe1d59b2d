from importlib import import_module

from django.db import migrations

# The metrics read the incidents' stored durations (incidents migration 0006) instead of
# their timestamps: the covering indexes carry those instead, and one more is ordered by
# priority, so that every grouping of the durations reads its rows in group order (no sort
# of a year of rows before the medians sort each group's values).
_0004 = import_module("postmortems.migrations.0004_metrics_indexes_public_only")
PREDICATE = "status <> 'cancelled' AND NOT is_private"
COLUMNS = (
    "status, priority, team_id, service_id, category_id, source, is_major, reopen_count, "
    "seconds_to_acknowledge, seconds_to_mitigate, seconds_to_resolve"
)
INDEXES = {**_0004.INDEXES, "incident_metrics_priority": "priority, created_at"}


def forwards(apps, schema_editor):
    _0004._recreate(schema_editor, PREDICATE, COLUMNS, INDEXES)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS incident_metrics_priority")
    _0004.forwards(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("postmortems", "0004_metrics_indexes_public_only"),
        ("incidents", "0006_incident_durations"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
