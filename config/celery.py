import logging
import os

from celery import Celery, Task
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("vigil")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, /, **kwargs) -> None:
    """Send `task` once the current transaction commits; never fail the caller for it.

    The row the task works on is already committed (the outbox), and a beat sweeper
    finds due rows whose message never arrived, so a broker that is down costs speed,
    not work, and must not turn a saved change into an error for the user.
    """

    def send() -> None:
        try:
            task.apply_async(kwargs=kwargs, retry=False)
        except Exception:  # kombu raises several kinds when the broker is away
            logger.warning("Broker unavailable: %s left for the sweeper", task.name, exc_info=True)

    transaction.on_commit(send)


def queue_length(name: str) -> int | None:
    """Messages waiting in a broker queue; None when the broker cannot tell (or is down)."""
    try:
        with app.connection_for_read() as connection:
            return connection.default_channel.queue_declare(queue=name, passive=True).message_count
    except Exception:  # a queue never declared, a broker away: nobody knows
        return None
