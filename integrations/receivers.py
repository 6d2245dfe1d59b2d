"""Reactions to incident events and to integration changes (connected in
IntegrationsConfig.ready)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from incidents.events import incident_event
from integrations import automation, keys, outbound
from integrations.models import Integration


@receiver(incident_event, dispatch_uid="integrations.webhooks")
def queue_webhooks(sender, event, **kwargs) -> None:
    outbound.webhooks_enqueue(event=event)


@receiver(incident_event, dispatch_uid="integrations.automation")
def run_automation_rules(sender, event, **kwargs) -> None:
    automation.automation_run(event=event)


@receiver(post_save, sender=Integration, dispatch_uid="integrations.keys.saved")
@receiver(post_delete, sender=Integration, dispatch_uid="integrations.keys.deleted")
def forget_cached_keys(sender, **kwargs) -> None:
    """A disabled, rotated or deleted key must stop working at once (keys.py)."""
    keys.forget_cached_keys()
