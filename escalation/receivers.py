"""How paging and SLA timers follow the incident's event stream (in its transaction)."""

from django.dispatch import receiver

from escalation import services
from incidents.enums import EventKind, Status, Visibility
from incidents.events import incident_event
from incidents.models import TimelineEvent

# The kinds that start, stop or re-time paging. Others return before reading the
# incident: an alert repeat's event comes without it loaded and must not cost a query.
FOLLOWED_KINDS = frozenset(
    (EventKind.CREATED, EventKind.TRANSITIONED, EventKind.ASSIGNED, EventKind.UPDATE_POSTED)
)


@receiver(incident_event, dispatch_uid="escalation.on_incident_event")
def on_incident_event(sender, event: TimelineEvent, **kwargs) -> None:
    if event.kind not in FOLLOWED_KINDS:
        return
    incident = event.incident
    data = event.data
    if event.kind == EventKind.CREATED:
        if incident.status == Status.TRIGGERED:
            services.run_start(incident=incident, reason="incident triggered", replacing=False)
        services.timers_start(incident=incident)
    elif event.kind == EventKind.TRANSITIONED:
        action, target = data.get("action"), data.get("to")
        if target != Status.TRIGGERED:
            by = event.actor.get_username() if event.actor else event.actor_name or "Vigil"
            services.run_stop(
                incident=incident,
                reason=f"{action} by {by}",
                acknowledged=action == "acknowledge",
            )
        services.timers_on_transition(incident=incident, previous=data.get("from"), target=target)
    elif event.kind == EventKind.ASSIGNED and data.get("team_changed") and incident.is_open:
        # Functional escalation: the new team's policy pages the new team.
        team = incident.team.name if incident.team_id else "no team"
        services.run_start(incident=incident, reason=f"reassigned to {team}")
    elif event.kind == EventKind.UPDATE_POSTED and data.get("visibility") in (
        Visibility.STAKEHOLDERS,
        Visibility.PUBLIC,
    ):
        services.timers_on_update(incident=incident, now=event.created_at)
