"""Responders' pages of the status page: the panel of the incident page (INCIDENT_PAGE_PANELS,
an htmx fragment) and the page where components and maintenance windows are managed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents.enums import UserRole
from incidents.exceptions import Conflict
from incidents.forms import submit
from incidents.models import Incident, Service
from statuspage import selectors, services
from statuspage.enums import ComponentStatus, IncidentImpact, MaintenanceStatus
from statuspage.models import Component, ComponentGroup, Maintenance, PublicIncident


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
    error, status = "", 200
    if request.method == "POST" and not can_publish:
        error, status = "Only responders publish to the status page.", 403
    elif request.method == "POST" and not form.is_valid():
        status = 400
    elif request.method == "POST":
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
        except Conflict as conflict:
            error, status = str(conflict), 409
        except ValidationError as invalid:
            error, status = "; ".join(invalid.messages), 400
        else:
            if not request.htmx:  # the form posted without JavaScript: back to the page
                messages.success(request, f"{incident.number} is on the status page.")
                return redirect("incidents:detail", number=incident.number)
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
    return render(request, "statuspage/panel.html", context, status=status)


# --- Components and maintenance ------------------------------------------------------------

WINDOW_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ComponentStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ComponentStatus.choices)


class ComponentForm(forms.Form):
    name = forms.CharField(max_length=100)
    group = forms.ModelChoiceField(queryset=ComponentGroup.objects.all(), required=False)
    service = forms.ModelChoiceField(
        queryset=Service.objects.all(), required=False, help_text="Optional: the service it is."
    )
    description = forms.CharField(max_length=500, required=False)


class MaintenanceForm(forms.Form):
    name = forms.CharField(max_length=200)
    scheduled_for = forms.DateTimeField(label="Starts", widget=WINDOW_WIDGET)
    scheduled_until = forms.DateTimeField(label="Ends", widget=WINDOW_WIDGET)
    components = forms.ModelMultipleChoiceField(
        queryset=Component.objects.order_by("position", "id"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Affected components",
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="What customers read"
    )


class ExtendForm(forms.Form):
    until = forms.DateTimeField(label="New end", widget=WINDOW_WIDGET)


def _require(request: HttpRequest, role: str) -> None:
    if not request.user.has_role(role):
        raise PermissionDenied(f"Only a {role} (or above) changes the status page.")


def _manage_page(request: HttpRequest, status: int = 200, **bound: Any) -> HttpResponse:
    user = request.user
    components = list(
        Component.objects.select_related("group", "service").order_by(
            "group__position", "group_id", "position", "id"
        )
    )
    maintenances = list(
        selectors.maintenances()
        .exclude(status=MaintenanceStatus.COMPLETED)
        .order_by("scheduled_for", "id")
    )
    context = {
        "components": components,
        "statuses": ComponentStatus.choices,
        "maintenances": maintenances,
        "component_form": bound.get("component_form") or ComponentForm(prefix="component"),
        "maintenance_form": bound.get("maintenance_form") or MaintenanceForm(prefix="window"),
        "extend_form": bound.get("extend_form"),
        "extend_id": bound.get("extend_id"),
        "can_work": user.has_role(UserRole.RESPONDER),
        "can_shape": user.has_role(UserRole.MANAGER),
    }
    return render(request, "statuspage/staff.html", context, status=status)


@login_required
@require_GET
def manage_page(request: HttpRequest) -> HttpResponse:
    return _manage_page(request)


def _done(request: HttpRequest, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("statuspage:staff")


def _refused(request: HttpRequest, failure: Exception) -> HttpResponse:
    """A refused change (409) says why on the page and changes nothing."""
    messages.error(request, "; ".join(getattr(failure, "messages", [str(failure)])))
    return _manage_page(request, status=409)


@login_required
@require_POST
def component_status(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, UserRole.RESPONDER)
    component = get_object_or_404(Component, pk=pk)
    form = ComponentStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"{component.name}: choose one of the listed statuses.")
        return _manage_page(request, status=400)
    services.component_update(
        component=component, status=form.cleaned_data["status"], reason=f"by {request.user}"
    )
    return _done(request, f"{component.name} is now {component.get_status_display().lower()}.")


@login_required
@require_POST
def component_add(request: HttpRequest) -> HttpResponse:
    _require(request, UserRole.MANAGER)
    form = ComponentForm(request.POST, prefix="component")
    # Blank choices fall back to the service's defaults rather than overriding them.
    if component := submit(
        form,
        lambda data: services.component_create(
            **{k: v for k, v in data.items() if v not in (None, "")}
        ),
    ):
        return _done(request, f"{component.name} added.")
    return _manage_page(request, status=400, component_form=form)


@login_required
@require_POST
def maintenance_add(request: HttpRequest) -> HttpResponse:
    _require(request, UserRole.RESPONDER)
    form = MaintenanceForm(request.POST, prefix="window")
    if maintenance := submit(form, lambda data: services.maintenance_create(**data)):
        return _done(request, f"{maintenance.name} scheduled.")
    return _manage_page(request, status=400, maintenance_form=form)


@login_required
@require_POST
def maintenance_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    _require(request, UserRole.RESPONDER)
    maintenance = get_object_or_404(Maintenance, pk=pk)
    try:
        if action == "extend":
            form = ExtendForm(request.POST, prefix=f"extend-{pk}")
            if not submit(
                form, lambda data: services.maintenance_extend(maintenance=maintenance, **data)
            ):
                return _manage_page(request, status=400, extend_form=form, extend_id=pk)
            return _done(request, f"{maintenance.name} extended.")
        if action == "start":
            services.maintenance_start(maintenance=maintenance)
            return _done(request, f"{maintenance.name} started.")
        if action == "end":
            services.maintenance_complete(maintenance=maintenance)
            return _done(request, f"{maintenance.name} completed.")
        if action == "cancel":
            services.maintenance_cancel(maintenance=maintenance)
            return _done(request, f"{maintenance.name} cancelled.")
    except Conflict as failure:
        return _refused(request, failure)
    raise Http404(f"No maintenance action {action!r}.")
