"""Every write to incidents goes through these functions (DESIGN.md, "The event stream").

Each one runs in one transaction: it locks the incident row, changes it, and records a
TimelineEvent, whose signal lets the other apps add their rows in the same transaction.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from incidents.enums import (
    OPEN_STATUSES,
    SINGLE_HOLDER_ROLES,
    CancelReason,
    EventKind,
    HoldReason,
    Priority,
    PublicStatus,
    ResolutionCode,
    RoleKind,
    Status,
    Visibility,
)
from incidents.events import incident_event
from incidents.exceptions import Conflict, TooLarge, TransitionNotAllowed
from incidents.models import (
    Attachment,
    Incident,
    IncidentRole,
    PriorityMatrixEntry,
    Runbook,
    Task,
    Team,
    TimelineEvent,
    Update,
    User,
)

# ServiceNow's default matrix; used when an admin has removed a cell from the table.
DEFAULT_MATRIX = {
    (1, 1): 1, (1, 2): 2, (1, 3): 3,
    (2, 1): 2, (2, 2): 3, (2, 3): 4,
    (3, 1): 3, (3, 2): 4, (3, 3): 5,
}  # fmt: skip

DETAIL_FIELDS = (
    "title",
    "description",
    "error_codes",
    "reporter_name",
    "reporter_email",
    "occurred_at",
    "detected_at",
    "service",
    "category",
    "users_affected",
    "financial_implications",
    "security_implications",
    "compliance_implications",
    "war_room_url",
    "is_private",
)

UNSET: Any = object()


def record_event(
    *,
    incident: Incident,
    kind: str,
    actor: User | None,
    data: dict | None = None,
    actor_name: str = "",
) -> TimelineEvent:
    event = TimelineEvent.objects.create(
        incident=incident,
        kind=kind,
        actor=actor,
        actor_name=actor_name or (actor.get_username() if actor else "Vigil"),
        data=data or {},
    )
    announce_event(event=event)
    return event


def announce_event(*, event: TimelineEvent) -> None:
    """Send `incident_event` for a written event: record_event's, or one written by a
    statement of its own (integrations' one-statement alert repeat)."""
    incident_event.send(sender=TimelineEvent, event=event)


def priority_for(*, impact: int, urgency: int) -> int:
    cell = PriorityMatrixEntry.objects.filter(impact=impact, urgency=urgency)
    return cell.values_list("priority", flat=True).first() or DEFAULT_MATRIX[(impact, urgency)]


def _locked(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident.pk)


def _refuse_if_final(incident: Incident) -> None:
    if incident.status in (Status.CLOSED, Status.CANCELLED):
        raise Conflict(f"{incident.number} is {incident.status}; it can no longer be changed.")


def _label(value: Any) -> Any:
    """How a field value is written into timeline data: JSON-safe and readable."""
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _diff(incident: Incident, changes: dict[str, Any]) -> dict[str, list]:
    return {
        field: [_label(getattr(incident, field)), _label(value)]
        for field, value in changes.items()
        if getattr(incident, field) != value
    }


def _apply_changes(
    incident: Incident, changes: dict[str, Any], *, by: User | None, kind: str, **data: Any
) -> bool:
    """Apply what differs, validate, save and record it as one event; False if nothing did."""
    diff = _diff(incident, changes)
    if not diff:
        return False
    for field, value in changes.items():
        setattr(incident, field, value)
    incident.full_clean()
    incident.save()
    record_event(incident=incident, kind=kind, actor=by, data={"changes": diff, **data})
    return True


# --- Logging and classification -------------------------------------------------------


@transaction.atomic
def incident_create(
    *,
    by: User | None,
    title: str,
    source: str = "web",
    actor_name: str = "",
    impact: int = 2,
    urgency: int = 2,
    priority: int | None = None,
    priority_override_reason: str = "",
    is_major: bool = False,
    team: Team | None = None,
    assignee: User | None = None,
    reporter: User | None = None,
    **details: Any,
) -> Incident:
    unknown = set(details) - set(DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"incident_create() got unexpected fields: {sorted(unknown)}")
    matrix_priority = _validated_priority(
        impact=impact, urgency=urgency, priority=priority, reason=priority_override_reason
    )
    service = details.get("service")
    incident = Incident(
        title=title,
        source=source,
        opened_by=by,
        reporter=reporter or (by if not details.get("reporter_name") else None),
        impact=impact,
        urgency=urgency,
        priority=priority or matrix_priority,
        priority_override_reason=priority_override_reason if priority else "",
        team=team or (service.team if service else None),
        assignee=assignee,
        **details,
    )
    incident.is_major = is_major or incident.priority == Priority.P1
    incident.full_clean()
    incident.save()
    record_event(
        incident=incident,
        kind=EventKind.CREATED,
        actor=by,
        actor_name=actor_name,
        data={
            "title": incident.title,
            "source": source,
            "priority": incident.priority,
            "is_major": incident.is_major,
        },
    )
    for runbook in _matching_runbooks(incident):
        _apply_runbook(incident=incident, runbook=runbook, by=by, actor_name=actor_name)
    return incident


def _validated_priority(*, impact: int, urgency: int, priority: int | None, reason: str) -> int:
    errors = {}
    if impact not in (1, 2, 3):
        errors["impact"] = "Impact must be 1 (high), 2 (medium) or 3 (low)."
    if urgency not in (1, 2, 3):
        errors["urgency"] = "Urgency must be 1 (high), 2 (medium) or 3 (low)."
    if priority is not None and priority not in Priority.values:
        errors["priority"] = "Priority must be between 1 and 5."
    if errors:
        raise ValidationError(errors)
    matrix_priority = priority_for(impact=impact, urgency=urgency)
    if priority is not None and priority != matrix_priority and not reason.strip():
        raise ValidationError(
            {
                "priority_override_reason": (
                    f"The matrix gives P{matrix_priority} for impact {impact} and urgency "
                    f"{urgency}; overriding it to P{priority} needs a reason."
                )
            }
        )
    return matrix_priority


@transaction.atomic
def incident_update_details(*, incident: Incident, by: User | None, **changes: Any) -> Incident:
    unknown = set(changes) - set(DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"incident_update_details() got unexpected fields: {sorted(unknown)}")
    incident = _locked(incident)
    _refuse_if_final(incident)
    _apply_changes(incident, changes, by=by, kind=EventKind.UPDATED)
    return incident


@transaction.atomic
def incident_reclassify(
    *,
    incident: Incident,
    by: User | None,
    impact: int | None = None,
    urgency: int | None = None,
    priority: int | None = None,
    priority_override_reason: str = "",
) -> Incident:
    """Change impact or urgency (priority follows the matrix) or override the priority."""
    reason = priority_override_reason
    incident = _locked(incident)
    _refuse_if_final(incident)
    impact = incident.impact if impact is None else impact
    urgency = incident.urgency if urgency is None else urgency
    matrix_priority = _validated_priority(
        impact=impact, urgency=urgency, priority=priority, reason=reason
    )
    overridden = priority is not None and priority != matrix_priority
    new_priority = priority if overridden else matrix_priority
    became_major = new_priority == Priority.P1 and not incident.is_major
    changes = {
        "impact": impact,
        "urgency": urgency,
        "priority": new_priority,
        "priority_override_reason": reason.strip() if overridden else "",
        "is_major": incident.is_major or became_major,
    }
    changed = _apply_changes(
        incident, changes, by=by, kind=EventKind.PRIORITY_CHANGED, reason=reason.strip()
    )
    if changed and became_major:
        record_event(
            incident=incident, kind=EventKind.PROMOTED, actor=by, data={"reason": "Priority P1"}
        )
    return incident


@transaction.atomic
def incident_promote(*, incident: Incident, by: User | None, reason: str = "") -> Incident:
    incident = _locked(incident)
    _refuse_if_final(incident)
    if incident.is_major:
        raise Conflict(f"{incident.number} is already a major incident.")
    incident.is_major = True
    incident.save(update_fields=["is_major", "updated_at"])
    record_event(incident=incident, kind=EventKind.PROMOTED, actor=by, data={"reason": reason})
    return incident


@transaction.atomic
def incident_assign(
    *,
    incident: Incident,
    by: User | None,
    team: Team | None = UNSET,
    assignee: User | None = UNSET,
) -> Incident:
    """Assign or reassign; moving to another team is functional escalation."""
    incident = _locked(incident)
    _refuse_if_final(incident)
    changes = {}
    if team is not UNSET:
        changes["team"] = team
        # The old assignee stays only if they are also in the new team.
        if (
            assignee is UNSET
            and incident.assignee_id
            and team is not None
            and not team.members.filter(pk=incident.assignee_id).exists()
        ):
            changes["assignee"] = None
    if assignee is not UNSET:
        changes["assignee"] = assignee
    team_changed = "team" in changes and getattr(changes["team"], "pk", None) != incident.team_id
    _apply_changes(incident, changes, by=by, kind=EventKind.ASSIGNED, team_changed=team_changed)
    return incident


CLASSIFICATION_FIELDS = ("impact", "urgency", "priority", "priority_override_reason")


@transaction.atomic
def incident_edit(*, incident: Incident, by: User | None, **changes: Any) -> Incident:
    """One edit of several kinds (an API PATCH): each part is logged as its own event."""
    classification = {f: changes.pop(f) for f in CLASSIFICATION_FIELDS if f in changes}
    assignment = {f: changes.pop(f) for f in ("team", "assignee") if f in changes}
    promote = changes.pop("is_major", False)
    if changes:
        incident = incident_update_details(incident=incident, by=by, **changes)
    if classification:
        incident = incident_reclassify(incident=incident, by=by, **classification)
    if assignment:
        incident = incident_assign(incident=incident, by=by, **assignment)
    if promote and not incident.is_major:
        incident = incident_promote(incident=incident, by=by)
    return incident


# --- Lifecycle -------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: Status


TRANSITIONS: dict[str, Transition] = {
    "acknowledge": Transition(frozenset({Status.TRIGGERED}), Status.ACKNOWLEDGED),
    "investigate": Transition(
        frozenset({Status.TRIGGERED, Status.ACKNOWLEDGED, Status.MITIGATED, Status.ON_HOLD}),
        Status.INVESTIGATING,
    ),
    "mitigate": Transition(
        frozenset({Status.TRIGGERED, Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.ON_HOLD}),
        Status.MITIGATED,
    ),
    "hold": Transition(
        frozenset({Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.MITIGATED}), Status.ON_HOLD
    ),
    "resolve": Transition(OPEN_STATUSES, Status.RESOLVED),
    "reopen": Transition(frozenset({Status.RESOLVED}), Status.INVESTIGATING),
    "close": Transition(frozenset({Status.RESOLVED}), Status.CLOSED),
    "cancel": Transition(OPEN_STATUSES, Status.CANCELLED),
}


def allowed_actions(incident: Incident) -> list[str]:
    return [name for name, t in TRANSITIONS.items() if incident.status in t.sources]


@transaction.atomic
def incident_transition(
    *,
    incident: Incident,
    action: str,
    by: User | None,
    reason: str = "",
    resolution_code: str = "",
    notes: str = "",
    duplicate_of: Incident | None = None,
) -> Incident:
    transition = TRANSITIONS[action]
    incident = _locked(incident)
    if incident.status not in transition.sources:
        allowed_from = ", ".join(sorted(transition.sources))
        raise TransitionNotAllowed(
            f"Cannot {action} {incident.number}: it is {incident.status}, "
            f"and {action} is allowed only from {allowed_from}."
        )
    if (
        incident.is_major
        and incident.status == Status.TRIGGERED
        and action != "cancel"
        and not incident.roles.filter(kind=RoleKind.COMMANDER).exists()
    ):
        raise TransitionNotAllowed(
            f"{incident.number} is a major incident: assign an incident commander "
            "before it leaves triggered."
        )
    previous = incident.status
    details = _TRANSITION_RULES.get(action, _no_rule)(
        incident,
        by,
        reason=reason,
        resolution_code=resolution_code,
        notes=notes.strip(),
        duplicate_of=duplicate_of,
    )
    now = timezone.now()
    incident.status = transition.target
    if previous == Status.ON_HOLD:
        incident.hold_reason = ""
    if transition.target in (Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.MITIGATED):
        incident.acknowledged_at = incident.acknowledged_at or now
    if transition.target in (Status.MITIGATED, Status.RESOLVED):
        # Resolving implies mitigation, so MTTM exists for every resolved incident.
        incident.mitigated_at = incident.mitigated_at or now
    if transition.target == Status.RESOLVED:
        incident.resolved_at = now
    if transition.target == Status.CLOSED:
        incident.closed_at = now
    incident.save()
    record_event(
        incident=incident,
        kind=EventKind.TRANSITIONED,
        actor=by,
        data={"action": action, "from": previous, "to": transition.target, **details},
    )
    return incident


def _no_rule(incident: Incident, by: User | None, **_: Any) -> dict:
    return {}


def _hold(incident: Incident, by: User | None, *, reason: str, **_: Any) -> dict:
    if reason not in HoldReason.values:
        raise ValidationError({"reason": f"Choose a hold reason: {', '.join(HoldReason.values)}."})
    incident.hold_reason = reason
    return {"reason": reason}


def _resolve(
    incident: Incident, by: User | None, *, resolution_code: str, notes: str, **_: Any
) -> dict:
    errors = {}
    if resolution_code not in ResolutionCode.values:
        errors["resolution_code"] = f"Choose a resolution code: {', '.join(ResolutionCode.values)}."
    if not notes:
        errors["notes"] = "Say how it was resolved."
    if errors:
        raise ValidationError(errors)
    incident.resolution_code = resolution_code
    incident.resolution_notes = notes
    return {"resolution_code": resolution_code, "notes": notes}


def _reopen(incident: Incident, by: User | None, *, notes: str, **_: Any) -> dict:
    # The previous resolution stays on the timeline; the incident carries the current one.
    incident.reopen_count += 1
    incident.resolved_at = None
    incident.resolution_code = ""
    incident.resolution_notes = ""
    return {"notes": notes, "reopen_count": incident.reopen_count}


def _close(incident: Incident, by: User | None, **_: Any) -> dict:
    if by is None:
        return {"auto_closed": True}
    if by.pk == incident.reporter_id:
        return {}
    if by.is_manager:
        return {"on_behalf_of_reporter": True}
    raise PermissionDenied(
        "Only the reporter confirms a resolution; a manager may close on their behalf."
    )


def _cancel(
    incident: Incident,
    by: User | None,
    *,
    reason: str,
    duplicate_of: Incident | None,
    notes: str,
    **_: Any,
) -> dict:
    if reason not in CancelReason.values:
        raise ValidationError({"reason": f"Choose a reason: {', '.join(CancelReason.values)}."})
    if reason == CancelReason.DUPLICATE:
        if duplicate_of is None:
            raise ValidationError({"duplicate_of": "Name the incident this one duplicates."})
        if duplicate_of.pk == incident.pk:
            raise ValidationError({"duplicate_of": "An incident cannot duplicate itself."})
    elif duplicate_of is not None:
        raise ValidationError({"duplicate_of": "Only a duplicate names another incident."})
    incident.cancel_reason = reason
    incident.duplicate_of = duplicate_of
    return {
        "reason": reason,
        "duplicate_of": duplicate_of.number if duplicate_of else None,
        "notes": notes,
    }


_TRANSITION_RULES = {
    "hold": _hold,
    "resolve": _resolve,
    "reopen": _reopen,
    "close": _close,
    "cancel": _cancel,
}


def incidents_close_stale(*, now: datetime | None = None) -> tuple[int, bool]:
    """Close a batch of resolved incidents, oldest first, whose reporter has not confirmed
    within the auto-close period; returns how many it closed and whether more may wait."""
    limit = settings.INCIDENT_AUTO_CLOSE_BATCH
    cutoff = (now or timezone.now()) - timedelta(days=settings.INCIDENT_AUTO_CLOSE_DAYS)
    stale = Incident.objects.filter(status=Status.RESOLVED, resolved_at__lt=cutoff)
    batch = list(stale.order_by("resolved_at").only("pk")[:limit])
    closed = 0
    for incident in batch:
        try:
            incident_transition(incident=incident, action="close", by=None)
        except TransitionNotAllowed:
            continue  # reopened or closed by someone else since the query
        closed += 1
    return closed, len(batch) == limit


# --- Roles, tasks, runbooks -------------------------------------------------------------


@transaction.atomic
def role_assign(*, incident: Incident, kind: str, user: User, by: User | None) -> IncidentRole:
    incident = _locked(incident)
    _refuse_if_final(incident)
    if kind not in RoleKind.values:
        raise ValidationError({"kind": f"Choose a role: {', '.join(RoleKind.values)}."})
    if not user.is_active:
        raise ValidationError({"user": "This user is disabled."})
    previous = None
    if kind in SINGLE_HOLDER_ROLES:
        current = incident.roles.filter(kind=kind).select_related("user").first()
        if current and current.user_id == user.pk:
            return current
        if current:
            previous = current.user.get_username()
            current.delete()
    elif incident.roles.filter(kind=kind, user=user).exists():
        raise Conflict(f"{user.get_username()} is already a {kind} on {incident.number}.")
    role = IncidentRole.objects.create(incident=incident, kind=kind, user=user)
    record_event(
        incident=incident,
        kind=EventKind.ROLE_ASSIGNED,
        actor=by,
        data={"role": kind, "user": user.get_username(), "replaced": previous},
    )
    return role


@transaction.atomic
def role_remove(*, role: IncidentRole, by: User | None) -> None:
    incident = _locked(role.incident)
    _refuse_if_final(incident)
    role.delete()
    record_event(
        incident=incident,
        kind=EventKind.ROLE_REMOVED,
        actor=by,
        data={"role": role.kind, "user": role.user.get_username()},
    )


@transaction.atomic
def task_add(
    *,
    incident: Incident,
    by: User | None,
    title: str,
    assignee: User | None = None,
    due_at: datetime | None = None,
) -> Task:
    incident = _locked(incident)
    _refuse_if_final(incident)
    position = incident.tasks.count()
    task = Task(incident=incident, title=title, assignee=assignee, due_at=due_at, position=position)
    task.full_clean()
    task.save()
    record_event(incident=incident, kind=EventKind.TASK_ADDED, actor=by, data={"task": task.title})
    return task


@transaction.atomic
def task_update(*, task: Task, by: User | None, **changes: Any) -> Task:
    unknown = set(changes) - {"title", "assignee", "done", "due_at"}
    if unknown:
        raise TypeError(f"task_update() got unexpected fields: {sorted(unknown)}")
    incident = _locked(task.incident)
    _refuse_if_final(incident)
    task = Task.objects.get(pk=task.pk)
    diff = {f: [_label(getattr(task, f)), _label(v)] for f, v in changes.items()
            if getattr(task, f) != v}  # fmt: skip
    if not diff:
        return task
    for field, value in changes.items():
        setattr(task, field, value)
    if "done" in diff:
        task.done_at = timezone.now() if task.done else None
    task.full_clean()
    task.save()
    record_event(
        incident=incident,
        kind=EventKind.TASK_CHANGED,
        actor=by,
        data={"task": task.title, "changes": diff},
    )
    return task


def _matching_runbooks(incident: Incident) -> list[Runbook]:
    if not (incident.service_id or incident.category_id):
        return []
    match = Q()
    if incident.service_id:
        match |= Q(services=incident.service_id)
    if incident.category_id:
        match |= Q(categories=incident.category_id)
        if incident.category.parent_id:
            match |= Q(categories=incident.category.parent_id)
    return list(Runbook.objects.filter(match).distinct().prefetch_related("steps"))


def _apply_runbook(
    *, incident: Incident, runbook: Runbook, by: User | None, actor_name: str = ""
) -> list[Task]:
    start = incident.tasks.count()
    tasks = Task.objects.bulk_create(
        Task(incident=incident, title=step.title, runbook=runbook, position=start + i)
        for i, step in enumerate(runbook.steps.all())
    )
    record_event(
        incident=incident,
        kind=EventKind.RUNBOOK_APPLIED,
        actor=by,
        actor_name=actor_name,
        data={"runbook": runbook.name, "tasks": len(tasks)},
    )
    return tasks


@transaction.atomic
def runbook_apply(*, incident: Incident, runbook: Runbook, by: User | None) -> list[Task]:
    incident = _locked(incident)
    _refuse_if_final(incident)
    if incident.tasks.filter(runbook=runbook).exists():
        raise Conflict(f"Runbook “{runbook.name}” is already applied to {incident.number}.")
    return _apply_runbook(incident=incident, runbook=runbook, by=by)


# --- Updates and attachments -------------------------------------------------------------


@transaction.atomic
def update_post(
    *,
    incident: Incident,
    by: User | None,
    visibility: str,
    body: str,
    status: str = "",
    components: list[dict] | None = None,
) -> Update:
    """Post an update. A public one may carry a status page `status` and `components`
    (`[{"component": id, "status": ...}]`), checked here for shape only: the status page
    app applies them from the event, in this transaction, and may still refuse them."""
    incident = _locked(incident)
    if visibility not in Visibility.values:
        raise ValidationError(
            {"visibility": f"Choose a visibility: {', '.join(Visibility.values)}."}
        )
    if not body.strip():
        raise ValidationError({"body": "An update needs some text."})
    _validate_public_fields(visibility=visibility, status=status, components=components)
    update = Update.objects.create(
        incident=incident, author=by, visibility=visibility, status=status, body=body.strip()
    )
    data = {"update_id": update.pk, "visibility": visibility, "body": update.body}
    if visibility == Visibility.PUBLIC:
        data |= {"status": status, "components": components or []}
    record_event(incident=incident, kind=EventKind.UPDATE_POSTED, actor=by, data=data)
    return update


def _validate_public_fields(*, visibility: str, status: str, components: list | None) -> None:
    if visibility != Visibility.PUBLIC:
        if status:
            raise ValidationError({"status": "Only a public update carries a status."})
        if components:
            raise ValidationError({"components": "Only a public update changes components."})
        return
    if status and status not in PublicStatus.values:
        raise ValidationError({"status": f"Choose a status: {', '.join(PublicStatus.values)}."})
    shape = 'Give a list of {"component": id, "status": status} objects.'
    if components is None:
        return
    if not isinstance(components, list):
        raise ValidationError({"components": shape})
    for item in components:
        if (
            not isinstance(item, dict)
            or set(item) != {"component", "status"}
            or not isinstance(item["status"], str)
            or isinstance(item["component"], bool)
            or not isinstance(item["component"], int | str)
        ):
            raise ValidationError({"components": shape})


# What an attachment may be; files that claim a binary type must start with its signature.
ATTACHMENT_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
    "application/gzip": (b"\x1f\x8b",),
    "application/zip": (b"PK\x03\x04",),
}
ATTACHMENT_TEXT_TYPES = frozenset(
    {"text/plain", "text/csv", "application/json", "application/x-ndjson", "text/x-log"}
)


