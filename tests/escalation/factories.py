from datetime import date, time

import factory
from factory.django import DjangoModelFactory

from escalation import services
from escalation.models import Schedule


class ScheduleFactory(DjangoModelFactory):
    class Meta:
        model = Schedule

    name = factory.Sequence(lambda n: f"Schedule {n}")
    time_zone = "UTC"


def rotation(schedule, users, **kwargs):
    """A layer through the service, weekly from Monday 2026-01-05 09:00 unless told."""
    kwargs.setdefault("start_date", date(2026, 1, 5))
    kwargs.setdefault("handoff_time", time(9, 0))
    return services.layer_create(schedule=schedule, users=users, **kwargs)


def policy(name="Default", **kwargs):
    return services.policy_create(name=name, **kwargs)
