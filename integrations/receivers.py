"""Reactions to incident events (connected in IntegrationsConfig.ready)."""

from django.dispatch import receiver

from incidents.events import incident_event
from integrations import automation, outbound


@receiver(incident_event, dispatch_uid="integrations.webhooks")
def queue_webhooks(sender, event, **kwargs) -> None:
    outbound.webhooks_enqueue(event=event)


@receiver(incident_event, dispatch_uid="integrations.automation")
def run_automation_rules(sender, event, **kwargs) -> None:
    automation.automation_run(event=event)
