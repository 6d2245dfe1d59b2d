from celery import shared_task

from incidents import services


@shared_task
def close_stale_incidents() -> int:
    return services.incidents_close_stale()
