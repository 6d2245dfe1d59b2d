"""The status page panel of the incident page (INCIDENT_PAGE_PANELS): an htmx fragment."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from incidents.enums import UserRole
from incidents.exceptions import Conflict
from incidents.models import Incident
from statuspage import services
from statuspage.enums import ComponentStatus, IncidentImpact
from statuspage.models import Component, PublicIncident


class PublishForm(forms.Form):
    title = forms.CharField(max_length=200, label="Public title")
    impact = forms.ChoiceField(choices=IncidentImpact.choices)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="First public update")
    components = forms.ModelMultipleChoiceField(
        queryset=Component.objects.order_by("position", "id"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Affected components",
    )
    component_status = forms.ChoiceField(
        choices=[c for c in ComponentStatus.choices if c[0] != ComponentStatus.UNDER_MAINTENANCE],
        initial=ComponentStatus.PARTIAL_OUTAGE,
        label="Their status",
    )


@login_required
@require_http_methods(["GET", "POST"])
def incident_panel(request: HttpRequest, number: str) -> HttpResponse:
    pk = Incident.pk_from_number(number)
    incident = get_object_or_404(Incident.objects.visible_to(request.user), pk=pk)
    can_publish = request.user.has_role(UserRole.RESPONDER)
    form = PublishForm(request.POST or None, initial={"title": ""})
    error = ""
    if request.method == "POST" and can_publish and form.is_valid():
        data = form.cleaned_data
        try:
            services.public_incident_publish(
                incident=incident,
                by=request.user,
                title=data["title"],
                impact=data["impact"],
                body=data["body"],
                components=[
                    {"component": c.pk, "status": data["component_status"]}
                    for c in data["components"]
                ],
            )
        except (Conflict, ValidationError) as failure:
            error = "; ".join(getattr(failure, "messages", [str(failure)]))
    public = (
        PublicIncident.objects.filter(incident=incident)
        .prefetch_related("components", "updates")
        .first()
    )
    context = {
        "incident": incident,
        "public": public,
        "form": form,
        "error": error,
        "can_publish": can_publish and not incident.is_private and incident.is_open,
    }
    return render(request, "statuspage/panel.html", context)
