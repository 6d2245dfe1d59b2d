from celery import shared_task

from integrations import automation, outbound, services


@shared_task
def check_heartbeats() -> int:
    return services.heartbeats_check()


@shared_task
def deliver_webhook(*, delivery_id: int) -> str | None:
    return outbound.webhook_deliver(delivery_id=delivery_id)


@shared_task
def sweep_webhooks() -> int:
    return outbound.webhooks_sweep()


@shared_task
def run_automation_call(*, call_id: int) -> str | None:
    return automation.automation_call_send(call_id=call_id)


@shared_task
def sweep_automation_calls() -> int:
    return automation.automation_sweep()
