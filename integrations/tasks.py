from celery import shared_task

from integrations import outbound, services


@shared_task
def check_heartbeats() -> int:
    return services.heartbeats_check()


@shared_task
def deliver_webhook(*, delivery_id: int) -> str | None:
    return outbound.webhook_deliver(delivery_id=delivery_id)


@shared_task
def sweep_webhooks() -> int:
    return outbound.webhooks_sweep()
