"""On-call pages. Thin: forms validate, `escalation.services` writes (as the API does).

Responders read schedules and policies and cover shifts with overrides (as in the API);
managers change schedules and policies. Everyone manages their own contact methods.
Times show (and form input is read) in the viewer's time zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from escalation import forms as f
from escalation import selectors, services
from escalation.models import (
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    NotificationRule,
    Override,
    Schedule,
    ScheduleLayer,
)
from incidents.enums import UserRole
from incidents.exceptions import Conflict
from incidents.forms import submit
from incidents.models import Service

FINAL_SCHEDULE_DAYS = 14


def oncall_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged in and at least a responder (UserTimeZoneMiddleware sets the time zone)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_role(UserRole.RESPONDER):
            raise PermissionDenied("On-call pages are for responders.")
        return view(request, *args, **kwargs)

    return wrapped


def _require_manager(request: HttpRequest) -> None:
    if not request.user.is_manager:
        raise PermissionDenied("Only managers change schedules and policies.")


# --- Who is on call now --------------------------------------------------------------------


@oncall_page
@require_GET
def oncall(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    rows = selectors.oncall_now(
        Schedule.objects.select_related("team"), now, timedelta(days=FINAL_SCHEDULE_DAYS)
    )
    return render(
        request,
        "escalation/oncall.html",
        {"rows": rows, "now": now, "can_manage": request.user.is_manager},
    )


# --- Schedules -----------------------------------------------------------------------------


def _schedule_or_404(pk: int, since: datetime) -> Schedule:
    qs = selectors.with_oncall_data(Schedule.objects.select_related("team"), since)
    return get_object_or_404(qs, pk=pk)


@oncall_page
@require_GET
def schedule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _schedule_page(request, pk)


def _schedule_page(
    request: HttpRequest, pk: int, *, override_form: f.OverrideForm | None = None, status=200
) -> HttpResponse:
    now = timezone.now()
    schedule = _schedule_or_404(pk, now)
    # Whole days in the viewer's time zone, from the start of today.
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=FINAL_SCHEDULE_DAYS)
    resolver = selectors.ScheduleResolver(schedule, overrides_from=now)
    shifts = resolver.shifts(start, end)
    current = next((s for s in shifts if s.start <= now < s.end), None)
    layers = sorted(schedule.layers.all(), key=lambda layer: (layer.position, layer.pk))
    context = {
        "schedule": schedule,
        "shifts": shifts,
        "current": current,
        "start": start,
        "end": end,
        "days": FINAL_SCHEDULE_DAYS,
        "layers": layers,
        "overrides": sorted(schedule.overrides.all(), key=lambda o: (o.start, o.pk)),
        "override_form": override_form or f.OverrideForm(),
        "can_manage": request.user.is_manager,
        "feed_url": request.build_absolute_uri(
            reverse("escalation:schedule-feed", args=[schedule.ical_token])
        ),
    }
    return render(request, "escalation/schedule.html", context, status=status)


@oncall_page
@require_http_methods(["GET", "POST"])
def schedule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_manager(request)
    schedule = get_object_or_404(Schedule, pk=pk) if pk else None
    initial = (
        {
            "name": schedule.name,
            "team": schedule.team_id,
            "time_zone": schedule.time_zone,
            "description": schedule.description,
        }
        if schedule
        else {"time_zone": request.user.time_zone or "UTC"}
    )
    form = f.ScheduleForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if saved := submit(
            form,
            lambda data: (
                services.schedule_update(schedule=schedule, **data)
                if schedule
                else services.schedule_create(**data)
            ),
        ):
            messages.success(request, f"Schedule {saved.name} saved.")
            return redirect("escalation:schedule", pk=saved.pk)
    context = {"form": form, "schedule": schedule}
    return render(request, "escalation/schedule_form.html", context, status=status)


@oncall_page
@require_http_methods(["GET", "POST"])
def layer_edit(request: HttpRequest, pk: int, layer_pk: int | None = None) -> HttpResponse:
    _require_manager(request)
    schedule = get_object_or_404(Schedule, pk=pk)
    layer = (
        get_object_or_404(
            ScheduleLayer.objects.prefetch_related("members__user", "restrictions"),
            pk=layer_pk,
            schedule=schedule,
        )
        if layer_pk
        else None
    )
    if layer:
        initial = {
            "name": layer.name,
            "users": ", ".join(m.user.username for m in layer.members.all()),
            "turn_length": layer.turn_length,
            "turn_unit": layer.turn_unit,
            "start_date": layer.start_date,
            "handoff_time": layer.handoff_time,
            "time_zone": layer.time_zone,
            "restrictions": f.restrictions_text(list(layer.restrictions.all())),
        }
    else:
        initial = {"time_zone": schedule.time_zone, "start_date": timezone.localdate()}
    form = f.LayerForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if submit(
            form,
            lambda data: (
                services.layer_update(layer=layer, **data)
                if layer
                else services.layer_create(schedule=schedule, **data)
            ),
        ):
            messages.success(request, "Layer saved.")
            return redirect("escalation:schedule", pk=schedule.pk)
    context = {"form": form, "schedule": schedule, "layer": layer}
    return render(request, "escalation/layer_form.html", context, status=status)


@oncall_page
@require_POST
def layer_delete(request: HttpRequest, pk: int, layer_pk: int) -> HttpResponse:
    _require_manager(request)
    layer = get_object_or_404(ScheduleLayer, pk=layer_pk, schedule_id=pk)
    services.layer_delete(layer=layer)
    messages.success(request, f"Layer {layer.name} removed.")
    return redirect("escalation:schedule", pk=pk)


@oncall_page
@require_POST
def override_add(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(Schedule, pk=pk)
    form = f.OverrideForm(request.POST)
    if override := submit(
        form, lambda data: services.override_create(schedule=schedule, by=request.user, **data)
    ):
        messages.success(request, f"{override.user.username} covers the span.")
        return redirect("escalation:schedule", pk=pk)
    return _schedule_page(request, pk, override_form=form, status=400)


@oncall_page
@require_POST
def override_delete(request: HttpRequest, pk: int, override_pk: int) -> HttpResponse:
    services.override_delete(override=get_object_or_404(Override, pk=override_pk, schedule_id=pk))
    messages.success(request, "Override removed.")
    return redirect("escalation:schedule", pk=pk)


@oncall_page
@require_POST
def schedule_rotate_token(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    services.schedule_rotate_token(schedule=get_object_or_404(Schedule, pk=pk))
    messages.success(request, "New calendar link: the old one no longer works.")
    return redirect("escalation:schedule", pk=pk)


# --- Escalation policies -------------------------------------------------------------------

TARGETS = EscalationTarget.objects.select_related("user", "schedule", "team")


def _policies_with_levels():
    levels = EscalationLevel.objects.prefetch_related(Prefetch("targets", queryset=TARGETS))
    return EscalationPolicy.objects.select_related("team").prefetch_related(
        Prefetch("levels", queryset=levels)
    )


@oncall_page
@require_GET
def policy_list(request: HttpRequest) -> HttpResponse:
    """Every policy, and which policy pages each service."""
    context = {
        "policies": list(_policies_with_levels()),
        "services": Service.objects.select_related("team", "oncall__policy").order_by("name"),
        "can_manage": request.user.is_manager,
    }
    return render(request, "escalation/policies.html", context)


@oncall_page
@require_http_methods(["GET", "POST"])
def service_oncall(request: HttpRequest, slug: str) -> HttpResponse:
    """A service's policy and its support hours (P4 and P5 page only within them)."""
    _require_manager(request)
    service = get_object_or_404(Service.objects.select_related("oncall"), slug=slug)
    oncall = getattr(service, "oncall", None)
    fields = ["policy", "time_zone", "support_days", "support_start", "support_end"]
    initial = {name: getattr(oncall, name) for name in fields} if oncall else {}
    form = f.ServiceOnCallForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if submit(form, lambda data: services.service_oncall_set(service=service, **data)):
            messages.success(request, f"On-call settings of {service.name} saved.")
            return redirect("escalation:policies")
    context = {"form": form, "service": service}
    return render(request, "escalation/service_oncall.html", context, status=status)


