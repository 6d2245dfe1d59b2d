from django.db import migrations

# similar.similar_incidents: WHERE document @@ to_tsquery(...) ORDER BY ts_rank(...)
CREATE = "CREATE INDEX IF NOT EXISTS incident_document_gin ON postmortems_incidentdocument USING gin (document)"
DROP = "DROP INDEX IF EXISTS incident_document_gin"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("postmortems", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
