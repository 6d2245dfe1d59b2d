"""Enqueueing after commit: the message follows the commit, and a dead broker fails nothing."""

import subprocess
import sys

from tests.test_setup import ROOT, base_env


def test_enqueue_on_commit_with_the_broker_down_keeps_the_change_and_logs(tmp_path):
    script = (
        "from django.db import transaction; from config.celery import enqueue_on_commit; "
        "from incidents import services; from incidents.models import Incident; "
        "from incidents.tasks import close_stale_incidents\n"
        "with transaction.atomic():\n"
        "    services.incident_create(by=None, title='saved while the broker is down')\n"
        "    enqueue_on_commit(close_stale_incidents)\n"
        "print('titles:', list(Incident.objects.values_list('title', flat=True)))"
    )
    env = base_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",  # nothing listens on port 1
    )
    migrate = [sys.executable, "manage.py", "migrate", "--noinput"]
    assert subprocess.run(migrate, cwd=ROOT, env=env, capture_output=True).returncode == 0

    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "titles: ['saved while the broker is down']" in result.stdout
    assert "Broker unavailable: incidents.tasks.close_stale_incidents" in result.stderr
