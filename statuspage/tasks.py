"""Thin Celery tasks: each calls one service. Modules are imported whole (not their
names) because services -> notify -> tasks -> services is a cycle at import time."""

from celery import shared_task

from statuspage import notify, services, uptime


@shared_task(ignore_result=True)
def deliver_notification(*, notification_id: int) -> None:
    notify.notification_deliver(notification_id=notification_id)


@shared_task(ignore_result=True)
def sweep_notifications() -> int:
    """Deliver due rows whose message was lost, and retries whose backoff has passed."""
    due = notify.notifications_due()
    for notification_id in due:
        notify.notification_deliver(notification_id=notification_id)
    return len(due)


@shared_task(ignore_result=True)
def advance_maintenances() -> dict:
    return services.maintenances_advance()


@shared_task(ignore_result=True)
def rollup_uptime() -> int:
    return uptime.uptime_rollup()
