from django.db import migrations

# ServiceNow's default: impact 1-3 (high to low) x urgency 1-3 -> priority 1-5.
SERVICENOW_MATRIX = {
    (1, 1): 1,
    (1, 2): 2,
    (1, 3): 3,
    (2, 1): 2,
    (2, 2): 3,
    (2, 3): 4,
    (3, 1): 3,
    (3, 2): 4,
    (3, 3): 5,
}

# The timeline is the audit log: PostgreSQL itself refuses to change or delete it.
APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION vigil_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER incidents_timelineevent_append_only
    BEFORE UPDATE OR DELETE ON incidents_timelineevent
    FOR EACH ROW EXECUTE FUNCTION vigil_refuse_change();
"""
DROP_APPEND_ONLY_SQL = """
DROP TRIGGER IF EXISTS incidents_timelineevent_append_only ON incidents_timelineevent;
"""


def seed_matrix(apps, schema_editor):
    entry = apps.get_model("incidents", "PriorityMatrixEntry")
    entry.objects.bulk_create(
        entry(impact=impact, urgency=urgency, priority=priority)
        for (impact, urgency), priority in SERVICENOW_MATRIX.items()
    )


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_SQL, params=None)


def drop_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]

    operations = [
        migrations.RunPython(seed_matrix, migrations.RunPython.noop),
        migrations.RunPython(append_only, drop_append_only),
    ]
