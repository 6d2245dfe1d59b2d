"""Pages of the postmortems app: server-rendered, every write through a service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from incidents.enums import UserRole
from incidents.exceptions import Conflict
from incidents.models import Incident
from postmortems import blameless, services, slo
from postmortems.api import visible_postmortems
from postmortems.enums import ActionStatus, PostmortemStatus
from postmortems.export import to_markdown
from postmortems.forms import (
    ActionItemForm,
    ActionStatusForm,
    FactorForm,
    PostmortemForm,
    RevisionForm,
    SubmitForm,
)
from postmortems.models import ActionItem, Postmortem, TimelinePick


def _postmortem(request, pk: int) -> Postmortem:
    qs = (
        visible_postmortems(request.user)
        .select_related("incident__service", "incident__team", "author")
        .prefetch_related(
            "reviewers",
            "factors",
            Prefetch("picks", TimelinePick.objects.select_related("event")),
            Prefetch("actions", ActionItem.objects.select_related("owner")),
            "transitions__by",
        )
    )
    return get_object_or_404(qs, pk=pk)


def _require_responder(request) -> None:
    if not request.user.has_role(UserRole.RESPONDER):
        raise PermissionDenied("Only responders edit postmortems.")


def _error_text(error: ValidationError | Conflict) -> str:
    if isinstance(error, ValidationError) and hasattr(error, "message_dict"):
        return " ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
    return " ".join(error.messages) if isinstance(error, ValidationError) else str(error)


@login_required
def postmortem_list(request):
    status = request.GET.get("status", "")
    qs = visible_postmortems(request.user).select_related("incident", "author")
    if status in PostmortemStatus.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "postmortems/list.html",
        {"postmortems": qs[:200], "status": status, "statuses": PostmortemStatus.choices},
    )


@login_required
def postmortem_detail(request, pk: int):
    postmortem = _postmortem(request, pk)
    form = PostmortemForm(instance=postmortem)
    if request.method == "POST":
        _require_responder(request)
        form = PostmortemForm(request.POST, instance=Postmortem.objects.get(pk=pk))
        if form.is_valid():
            changes = {f: form.cleaned_data[f] for f in form.changed_data}
            try:
                services.postmortem_update(postmortem=postmortem, by=request.user, **changes)
            except (ValidationError, Conflict) as error:
                messages.error(request, _error_text(error))
            else:
                messages.success(request, "Saved.")
                return redirect("postmortems:detail", pk=pk)
    warnings = services.blameless_warnings(postmortem)
    return render(
        request,
        "postmortems/detail.html",
        {
            "postmortem": postmortem,
            "incident": postmortem.incident,
            "form": form,
            # Own id prefixes: the action item's "title" would otherwise share the
            # postmortem form's id, and its label would point at the wrong field.
            "submit_form": SubmitForm(
                initial={"reviewers": postmortem.reviewers.all()}, auto_id="review_%s"
            ),
            "factor_form": FactorForm(auto_id="factor_%s"),
            "action_form": ActionItemForm(auto_id="action_%s"),
            "warnings": warnings,
            "slo_impact": slo.postmortem_impact(postmortem),
            "guidance": blameless.GUIDANCE,
            "allowed": services.allowed_actions(postmortem),
            "statuses": ActionStatus.choices,
        },
    )


@login_required
@require_POST
def postmortem_transition(request, pk: int, action: str):
    _require_responder(request)
    postmortem = _postmortem(request, pk)
    reviewers = None
    if action == "submit":
        form = SubmitForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Name at least one reviewer.")
            return redirect("postmortems:detail", pk=pk)
        reviewers = list(form.cleaned_data["reviewers"])
    try:
        services.postmortem_transition(
            postmortem=postmortem,
            action=action,
            by=request.user,
            reviewers=reviewers,
            note=request.POST.get("note", ""),
        )
    except (ValidationError, Conflict) as error:
        messages.error(request, _error_text(error))
    else:
        done = {
            "submit": "Sent for review.",
            "return": "Returned to draft.",
            "publish": "Published.",
        }
        messages.success(request, done.get(action, "Done."))
    return redirect("postmortems:detail", pk=pk)


@login_required
def postmortem_revise(request, pk: int):
    postmortem = _postmortem(request, pk)
    if postmortem.status != PostmortemStatus.PUBLISHED:
        return redirect("postmortems:detail", pk=pk)
    form = RevisionForm(instance=postmortem)
    if request.method == "POST":
        _require_responder(request)
        form = RevisionForm(request.POST, instance=Postmortem.objects.get(pk=pk))
        if form.is_valid():
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f != "note"}
            try:
                revision = services.postmortem_revise(
                    postmortem=postmortem,
                    by=request.user,
                    note=form.cleaned_data["note"],
                    **changes,
                )
            except (ValidationError, Conflict) as error:
                messages.error(request, _error_text(error))
            else:
                messages.success(request, f"Saved as revision {revision.number}.")
                return redirect("postmortems:revisions", pk=pk)
    return render(request, "postmortems/revise.html", {"postmortem": postmortem, "form": form})


@login_required
def postmortem_revisions(request, pk: int):
    postmortem = _postmortem(request, pk)
    revisions = postmortem.revisions.select_related("by")
    return render(
        request, "postmortems/revisions.html", {"postmortem": postmortem, "revisions": revisions}
    )


@login_required
def postmortem_print(request, pk: int):
    postmortem = _postmortem(request, pk)
    return render(
        request,
        "postmortems/print.html",
        {"postmortem": postmortem, "slo_impact": slo.postmortem_impact(postmortem)},
    )


@login_required
def postmortem_markdown(request, pk: int):
    postmortem = _postmortem(request, pk)
    response = HttpResponse(to_markdown(postmortem), content_type="text/markdown; charset=utf-8")
    filename = f"postmortem-{postmortem.incident.number}.md"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def postmortem_start(request, number: str):
    _require_responder(request)
    pk = Incident.pk_from_number(number)
    incident = get_object_or_404(Incident.objects.visible_to(request.user), pk=pk)
    try:
        postmortem = services.postmortem_create(incident=incident, by=request.user)
    except Conflict:
        postmortem = incident.postmortem
    return redirect("postmortems:detail", pk=postmortem.pk)


@login_required
@require_POST
def factor_add(request, pk: int):
    _require_responder(request)
    postmortem = _postmortem(request, pk)
    form = FactorForm(request.POST)
    if form.is_valid():
        try:
            services.factor_add(postmortem=postmortem, by=request.user, **form.cleaned_data)
        except (ValidationError, Conflict) as error:
            messages.error(request, _error_text(error))
    else:
        messages.error(request, "Choose a kind and describe the factor.")
    return redirect("postmortems:detail", pk=pk)


@login_required
@require_POST
def factor_remove(request, pk: int, factor_pk: int):
    _require_responder(request)
    postmortem = _postmortem(request, pk)
    factor = get_object_or_404(postmortem.factors, pk=factor_pk)
    try:
        services.factor_remove(factor=factor, by=request.user)
    except Conflict as error:
        messages.error(request, str(error))
    return redirect("postmortems:detail", pk=pk)


@login_required
@require_POST
def pick_annotate(request, pk: int, pick_pk: int):
    _require_responder(request)
    postmortem = _postmortem(request, pk)
    pick = get_object_or_404(postmortem.picks, pk=pick_pk)
    try:
        if "remove" in request.POST:
            services.pick_remove(pick=pick, by=request.user)
        else:
            services.pick_annotate(
                pick=pick, by=request.user, annotation=request.POST.get("annotation", "")
            )
    except Conflict as error:
        messages.error(request, str(error))
    return redirect("postmortems:detail", pk=pk)


@login_required
@require_POST
def action_add(request, pk: int):
    _require_responder(request)
    postmortem = _postmortem(request, pk)
    form = ActionItemForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        services.action_item_add(postmortem=postmortem, by=request.user, **data)
    else:
        messages.error(request, " ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect("postmortems:detail", pk=pk)


@login_required
@require_POST
def action_status(request, item_pk: int):
    _require_responder(request)
    visible = ActionItem.objects.filter(
        postmortem__in=visible_postmortems(request.user).values("pk")
    )
    item = get_object_or_404(visible, pk=item_pk)
    form = ActionStatusForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        services.action_item_update(item=item, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("postmortems:actions")


@login_required
def action_list(request):
    qs = ActionItem.objects.filter(
        postmortem__in=visible_postmortems(request.user).values("pk")
    ).select_related("owner", "postmortem__incident")
    view = request.GET.get("view", "open")
    today = timezone.localdate()
    if view == "overdue":
        qs = qs.overdue(today)
    elif view == "mine":
        qs = qs.filter(owner=request.user).open()
    elif view == "open":
        qs = qs.open()
    return render(
        request,
        "postmortems/actions.html",
        {
            "items": qs.order_by("due_date", "id")[:500],
            "view": view,
            "views": [("open", "Open"), ("overdue", "Overdue"), ("mine", "Mine"), ("all", "All")],
            "statuses": ActionStatus.choices,
            "today": today,
        },
    )
