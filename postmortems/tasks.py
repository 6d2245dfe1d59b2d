from datetime import datetime

from celery import shared_task
from django.conf import settings

from postmortems import metrics, services
from postmortems.forms import MetricsFilterForm

# A whole dashboard over a year of a million incidents outlasts the default task limits.
COMPUTE_LIMITS = {
    "soft_time_limit": settings.METRICS_COMPUTE_SECONDS,
    "time_limit": settings.METRICS_COMPUTE_SECONDS + 30,
}


@shared_task
def send_reminders() -> int:
    """Beat: write today's reminder rows (idempotent), then send every unsent one.

    Each row is claimed by compare-and-set before its email leaves, so two overlapping
    runs never send one twice, and a run that died half-way leaves the rest for the next.
    """
    services.reminders_create_due()
    return services.reminders_deliver_unsent()


@shared_task(**COMPUTE_LIMITS)
def refresh_dashboard(
    *, start: str, end: str, team: int | None = None, service: int | None = None
) -> None:
    """One scope of the metrics dashboard, asked for by a page that would not wait for it."""
    period = metrics.Period(datetime.fromisoformat(start), datetime.fromisoformat(end))
    metrics.dashboard_refresh(period, team, service)


@shared_task(**COMPUTE_LIMITS)
def refresh_default_dashboard() -> None:
    """Beat: the dashboard's default view (the last 90 days, everyone) is always in the cache."""
    form = MetricsFilterForm({})
    form.is_valid()
    metrics.dashboard_refresh(**form.scope())
