"""The incident page's panel (INCIDENT_PAGE_PANELS): similar past incidents with their
postmortems, matching runbooks, a stakeholder summary and the optional assistant."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from incidents.enums import UserRole
from incidents.models import Incident
from postmortems import assist, similar
from postmortems.models import Postmortem


def _incident(request, number: str) -> Incident:
    pk = Incident.pk_from_number(number)
    qs = Incident.objects.visible_to(request.user).select_related("service")
    return get_object_or_404(qs, pk=pk)


@login_required
@require_GET
def incident_panel(request, number: str):
    incident = _incident(request, number)
    context = {
        "incident": incident,
        "matches": similar.similar_incidents(incident, user=request.user),
        "runbooks": similar.matching_runbooks(incident),
        "summary": assist.stakeholder_summary(incident),
        "own_postmortem": Postmortem.objects.filter(incident=incident).first(),
        "can_start": request.user.has_role(UserRole.RESPONDER),
        "assist_enabled": assist.enabled() and request.user.has_role(UserRole.RESPONDER),
    }
    return render(request, "postmortems/panel.html", context)


@login_required
@require_POST
def incident_assist(request, number: str):
    if not assist.enabled():
        raise Http404("No assistant is configured.")
    if not request.user.has_role(UserRole.RESPONDER):
        raise Http404("The assistant is for responders.")
    incident = _incident(request, number)
    matches = similar.similar_incidents(incident, user=request.user)
    runbooks = similar.matching_runbooks(incident)
    try:
        generated = assist.generate(
            incident,
            similar=matches,
            runbooks=runbooks,
            summary=assist.stakeholder_summary(incident),
        )
    except assist.AssistUnavailable as error:
        return render(request, "postmortems/_assist.html", {"error": str(error)}, status=502)
    return render(request, "postmortems/_assist.html", {"generated": generated})
