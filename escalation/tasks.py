"""Thin Celery tasks: primary keys in, one service call, bounded work."""

from celery import shared_task

from escalation import services


@shared_task
def sweep() -> dict[str, int]:
    """Beat, every second: fire due levels and timers, send messages for due notifications."""
    return services.sweep()


@shared_task
def escalation_step(*, run_id: int) -> int:
    """The fast path for one run that is due now; the sweeper is the safety net."""
    return services.runs_fire_due(run_id=run_id)


@shared_task
def deliver_notifications(*, notification_ids: list[int]) -> dict[int, str]:
    """A batch of one channel's notifications (at most ESCALATION_DELIVER_BATCH)."""
    return services.notifications_deliver(notification_ids=notification_ids)


@shared_task
def deliver_notification(*, notification_id: int) -> str:
    """One notification: messages published before batches existed still arrive as these."""
    return services.notification_deliver(notification_id=notification_id)


@shared_task
def audit() -> int:
    return services.runs_audit()


@shared_task
def send_shift_notices() -> int:
    return services.shift_notices_send()
