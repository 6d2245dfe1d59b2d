from celery import shared_task

from postmortems import services


@shared_task
def send_reminders() -> int:
    """Beat: write today's reminder rows (idempotent), then send every unsent one.

    Each row is claimed by compare-and-set before its email leaves, so two overlapping
    runs never send one twice, and a run that died half-way leaves the rest for the next.
    """
    services.reminders_create_due()
    return services.reminders_deliver_unsent()
