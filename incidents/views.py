"""The responder's pages. Thin: forms validate, `incidents.services` writes (as the API does)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from incidents import forms as f
from incidents import services
from incidents.enums import OPEN_STATUSES, EventKind, Priority, Status, UserRole
from incidents.exceptions import Conflict, TooLarge
from incidents.filters import IncidentFilter
from incidents.models import Category, Incident, Runbook, Service, Task, Team, User
from incidents.selectors import open_counts_by_priority

PAGE_SIZE = 50
# Counting every match of a broad filter on a big desk is what makes lists slow; past this
# many the list says "10,000+" and offers the first pages (narrow the filter for the rest).
COUNT_CAP = 10_000
# A text search reads its matches through the trigram indexes and the table: counting 10,001
# of them took 50-60 ms on 100,000 incidents, so a search says "more than 1,000".
SEARCH_COUNT_CAP = 1_000
# The home page's "N open" per priority stops counting here ("100+"): counting every open
# incident of a big desk on each refresh is what made the page slow.
HOME_COUNT_CAP = 100
TIMELINE_LIMIT = 100
SORTS = {
    "-id": ("Newest first", ["-id"]),
    "id": ("Oldest first", ["id"]),
    "priority": ("Highest priority first", ["priority", "-id"]),
    "-priority": ("Lowest priority first", ["-priority", "id"]),
}
MULTI_VALUE_FILTERS = ("status", "priority")
ACTION_BUTTONS = {
    "acknowledge": ("Acknowledge", "a"),
    "investigate": ("Investigate", ""),
    "mitigate": ("Mitigate", "m"),
    "hold": ("Put on hold…", ""),
    "resolve": ("Resolve…", "r"),
    "reopen": ("Reopen…", ""),
    "close": ("Confirm and close", ""),
    "cancel": ("Cancel…", ""),
}


def _can_work(user: User) -> bool:
    return user.has_role(UserRole.RESPONDER)


def _require_responder(request: HttpRequest) -> None:
    if not _can_work(request.user):
        raise PermissionDenied("Only responders work incidents.")


def _visible(request: HttpRequest) -> QuerySet[Incident]:
    return Incident.objects.visible_to(request.user)


def _incident_or_404(request: HttpRequest, number: str) -> Incident:
    pk = Incident.pk_from_number(number)
    if pk is None:
        raise Http404("No such incident.")
    qs = _visible(request).select_related(
        "service", "category__parent", "team", "assignee", "reporter", "opened_by"
    )
    return get_object_or_404(qs, pk=pk)


def _poll_seconds() -> int:
    return settings.UI_POLL_SECONDS


# --- Home --------------------------------------------------------------------------------


# What a row of the home page and the list shows: loading every column and whole related
# rows made building the objects cost as much as rendering them.
ROW_FIELDS = (
    "title", "priority", "status", "is_major", "is_private", "created_at",
    "service__name", "team__name", "assignee__username",
)  # fmt: skip


def _rows(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    return qs.select_related("service", "team", "assignee").only(*ROW_FIELDS)


def _home_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    visible = _visible(request)
    # The ids, not a subquery: with a list the planner reads the (team, status) and
    # (assignee, status) indexes instead of walking every incident in priority order.
    my_teams = list(user.teams.values_list("id", flat=True))
    needs_me = _rows(
        visible.filter(status=Status.TRIGGERED)
        .filter(Q(assignee=user) | Q(team_id__in=my_teams))
        .order_by("priority", "created_at")[:50]
    )
    open_incidents = list(_rows(visible.open().order_by("priority", "-id")[:60]))
    counts = open_counts_by_priority(visible, cap=HOME_COUNT_CAP)
    by_priority = [
        {
            "priority": p,
            "label": p.label,
            "count": min(counts[p], HOME_COUNT_CAP),
            "capped": counts[p] > HOME_COUNT_CAP,
            "incidents": [i for i in open_incidents if i.priority == p.value],
        }
        for p in Priority
    ]
    my_tasks = (
        Task.objects.filter(assignee=user, done=False, incident__status__in=OPEN_STATUSES)
        .filter(incident__in=visible)
        .select_related("incident")
        .only("title", "due_at", "incident__id")
        .order_by("due_at", "incident_id", "position")[:50]
    )
    return {
        "needs_me": list(needs_me),
        "by_priority": by_priority,
        "my_tasks": list(my_tasks),
        "can_work": _can_work(user),
        "poll_seconds": _poll_seconds(),
    }


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "incidents/home.html", _home_context(request))


@login_required
@require_GET
def home_live(request: HttpRequest) -> HttpResponse:
    """The self-refreshing part of home; it holds no inputs, so polling loses no typing."""
    return render(request, "incidents/_home_live.html", _home_context(request))


# --- List --------------------------------------------------------------------------------


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page: int, *, cap: int) -> None:
        super().__init__(object_list, per_page)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        # Unordered: an ORDER BY here made PostgreSQL sort every visible row before the LIMIT.
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap


def _filter_data(request: HttpRequest) -> QueryDict:
    """Checkbox groups send `status=a&status=b`; the filter (and the API) read `a,b`."""
    data = request.GET.copy()
    for key in MULTI_VALUE_FILTERS:
        values = [v for value in request.GET.getlist(key) for v in value.split(",") if v]
        if values:
            data.setlist(key, [",".join(values)])
    return data


@login_required
@require_GET
def incident_list(request: HttpRequest) -> HttpResponse:
    data = _filter_data(request)
    incident_filter = IncidentFilter(data, queryset=_visible(request), request=request)
    sort = request.GET.get("sort", "-id")
    if sort not in SORTS:
        sort = "-id"
    qs = _rows(incident_filter.qs).order_by(*SORTS[sort][1])
    cap = SEARCH_COUNT_CAP if data.get("q", "").strip() else COUNT_CAP
    paginator = CappedPaginator(qs, PAGE_SIZE, cap=cap)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    selected = {key: set(data.get(key, "").split(",")) for key in MULTI_VALUE_FILTERS}
    context = {
        "filter": incident_filter,
        "page": page,
        "paginator": paginator,
        "sort": sort,
        "sorts": [(key, label) for key, (label, _) in SORTS.items()],
        "query": query.urlencode(),
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "selected_status": selected["status"],
        "selected_priority": {int(p) for p in selected["priority"] if p.isdigit()},
        "services": Service.objects.all(),
        "teams": Team.objects.all(),
        "categories": Category.objects.select_related("parent"),
        "users": f.active_users(),
        "can_work": _can_work(request.user),
    }
    status = 400 if incident_filter.errors else 200
    return render(request, "incidents/list.html", context, status=status)


# --- New incident --------------------------------------------------------------------------


@login_required
def incident_new(request: HttpRequest) -> HttpResponse:
    _require_responder(request)
    form = f.IncidentCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
            fields.pop("priority_override_reason", None)
            try:
                incident = services.incident_create(
                    by=request.user,
                    source="web",
                    priority_override_reason=form.cleaned_data["priority_override_reason"],
                    **fields,
                )
            except ValidationError as error:
                f.add_service_errors(form, error)
            else:
                messages.success(request, f"{incident.number} logged.")
                return redirect("incidents:detail", number=incident.number)
        status = 400
    impact = _int_or(form["impact"].value(), 2)
    urgency = _int_or(form["urgency"].value(), 2)
    context = {"form": form, "preview": _preview(impact, urgency)}
    return render(request, "incidents/new.html", context, status=status)


def _int_or(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _preview(impact: int, urgency: int) -> dict[str, Any]:
    try:
        priority = Priority(services.priority_for(impact=impact, urgency=urgency))
    except (KeyError, ValueError):
        return {"priority": None}
    return {"priority": priority, "impact": impact, "urgency": urgency}


@login_required
@require_GET
def priority_preview(request: HttpRequest) -> HttpResponse:
    form = f.PriorityPreviewForm(request.GET)
    if not form.is_valid():
        return render(request, "incidents/_priority.html", {"preview": {"priority": None}})
    preview = _preview(form.cleaned_data["impact"], form.cleaned_data["urgency"])
    return render(request, "incidents/_priority.html", {"preview": preview})


# --- Incident page -----------------------------------------------------------------------


def _panels(incident: Incident) -> list[str]:
    urls = []
    for name in settings.INCIDENT_PAGE_PANELS:
        try:
            urls.append(reverse(name, kwargs={"number": incident.number}))
        except NoReverseMatch:
            continue  # an app that is not installed here
    return urls


def _timeline(incident: Incident, kind: str) -> tuple[list, bool]:
    qs = incident.timeline.select_related("actor")
    kinds = [k for k in kind.split(",") if k]
    if kinds:
        qs = qs.filter(kind__in=kinds)
    events = list(qs[: TIMELINE_LIMIT + 1])
    return events[:TIMELINE_LIMIT], len(events) > TIMELINE_LIMIT


def _timeline_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    kind = request.GET.get("kind", "")
    events, more = _timeline(incident, kind)
    return {
        "incident": incident,
        "events": events,
        "more_events": more,
        "kind": kind,
        "timeline_limit": TIMELINE_LIMIT,
    }


def _incident_page(
    request: HttpRequest,
    incident: Incident,
    *,
    status: int = 200,
    bound: dict[str, Any] | None = None,
    open_dialog: str = "",
    problem: str = "",
) -> HttpResponse:
    """The incident page; `bound` swaps in a submitted form to show its errors."""
    user = request.user
    can_work = _can_work(user)
    actions = services.allowed_actions(incident) if incident.pk else []
    if not can_work:
        actions = [a for a in actions if a == "close" and incident.reporter_id == user.pk]
    elif "close" in actions and not (user.pk == incident.reporter_id or user.is_manager):
        actions.remove("close")
    users = list(f.active_users())
    forms: dict[str, Any] = {
        "hold": f.HoldForm(prefix="hold"),
        "resolve": f.ResolveForm(prefix="resolve"),
        "reopen": f.ReopenForm(prefix="reopen"),
        "cancel": f.CancelForm(prefix="cancel", user=user),
        "assign": f.AssignForm(
            prefix="assign",
            initial={
                "team": incident.team.slug if incident.team else None,
                "assignee": incident.assignee.username if incident.assignee else None,
            },
        ),
        "role": f.RoleForm(prefix="role"),
        "reclassify": f.ReclassifyForm(
            prefix="classify", initial={"impact": incident.impact, "urgency": incident.urgency}
        ),
        "task": f.TaskForm(prefix="task"),
        "runbook": f.RunbookForm(prefix="runbook"),
        "update": f.UpdateForm(prefix="update"),
        "attachment": f.AttachmentForm(prefix="attachment"),
    }
    forms.update(bound or {})
    # One query for the people lists of every form on the page, not one per select.
    user_choices = [("", "(nobody)"), *((u.username, _person(u)) for u in users)]
    forms["assign"].fields["assignee"].choices = user_choices
    forms["role"].fields["user"].choices = [("", "Choose…"), *user_choices[1:]]
    # Plain lists for the other selects too: a ModelChoiceField walks its queryset through a
    # server-side cursor on PostgreSQL, three round trips (DECLARE, FETCH, CLOSE) per select.
    # Callables, read only if the select is shown (a closed incident shows neither).
    teams = Team.objects.values_list("slug", "name")
    forms["assign"].fields["team"].choices = lambda: [("", "(no team)"), *teams]
    runbooks = Runbook.objects.values_list("pk", "name")
    forms["runbook"].fields["runbook"].choices = lambda: [("", "Choose a runbook…"), *runbooks]
    context = {
        "incident": incident,
        "can_work": can_work,
        "actions": actions,
        "action_buttons": [
            {
                "action": a,
                "label": ACTION_BUTTONS[a][0],
                "shortcut": ACTION_BUTTONS[a][1],
                "dialog": a in f.TRANSITION_FORMS,
            }
            for a in actions
        ],
        "dialogs": [(a, forms[a]) for a in actions if a in f.TRANSITION_FORMS],
        "roles": list(incident.roles.select_related("user")),
        "tasks": list(incident.tasks.select_related("assignee")),
        "updates": list(incident.updates.select_related("author")[:50]),
        "attachments": list(incident.attachments.select_related("uploaded_by")),
        "forms": forms,
        "open_dialog": open_dialog,
        "problem": problem,
        "panels": _panels(incident),
        "event_kinds": EventKind.choices,
        "poll_seconds": _poll_seconds(),
        **_timeline_context(request, incident),
    }
    return render(request, "incidents/detail.html", context, status=status)


def _person(user: User) -> str:
    name = user.get_full_name()
    return f"{name} ({user.username})" if name else user.username


@login_required
@require_GET
def incident_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _incident_page(request, _incident_or_404(request, number))


@login_required
@require_GET
def incident_timeline(request: HttpRequest, number: str) -> HttpResponse:
    incident = _incident_or_404(request, number)
    return render(request, "incidents/_timeline.html", _timeline_context(request, incident))


def _act(
    request: HttpRequest,
    incident: Incident,
    work,
    *,
    form_key: str = "",
    form=None,
    done: str = "",
    dialog: str = "",
) -> HttpResponse:
    """Run a service; show its refusal on the page beside the form that asked for it."""
    try:
        work()
    except ValidationError as error:
        if form is None:
            return _incident_page(request, incident, status=400, problem=" ".join(error.messages))
        f.add_service_errors(form, error)
        return _incident_page(
            request, incident, status=400, bound={form_key: form}, open_dialog=dialog
        )
    except Conflict as error:
        bound = {form_key: form} if form is not None else None
        return _incident_page(request, incident, status=409, problem=str(error), bound=bound)
    except PermissionDenied as error:
        return _incident_page(request, incident, status=403, problem=str(error))
    except TooLarge as error:
        form.add_error("file", str(error))
        return _incident_page(request, incident, status=413, bound={form_key: form})
    if done:
        messages.success(request, done)
    return redirect("incidents:detail", number=incident.number)


def _invalid(request: HttpRequest, incident: Incident, key: str, form, dialog: str = ""):
    return _incident_page(request, incident, status=400, bound={key: form}, open_dialog=dialog)


@login_required
@require_POST
def incident_transition(request: HttpRequest, number: str, action: str) -> HttpResponse:
    incident = _incident_or_404(request, number)
    if action not in services.TRANSITIONS:
        raise Http404("No such action.")
    if action != "close":
        _require_responder(request)
    form_class = f.TRANSITION_FORMS.get(action)
    form = None
    kwargs: dict[str, Any] = {}
    if form_class is not None:
        extra = {"user": request.user} if form_class is f.CancelForm else {}
        form = form_class(request.POST, prefix=action, **extra)
        if not form.is_valid():
            return _invalid(request, incident, action, form, dialog=action)
        kwargs = {k: v for k, v in form.cleaned_data.items() if v is not None}

    def work():
        services.incident_transition(incident=incident, action=action, by=request.user, **kwargs)

    label = services.TRANSITIONS[action].target.label.lower()
    return _act(
        request,
        incident,
        work,
        form_key=action,
        form=form,
        dialog=action,
        done=f"{incident.number} is now {label}.",
    )


@login_required
@require_POST
def incident_assign(request: HttpRequest, number: str) -> HttpResponse:
    _require_responder(request)
    incident = _incident_or_404(request, number)
    form = f.AssignForm(request.POST, prefix="assign")
    if not form.is_valid():
        return _invalid(request, incident, "assign", form)

    def work():
        services.incident_assign(incident=incident, by=request.user, **form.cleaned_data)

    return _act(request, incident, work, form_key="assign", form=form, done="Assignment saved.")


@login_required
@require_POST
def incident_reclassify(request: HttpRequest, number: str) -> HttpResponse:
    _require_responder(request)
    incident = _incident_or_404(request, number)
    form = f.ReclassifyForm(request.POST, prefix="classify")
    if not form.is_valid():
        return _invalid(request, incident, "reclassify", form)

    def work():
        services.incident_reclassify(incident=incident, by=request.user, **form.cleaned_data)

    return _act(
        request, incident, work, form_key="reclassify", form=form, done="Classification saved."
    )


@login_required
@require_POST
def role_add(request: HttpRequest, number: str) -> HttpResponse:
    _require_responder(request)
    incident = _incident_or_404(request, number)
    form = f.RoleForm(request.POST, prefix="role")
    if not form.is_valid():
        return _invalid(request, incident, "role", form)

    def work():
        services.role_assign(incident=incident, by=request.user, **form.cleaned_data)

    return _act(request, incident, work, form_key="role", form=form, done="Role assigned.")


@login_required
@require_POST
def role_remove(request: HttpRequest, number: str, role_id: int) -> HttpResponse:
    _require_responder(request)
    incident = _incident_or_404(request, number)
    role = get_object_or_404(incident.roles.select_related("user", "incident"), pk=role_id)
    return _act(
        request,
        incident,
        lambda: services.role_remove(role=role, by=request.user),
        done="Role removed.",
    )


@login_required
@require_POST
def task_add(request: HttpRequest, number: str) -> HttpResponse:
    _require_responder(request)
    incident = _incident_or_404(request, number)
    form = f.TaskForm(request.POST, prefix="task")
    if not form.is_valid():
        return _invalid(request, incident, "task", form)

    def work():
        services.task_add(incident=incident, by=request.user, title=form.cleaned_data["title"])

    return _act(request, incident, work, form_key="task", form=form)


@login_required
@require_POST
def task_toggle(request: HttpRequest, number: str, task_id: int) -> HttpResponse:
    _require_responder(request)
    incident = _incident_or_404(request, number)
    task = get_object_or_404(incident.tasks.select_related("incident"), pk=task_id)
    done = request.POST.get("done") == "on"
    problem = ""
    try:
        services.task_update(task=task, by=request.user, done=done)
    except Conflict as error:
        problem = str(error)
    if request.htmx:
        context = {
            "incident": incident,
            "tasks": list(incident.tasks.select_related("assignee")),
            "can_work": True,
            "problem": problem,
            "forms": {
                "task": f.TaskForm(prefix="task"),
                "runbook": f.RunbookForm(prefix="runbook"),
            },
        }
        return render(request, "incidents/_tasks.html", context, status=409 if problem else 200)
    if problem:
        return _incident_page(request, incident, status=409, problem=problem)
    return redirect("incidents:detail", number=incident.number)


@login_required
@require_POST
def runbook_apply(request: HttpRequest, number: str) -> HttpResponse:
    _require_responder(request)
    incident = _incident_or_404(request, number)
    form = f.RunbookForm(request.POST, prefix="runbook")
    if not form.is_valid():
        return _invalid(request, incident, "runbook", form)

    def work():
        services.runbook_apply(
            incident=incident, runbook=form.cleaned_data["runbook"], by=request.user
        )

    return _act(request, incident, work, form_key="runbook", form=form, done="Runbook applied.")


@login_required
@require_POST
def update_post(request: HttpRequest, number: str) -> HttpResponse:
    _require_responder(request)
    incident = _incident_or_404(request, number)
    form = f.UpdateForm(request.POST, prefix="update")
    if not form.is_valid():
        return _invalid(request, incident, "update", form)

    def work():
        services.update_post(incident=incident, by=request.user, **form.cleaned_data)

    return _act(request, incident, work, form_key="update", form=form, done="Update posted.")


@login_required
@require_POST
def attachment_upload(request: HttpRequest, number: str) -> HttpResponse:
    _require_responder(request)
    incident = _incident_or_404(request, number)
    form = f.AttachmentForm(request.POST, request.FILES, prefix="attachment")
    if not form.is_valid():
        return _invalid(request, incident, "attachment", form)

    def work():
        services.attachment_add(
            incident=incident, by=request.user, upload=form.cleaned_data["file"]
        )

    return _act(
        request, incident, work, form_key="attachment", form=form, done="Attachment uploaded."
    )


@login_required
@require_GET
def attachment_download(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    incident = _incident_or_404(request, number)
    attachment = get_object_or_404(incident.attachments, pk=attachment_id)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Profile -----------------------------------------------------------------------------


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {field: getattr(user, field) for field in services.PROFILE_FIELDS}
    form = f.ProfileForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if f.submit(form, lambda data: services.user_update_profile(user=user, **data)):
            messages.success(request, "Profile saved.")
            return redirect("profile")
        status = 400
    return render(request, "incidents/profile.html", {"form": form}, status=status)


class LoginView(auth_views.LoginView):
    form_class = f.LoginForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, code="throttled"):
            response.status_code = 429
        return response
