from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import services
from incidents.models import Incident
from incidents.tasks import close_stale_incidents
from tests.factories import IncidentFactory
from tests.workers import wait_until

pytestmark = pytest.mark.worker


def test_auto_close_runs_in_a_real_worker(celery_worker, settings):
    incident = services.incident_transition(
        incident=IncidentFactory(), action="resolve", by=None, resolution_code="fixed", notes="ok"
    )
    stale = timezone.now() - timedelta(days=settings.INCIDENT_AUTO_CLOSE_DAYS + 1)
    Incident.objects.filter(pk=incident.pk).update(resolved_at=stale)

    close_stale_incidents.apply_async(queue=celery_worker.queue)

    wait_until(lambda: Incident.objects.get(pk=incident.pk).status == "closed")
    event = incident.timeline.get(data__action="close")
    assert (event.actor, event.actor_name, event.data["auto_closed"]) == (None, "Vigil", True)


def test_beat_schedules_auto_close(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["close-stale-resolved-incidents"]
    assert entry["task"] == close_stale_incidents.name
