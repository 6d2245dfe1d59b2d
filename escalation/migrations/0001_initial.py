from django.db import migrations


class Migration(migrations.Migration):
    """The root of escalation's migrations; its tables arrive in the migrations after it."""

    initial = True
    dependencies = [("incidents", "0002_default_matrix_and_append_only_timeline")]
    operations = []
