"""The status page follows the incident event stream, inside the incident's transaction."""

from django.dispatch import receiver

from incidents.enums import EventKind, Visibility
from incidents.events import incident_event
from incidents.models import TimelineEvent
from statuspage import cache, services


@receiver(incident_event, dispatch_uid="statuspage.on_incident_event")
def on_incident_event(sender, event: TimelineEvent, **kwargs) -> None:
    data = event.data
    if event.kind == EventKind.UPDATE_POSTED and data.get("visibility") == Visibility.PUBLIC:
        # A ValidationError here (an unknown component, say) rolls the update back too.
        services.public_update_from_event(incident=event.incident, data=data)
    elif event.kind == EventKind.TRANSITIONED and data.get("to") in services.RESOLVING_STATUSES:
        services.public_incident_resolve_from_event(incident=event.incident)
    elif event.kind == EventKind.UPDATED and "is_private" in data.get("changes", {}):
        # A published incident made private disappears from every public output.
        cache.bump()
