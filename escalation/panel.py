"""The paging panel of the incident page (INCIDENT_PAGE_PANELS): an htmx fragment.

It shows the escalation run (level, who was paged and why, when the next level fires,
the acknowledge), the SLA clocks and when the next stakeholder update is due, and offers
"Page" and "Escalate now". Writes go through `escalation.services`, as the API's do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from escalation import services
from escalation.forms import EscalateForm
from escalation.models import (
    IncidentTimer,
    Notification,
    NotificationReason,
    RunState,
    TimerKind,
    TimerState,
)
from escalation.services import EventKind
from incidents.enums import UserRole
from incidents.exceptions import Conflict
from incidents.models import Incident


@dataclass(frozen=True)
class SlaClock:
    label: str
    target: timedelta | None
    state: str  # none | met | running | warning | paused | breached
    due: datetime | None = None
    remaining: timedelta | None = None
    at: datetime | None = None


def _sla_clock(
    label: str,
    target: timedelta | None,
    done_at: datetime | None,
    breached_at: datetime | None,
    timers: dict[str, IncidentTimer],
    kinds: tuple[str, str],
) -> SlaClock:
    warning, breach = (timers.get(k) for k in kinds)
    if target is None:
        return SlaClock(label, None, "none")
    if breached_at:
        return SlaClock(label, target, "breached", at=breached_at)
    if done_at:
        return SlaClock(label, target, "met", at=done_at)
    if breach and breach.state == TimerState.PAUSED:
        return SlaClock(label, target, "paused", remaining=breach.remaining)
    if breach and breach.state == TimerState.PENDING:
        warned = warning is not None and warning.state == TimerState.FIRED
        return SlaClock(label, target, "warning" if warned else "running", due=breach.due_at)
    return SlaClock(label, target, "none")


def _sla(incident: Incident) -> list[SlaClock]:
    ack, resolve, _ = services.sla_targets(incident.priority)
    # The newest row of each kind: a timer cancelled by an acknowledge stays as history.
    timers: dict[str, IncidentTimer] = {}
    for timer in incident.timers.exclude(state=TimerState.CANCELLED).order_by("id"):
        timers[timer.kind] = timer
    breaches = {b.kind: b.breached_at for b in incident.sla_breaches.all()}
    return [
        _sla_clock(
            "Time to acknowledge",
            ack,
            incident.acknowledged_at,
            breaches.get("acknowledge"),
            timers,
            (TimerKind.ACK_WARNING, TimerKind.ACK_BREACH),
        ),
        _sla_clock(
            "Time to resolve",
            resolve,
            incident.resolved_at,
            breaches.get("resolve"),
            timers,
            (TimerKind.RESOLVE_WARNING, TimerKind.RESOLVE_BREACH),
        ),
    ]


def _paging(incident: Incident) -> dict[str, Any]:
    run = incident.escalations.first()
    if run is None:
        return {"run": None, "policy": services.policy_for(incident)}
    levels = run.snapshot.get("levels", [])
    events = list(
        incident.timeline.filter(
            kind__in=[EventKind.PAGED, EventKind.PAGING_ERROR], created_at__gte=run.started_at
        ).order_by("created_at", "id")[:50]
    )
    deliveries: dict[str, list[Notification]] = {}
    for n in (
        Notification.objects.filter(run=run, reason=NotificationReason.PAGE)
        .select_related("recipient")
        .order_by("created_at", "id")[:100]
    ):
        deliveries.setdefault(n.recipient.get_username(), []).append(n)
    pages = [
        {"event": e, "deliveries": deliveries.get(e.data.get("user"), [])}
        for e in events
        if e.kind == EventKind.PAGED
    ]
    return {
        "run": run,
        "active": run.state == RunState.ACTIVE,
        "levels": [
            {
                "number": i + 1,
                "targets": [t["name"] for t in level["targets"]],
                "delay": level["delay_minutes"],
                "next": run.state == RunState.ACTIVE and run.next_at and i == run.level,
            }
            for i, level in enumerate(levels)
        ],
        "pages": pages,
        "errors": [e for e in events if e.kind == EventKind.PAGING_ERROR],
        "next_level": run.level + 1 if run.next_at else None,
    }


def _render(
    request: HttpRequest, incident: Incident, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "incident": incident,
        "can_page": request.user.has_role(UserRole.RESPONDER) and incident.is_open,
        "sla": _sla(incident),
        "update_due": services.next_update_due(incident) if incident.is_open else None,
        "error": error,
        # Levels fire and acknowledgements arrive while the page is open: keep it current.
        "poll_seconds": settings.UI_POLL_SECONDS,
        **_paging(incident),
    }
    return render(request, "escalation/panel.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def incident_panel(request: HttpRequest, number: str) -> HttpResponse:
    pk = Incident.pk_from_number(number)
    if pk is None:
        raise Http404("No such incident.")
    incident = get_object_or_404(
        Incident.objects.visible_to(request.user).select_related("service"), pk=pk
    )
    if request.method == "GET":
        return _render(request, incident)
    if not request.user.has_role(UserRole.RESPONDER):
        return _render(request, incident, error="Only responders page.", status=403)
    action = request.POST.get("action")
    form = EscalateForm(request.POST)
    try:
        if action == "page":
            services.incident_page(incident=incident, by=request.user)
        elif action == "escalate" and form.is_valid():
            services.run_escalate_now(
                incident=incident, by=request.user, level=form.cleaned_data["level"]
            )
        elif action == "escalate":
            raise ValidationError(form.errors.get_json_data())
        else:
            raise ValidationError({"action": "Choose page or escalate."})
    except Conflict as conflict:
        return _render(request, incident, error=str(conflict), status=409)
    except ValidationError as invalid:
        return _render(request, incident, error="; ".join(invalid.messages), status=400)
    if not request.headers.get("HX-Request"):
        return redirect("incidents:detail", number=incident.number)
    return _render(request, incident)
