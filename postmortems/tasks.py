from celery import shared_task

from config.celery import enqueue_on_commit
from postmortems import services


@shared_task
def send_reminders() -> int:
    """Beat: write today's reminder rows, then hand each unsent one to a worker."""
    ids = services.reminders_create_due()
    for reminder_id in ids:
        enqueue_on_commit(deliver_reminder, reminder_id=reminder_id)
    return len(ids)


@shared_task(autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def deliver_reminder(*, reminder_id: int) -> bool:
    return services.reminder_deliver(reminder_id=reminder_id)
