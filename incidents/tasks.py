import time

from celery import shared_task
from django.conf import settings

from incidents import services


@shared_task
def close_stale_incidents() -> int:
    """Close stale incidents a batch at a time until none is left or the run's time budget
    is spent: a backlog of any size never meets the task's time limit, and the next beat
    run goes on where this one stopped."""
    deadline = time.monotonic() + settings.INCIDENT_AUTO_CLOSE_BUDGET_SECONDS
    total = 0
    more = True
    while more and time.monotonic() < deadline:
        closed, more = services.incidents_close_stale()
        total += closed
    return total
