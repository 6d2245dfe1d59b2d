from celery import shared_task

from integrations import services


@shared_task
def check_heartbeats() -> int:
    return services.heartbeats_check()