def _attachment_content_type(upload: UploadedFile) -> str:
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if declared in ("", "application/octet-stream"):
        declared = (mimetypes.guess_type(upload.name or "")[0] or "").lower()
    if declared.endswith("log") or (upload.name or "").endswith(".log"):
        declared = declared if declared in ATTACHMENT_TEXT_TYPES else "text/plain"
    head = upload.read(2048)
    upload.seek(0)
    if declared in ATTACHMENT_SIGNATURES:
        if not head.startswith(ATTACHMENT_SIGNATURES[declared]):
            raise ValidationError({"file": f"The file's content is not {declared}."})
        return declared
    if declared in ATTACHMENT_TEXT_TYPES:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            if error.start < len(head) - 4:  # a multi-byte character cut at 2048 is fine
                raise ValidationError({"file": "A text file must be UTF-8."}) from error
        return declared
    allowed = sorted(ATTACHMENT_TEXT_TYPES | set(ATTACHMENT_SIGNATURES))
    kind = declared or "unknown"
    raise ValidationError(
        {"file": f"Files of type {kind} are not accepted: use {', '.join(allowed)}."}
    )


def attachment_add(*, incident: Incident, by: User | None, upload: UploadedFile) -> Attachment:
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise TooLarge(f"Attachments are limited to {limit // (1024 * 1024)} MB.")
    content_type = _attachment_content_type(upload)
    filename = (upload.name or "attachment").rsplit("/", 1)[-1][:200]
    attachment = Attachment(
        incident=incident,
        filename=filename,
        content_type=content_type,
        size=upload.size,
        uploaded_by=by,
    )
    # Written before the transaction (the disk is not held under the incident's lock) and
    # deleted if anything in it fails, so no file outlives a row that was never committed.
    attachment.file.save(filename, upload, save=False)
    try:
        with transaction.atomic():
            attachment.incident = _locked(incident)
            attachment.save()
            record_event(
                incident=attachment.incident,
                kind=EventKind.ATTACHMENT_ADDED,
                actor=by,
                data={"attachment_id": attachment.pk, "filename": filename, "size": upload.size},
            )
    except BaseException:
        attachment.file.delete(save=False)
        raise
    return attachment


# --- People ----------------------------------------------------------------------------

PROFILE_FIELDS = ("first_name", "last_name", "email", "phone", "time_zone")


@transaction.atomic
def user_update_profile(*, user: User, **changes: Any) -> User:
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"user_update_profile() got unexpected fields: {sorted(unknown)}")
    user = User.objects.select_for_update().get(pk=user.pk)
    for field, value in changes.items():
        setattr(user, field, value)
    user.full_clean(exclude=["password", "username"])
    user.save(update_fields=list(changes))
    return user
