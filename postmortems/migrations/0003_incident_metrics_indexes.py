from django.db import migrations

# The metrics (postmortems/metrics.py) read a period of incidents, optionally of one team or
# service, and only these columns: covering indexes make them index-only scans, several
# times narrower than the incidents table. PostgreSQL only (INCLUDE); kept here rather than
# on the Incident model because only the metrics need them.
COLUMNS = (
    "status, priority, team_id, service_id, category_id, source, is_major, reopen_count, "
    "acknowledged_at, mitigated_at, resolved_at"
)
INDEXES = {
    "incident_metrics_created": "created_at",
    "incident_metrics_team": "team_id, created_at",
    "incident_metrics_service": "service_id, created_at",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, keys in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON incidents_incident ({keys}) "
            f"INCLUDE ({COLUMNS}) WHERE status <> 'cancelled'"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("postmortems", "0002_incident_document_gin"),
        ("incidents", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