def _policy_initial(policy: EscalationPolicy) -> dict[str, Any]:
    fields = ["name", "is_team_default", "repeat", "time_zone", "business_days"]
    initial = {name: getattr(policy, name) for name in fields}
    initial |= {
        "team": policy.team_id,
        "business_start": policy.business_start,
        "business_end": policy.business_end,
    }
    return initial


@oncall_page
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The policy page: its settings, and its levels in order (managers edit both)."""
    policy = get_object_or_404(_policies_with_levels(), pk=pk) if pk else None
    if request.method == "POST" or policy is None:
        _require_manager(request)
    form = f.PolicyForm(
        request.POST or None, initial=_policy_initial(policy) if policy else {"time_zone": "UTC"}
    )
    status = 200
    if request.method == "POST":
        status = 400
        if saved := submit(
            form,
            lambda data: (
                services.policy_update(policy=policy, **data)
                if policy
                else services.policy_create(**data)
            ),
        ):
            messages.success(request, f"Policy {saved.name} saved.")
            return redirect("escalation:policy", pk=saved.pk)
    context = {
        "form": form,
        "policy": policy,
        "levels": list(policy.levels.all()) if policy else [],
        "level_form": f.LevelForm(),
        "can_manage": request.user.is_manager,
    }
    return render(request, "escalation/policy.html", context, status=status)


@oncall_page
@require_http_methods(["GET", "POST"])
def level_edit(request: HttpRequest, pk: int, level_pk: int | None = None) -> HttpResponse:
    _require_manager(request)
    policy = get_object_or_404(EscalationPolicy, pk=pk)
    level = (
        get_object_or_404(
            EscalationLevel.objects.prefetch_related("targets"), pk=level_pk, policy=policy
        )
        if level_pk
        else None
    )
    initial: dict[str, Any] = {}
    if level:
        targets = list(level.targets.all())
        initial = {
            "delay_minutes": level.delay_minutes,
            "hours": level.hours,
            "users": [t.user_id for t in targets if t.user_id],
            "schedules": [t.schedule_id for t in targets if t.schedule_id],
            "teams": [t.team_id for t in targets if t.team_id],
        }
    form = f.LevelForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            values = {
                "targets": data["targets"],
                "delay_minutes": data["delay_minutes"],
                "hours": data["hours"],
            }
            if level:
                services.level_update(level=level, **values)
            else:
                services.level_add(policy=policy, **values)
            messages.success(request, "Level saved.")
            return redirect("escalation:policy", pk=policy.pk)
    context = {"form": form, "policy": policy, "level": level}
    return render(request, "escalation/level_form.html", context, status=status)


@oncall_page
@require_POST
def level_delete(request: HttpRequest, pk: int, level_pk: int) -> HttpResponse:
    _require_manager(request)
    services.level_delete(level=get_object_or_404(EscalationLevel, pk=level_pk, policy_id=pk))
    messages.success(request, "Level removed.")
    return redirect("escalation:policy", pk=pk)


# --- My notifications ----------------------------------------------------------------------


def _my_notifications(request: HttpRequest, *, status: int = 200, **forms: Any) -> HttpResponse:
    user = request.user
    feed_token = services.user_feed_token(user=user)
    context = {
        "methods": list(user.contact_methods.all()),
        "rules": list(user.notification_rules.select_related("contact_method")),
        "method_form": forms.get("method_form") or f.ContactMethodForm(),
        "rule_form": forms.get("rule_form") or f.NotificationRuleForm(user=user),
        "feed_url": request.build_absolute_uri(reverse("escalation:user-feed", args=[feed_token])),
    }
    return render(request, "escalation/my_notifications.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def my_notifications(request: HttpRequest) -> HttpResponse:
    """Contact methods and notification rules of the logged-in user."""
    if request.method == "GET":
        return _my_notifications(request)
    user = request.user
    if "kind" in request.POST:
        method_form = f.ContactMethodForm(request.POST)
        if submit(method_form, lambda data: services.contact_method_create(user=user, **data)):
            messages.success(request, "Contact method added.")
            return redirect("escalation:my-notifications")
        return _my_notifications(request, status=400, method_form=method_form)
    rule_form = f.NotificationRuleForm(request.POST, user=user)
    if rule_form.is_valid():
        services.notification_rule_create(user=user, **rule_form.cleaned_data)
        messages.success(request, "Notification rule added.")
        return redirect("escalation:my-notifications")
    return _my_notifications(request, status=400, rule_form=rule_form)


@login_required
@require_POST
def contact_method_delete(request: HttpRequest, method_pk: int) -> HttpResponse:
    method = get_object_or_404(ContactMethod, pk=method_pk, user=request.user)
    services.contact_method_delete(user=request.user, method=method)
    messages.success(request, "Contact method removed, with its rules.")
    return redirect("escalation:my-notifications")


@login_required
@require_POST
def notification_rule_delete(request: HttpRequest, rule_pk: int) -> HttpResponse:
    rule = get_object_or_404(NotificationRule, pk=rule_pk, user=request.user)
    services.notification_rule_delete(user=request.user, rule=rule)
    messages.success(request, "Notification rule removed.")
    return redirect("escalation:my-notifications")


@login_required
@require_POST
def my_feed_rotate(request: HttpRequest) -> HttpResponse:
    services.user_feed_token_rotate(user=request.user)
    messages.success(request, "New calendar link: the old one no longer works.")
    return redirect("escalation:my-notifications")


# --- Acknowledge link ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def acknowledge(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: GET shows a button (link scanners only GET), POST acknowledges."""
    notification = services.notification_from_token(token)
    if notification is None:
        return render(request, "escalation/ack.html", {"state": "invalid"}, status=404)
    context = {"notification": notification, "incident": notification.incident}
    if request.method == "POST":
        try:
            services.ack_link_use(notification=notification)
        except Conflict:
            return render(request, "escalation/ack.html", {**context, "state": "used"}, status=409)
        return render(request, "escalation/ack.html", {**context, "state": "done"})
    if notification.ack_used_at:
        return render(request, "escalation/ack.html", {**context, "state": "used"}, status=409)
    return render(request, "escalation/ack.html", {**context, "state": "ask"})
