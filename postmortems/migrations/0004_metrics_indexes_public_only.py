from importlib import import_module

from django.db import migrations

# Metrics leave private incidents out (postmortems.metrics.incidents): the covering indexes of
# 0003 must say so in their predicate too, or every row is read from the table again to check
# is_private, and the scans stop being index-only. The same indexes, columns and keys as 0003.
_0003 = import_module("postmortems.migrations.0003_incident_metrics_indexes")
COLUMNS, INDEXES = _0003.COLUMNS, _0003.INDEXES


def _recreate(schema_editor, predicate: str, columns=COLUMNS, indexes=INDEXES) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, keys in indexes.items():
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        schema_editor.execute(
            f"CREATE INDEX {name} ON incidents_incident ({keys}) INCLUDE ({columns}) "
            f"WHERE {predicate}"
        )


def forwards(apps, schema_editor):
    _recreate(schema_editor, "status <> 'cancelled' AND NOT is_private")


def backwards(apps, schema_editor):
    _recreate(schema_editor, "status <> 'cancelled'")


class Migration(migrations.Migration):
    dependencies = [("postmortems", "0003_incident_metrics_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
