"""Postmortem test data, made through the services as users make it."""

from incidents import services as incident_services
from postmortems import services
from tests.factories import IncidentFactory, UserFactory


def resolved_incident(*, priority: int = 1, by=None, **fields):
    """An incident of `priority` taken from triggered to resolved through the services."""
    by = by or UserFactory(username="ic-user")
    impact, urgency = {1: (1, 1), 2: (1, 2), 3: (2, 2), 4: (2, 3), 5: (3, 3)}[priority]
    incident = IncidentFactory(by=by, impact=impact, urgency=urgency, **fields)
    if incident.is_major:
        incident_services.role_assign(incident=incident, kind="commander", user=by, by=by)
    incident_services.incident_transition(incident=incident, action="acknowledge", by=by)
    return incident_services.incident_transition(
        incident=incident, action="resolve", by=by, resolution_code="fixed", notes="Rolled back."
    )


def postmortem_for(incident=None, *, by=None, **changes):
    incident = incident or resolved_incident(priority=4)
    by = by or UserFactory()
    postmortem = services.postmortem_create(incident=incident, by=by)
    if changes:
        postmortem = services.postmortem_update(postmortem=postmortem, by=by, **changes)
    return postmortem


def published(*, reviewer, by=None, **changes):
    by = by or UserFactory()
    postmortem = postmortem_for(by=by, summary="The cache fell over.", **changes)
    services.postmortem_transition(
        postmortem=postmortem, action="submit", by=by, reviewers=[reviewer]
    )
    return services.postmortem_transition(postmortem=postmortem, action="publish", by=reviewer)
