"""How the postmortems app reacts to the incident event stream (inside its transaction)."""

from django.dispatch import receiver

from incidents.enums import EventKind, Status
from incidents.events import incident_event, incidents_loaded
from incidents.models import TimelineEvent
from postmortems import services, similar


@receiver(incident_event, dispatch_uid="postmortems.draft_on_resolve")
def draft_on_resolve(sender, event: TimelineEvent, **kwargs) -> None:
    """A major incident that resolves gets its draft postmortem in the same transaction."""
    if event.kind == EventKind.TRANSITIONED and event.data.get("to") == Status.RESOLVED:
        services.postmortem_create_for_resolved(incident=event.incident)


@receiver(incident_event, dispatch_uid="postmortems.index_incident")
def index_incident(sender, event: TimelineEvent, **kwargs) -> None:
    """Keep the incident's full-text document (similar incidents) in step with its text."""
    if event.kind in (EventKind.CREATED, EventKind.UPDATED):
        similar.document_refresh(incident=event.incident)


@receiver(incidents_loaded, dispatch_uid="postmortems.index_loaded")
def index_loaded(sender, first_id: int, **kwargs) -> None:
    """Bulk-loaded incidents (`seed`) are found as similar too."""
    similar.documents_rebuild(first_id=first_id)
