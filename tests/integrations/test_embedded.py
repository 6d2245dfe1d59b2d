"""Alerts in the embedded mode: SQLite, which has no data-modifying CTE, and no Redis."""

from tests.test_setup import base_env, manage

TRIGGERS = """
from incidents.models import Service, TimelineEvent
from integrations import services
service = Service.objects.create(name="Checkout", slug="checkout")
integration, key = services.integration_create(
    name="Grafana", service=service, kind="generic", rate_limit_per_minute=2
)
def trigger(key):
    return services.alert_trigger(
        integration=integration, dedup_key=key, summary="Disk full", severity="error"
    )
outcomes = [trigger("a"), trigger("a"), trigger("b"), trigger("a")]
print([(o.action, o.alert.dedup_key, o.alert.count, o.alert.incident_id) for o in outcomes])
print(list(TimelineEvent.objects.order_by("id").values_list("kind", "data__count")))
from integrations.keys import admit
print([(i == integration, wait is not None) for i, wait in (admit(key) for _ in range(3))])
"""


def test_embedded_mode_counts_repeats_groups_a_storm_and_limits_a_key(tmp_path):
    env = base_env(DATABASE_URL=f"sqlite:///{tmp_path / 'alerts.sqlite3'}")
    assert manage("migrate", "--noinput", env=env).returncode == 0

    result = manage("shell", "-c", TRIGGERS, env=env)

    assert result.returncode == 0, result.stderr
    outcomes, timeline, admitted = result.stdout.strip().splitlines()[-3:]
    assert outcomes == (
        "[('created', 'a', 1, 1), ('repeated', 'a', 2, 1), ('grouped', 'b', 1, 1), "
        "('repeated', 'a', 3, 1)]"
    )
    assert (
        timeline == "[('created', None), ('alert_attached', 2), ('alert_attached', 1), "
        "('alert_attached', 3)]"
    )
    assert admitted == "[(True, False), (True, False), (True, True)]"
