"""Indexes that keep the incident list fast on a big desk (measured on 100,000 incidents).

Text search (`?q=`, icontains on title, description and error codes) uses trigram GIN
indexes on PostgreSQL; they are created here by SQL because SQLite has no GIN: on the
embedded SQLite desk the search scans, which is fine at its size.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

# Django's icontains is `UPPER(column::text) LIKE UPPER(%s)`: the index is on that expression.
SEARCHED_COLUMNS = ("title", "description", "error_codes")


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS incident_{column}_trgm ON incidents_incident "
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS incident_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0003_statuspage_update_status"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(fields=["team", "-id"], name="incident_team_recent"),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(fields=["service", "-id"], name="incident_service_recent"),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(fields=["category", "-id"], name="incident_category_recent"),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(fields=["assignee", "-id"], name="incident_assignee_recent"),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                condition=models.Q(("is_major", True)),
                fields=["-id"],
                name="incident_major_recent",
            ),
        ),
    ]
