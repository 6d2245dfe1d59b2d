"""Every write of the postmortems app. Keyword-only, atomic, `<thing>_<action>`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from incidents.enums import EventKind, Priority
from incidents.exceptions import Conflict, TransitionNotAllowed
from incidents.models import Incident, TimelineEvent, User
from incidents.services import record_event
from postmortems import blameless
from postmortems.enums import (
    OPEN_ACTION_STATUSES,
    ActionStatus,
    FactorKind,
    PostmortemStatus,
    ReminderKind,
)
from postmortems.models import (
    EDITABLE_FIELDS,
    TEXT_SECTIONS,
    ActionItem,
    ContributingFactor,
    Postmortem,
    PostmortemRevision,
    PostmortemTransition,
    Reminder,
    TimelinePick,
)

logger = logging.getLogger(__name__)

# The events a fresh draft picks from the incident's timeline; the author adds the rest.
KEY_EVENT_KINDS = frozenset(
    {EventKind.CREATED, EventKind.TRANSITIONED, EventKind.PROMOTED, EventKind.PRIORITY_CHANGED}
)


def needs_postmortem(incident: Incident) -> bool:
    """Major incidents: P1, P2, or promoted by hand."""
    return incident.is_major or incident.priority in (Priority.P1, Priority.P2)


# --- Creating a draft -----------------------------------------------------------------


def _label_event(event: TimelineEvent) -> str:
    data = event.data or {}
    if event.kind == EventKind.TRANSITIONED:
        return f"Status {data.get('from', '?')} → {data.get('to', '?')}"
    if event.kind == EventKind.CREATED:
        return f"Incident opened ({data.get('source', 'web')})"
    if event.kind == EventKind.PROMOTED:
        return "Promoted to major incident"
    if event.kind == EventKind.PRIORITY_CHANGED:
        return "Priority changed"
    return ""


@transaction.atomic
def postmortem_create(*, incident: Incident, by: User | None) -> Postmortem:
    """A draft prefilled from the incident; refused if the incident already has one."""
    if Postmortem.objects.filter(incident=incident).exists():
        raise Conflict(f"{incident.number} already has a postmortem.")
    impact_lines = [
        f"{incident.get_priority_display()} on {incident.service or 'an unnamed service'}."
    ]
    postmortem = Postmortem.objects.create(
        incident=incident,
        title=incident.title,
        author=by,
        summary=incident.resolution_notes,
        impact_description=" ".join(impact_lines),
        users_affected=incident.users_affected,
        impact_started_at=incident.occurred_at or incident.created_at,
        impact_ended_at=incident.mitigated_at or incident.resolved_at,
        financial_impact=incident.financial_implications,
        security_impact=incident.security_implications,
        compliance_impact=incident.compliance_implications,
        detection=_detection_text(incident),
    )
    events = incident.timeline.filter(kind__in=KEY_EVENT_KINDS).order_by("created_at", "id")
    TimelinePick.objects.bulk_create(
        TimelinePick(postmortem=postmortem, event=e, annotation=_label_event(e)) for e in events
    )
    record_event(
        incident=incident,
        kind="postmortem_created",
        actor=by,
        data={"postmortem_id": postmortem.pk, "automatic": by is None},
    )
    return postmortem


def _detection_text(incident: Incident) -> str:
    found = incident.detected_at or incident.created_at
    text = f"Reported through {incident.source}."
    if incident.occurred_at and found >= incident.occurred_at:
        minutes = round((found - incident.occurred_at).total_seconds() / 60)
        text += f" Found {minutes} minutes after it began."
    return text


def postmortem_create_for_resolved(*, incident: Incident) -> Postmortem | None:
    """Called by the receiver in the resolving transaction: a draft for a major incident."""
    if not needs_postmortem(incident) or Postmortem.objects.filter(incident=incident).exists():
        return None
    return postmortem_create(incident=incident, by=None)


# --- Editing ---------------------------------------------------------------------------


def _locked(postmortem: Postmortem) -> Postmortem:
    return Postmortem.objects.select_for_update().get(pk=postmortem.pk)


def _refuse_if_published(postmortem: Postmortem) -> None:
    if postmortem.status == PostmortemStatus.PUBLISHED:
        raise Conflict(
            "This postmortem is published and read-only; a change to it is a new revision "
            "(POST .../revisions/ with a note)."
        )


def _apply(postmortem: Postmortem, changes: dict[str, Any]) -> list[str]:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unexpected postmortem fields: {sorted(unknown)}")
    changed = [f for f, v in changes.items() if getattr(postmortem, f) != v]
    for field in changed:
        setattr(postmortem, field, changes[field])
    if changed:
        postmortem.full_clean(exclude=["incident", "author"])
        if (
            postmortem.impact_started_at
            and postmortem.impact_ended_at
            and postmortem.impact_ended_at < postmortem.impact_started_at
        ):
            raise ValidationError({"impact_ended_at": "The impact cannot end before it starts."})
        postmortem.save()
    return changed


@transaction.atomic
def postmortem_update(*, postmortem: Postmortem, by: User | None, **changes: Any) -> Postmortem:
    postmortem = _locked(postmortem)
    _refuse_if_published(postmortem)
    _apply(postmortem, changes)
    return postmortem


def snapshot(postmortem: Postmortem) -> dict:
    """The content of a postmortem as a revision keeps it (JSON)."""
    content: dict[str, Any] = {}
    for field in EDITABLE_FIELDS:
        value = getattr(postmortem, field)
        content[field] = value.isoformat() if isinstance(value, datetime) else value
    content["factors"] = [
        {"kind": f.kind, "description": f.description, "is_root_cause": f.is_root_cause}
        for f in postmortem.factors.all()
    ]
    content["timeline"] = [
        {"event_id": p.event_id, "at": p.event.created_at.isoformat(), "annotation": p.annotation}
        for p in postmortem.picks.select_related("event")
    ]
    content["reviewers"] = sorted(u.get_username() for u in postmortem.reviewers.all())
    return content


@transaction.atomic
def postmortem_revise(
    *, postmortem: Postmortem, by: User | None, note: str, **changes: Any
) -> PostmortemRevision:
    """Edit a published postmortem: the change becomes revision N+1; earlier ones stay."""
    postmortem = _locked(postmortem)
    if postmortem.status != PostmortemStatus.PUBLISHED:
        raise Conflict("Only a published postmortem has revisions; edit the draft directly.")
    if not note.strip():
        raise ValidationError({"note": "Say what this revision changes and why."})
    changed = _apply(postmortem, changes)
    if not changed:
        raise ValidationError({"non_field_errors": ["Nothing changed."]})
    postmortem.revision += 1
    postmortem.save(update_fields=["revision", "updated_at"])
    return PostmortemRevision.objects.create(
        postmortem=postmortem,
        number=postmortem.revision,
        content=snapshot(postmortem),
        changed_fields=changed,
        note=note.strip(),
        by=by,
    )


# --- The state flow --------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    source: PostmortemStatus
    target: PostmortemStatus


TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(PostmortemStatus.DRAFT, PostmortemStatus.IN_REVIEW),
    "return": Transition(PostmortemStatus.IN_REVIEW, PostmortemStatus.DRAFT),
    "publish": Transition(PostmortemStatus.IN_REVIEW, PostmortemStatus.PUBLISHED),
}


def allowed_actions(postmortem: Postmortem) -> list[str]:
    return [name for name, t in TRANSITIONS.items() if postmortem.status == t.source]


@transaction.atomic
def postmortem_transition(
    *,
    postmortem: Postmortem,
    action: str,
    by: User | None,
    reviewers: list[User] | None = None,
    note: str = "",
) -> Postmortem:
    if action not in TRANSITIONS:
        raise ValidationError({"action": f"Choose one of: {', '.join(TRANSITIONS)}."})
    transition = TRANSITIONS[action]
    postmortem = _locked(postmortem)
    if postmortem.status != transition.source:
        raise TransitionNotAllowed(
            f"Cannot {action} this postmortem: it is {postmortem.get_status_display().lower()}, "
            f"and {action} is allowed only from {transition.source.label.lower()}."
        )
    now = timezone.now()
    if action == "submit":
        if reviewers:
            postmortem.reviewers.set(reviewers)
        if not postmortem.reviewers.exists():
            raise ValidationError({"reviewers": "Name at least one reviewer."})
        if not postmortem.summary.strip():
            raise ValidationError({"summary": "Write a summary before review."})
        postmortem.submitted_at = now
    if action == "publish":
        reviewer_ids = set(postmortem.reviewers.values_list("pk", flat=True))
        if by is not None and by.pk not in reviewer_ids and not by.is_manager:
            raise Conflict("Only a named reviewer (or a manager) publishes a postmortem.")
        postmortem.published_at = now
        postmortem.revision = 1
    previous = postmortem.status
    postmortem.status = transition.target
    postmortem.save()
    PostmortemTransition.objects.create(
        postmortem=postmortem, from_status=previous, to_status=transition.target, by=by, note=note
    )
    if action == "publish":
        PostmortemRevision.objects.create(
            postmortem=postmortem, number=1, content=snapshot(postmortem), by=by, note="Published"
        )
        record_event(
            incident=postmortem.incident,
            kind="postmortem_published",
            actor=by,
            data={"postmortem_id": postmortem.pk},
        )
    return postmortem


# --- Factors and timeline picks --------------------------------------------------------


@transaction.atomic
def factor_add(
    *,
    postmortem: Postmortem,
    by: User | None,
    kind: str,
    description: str,
    is_root_cause: bool = False,
) -> ContributingFactor:
    postmortem = _locked(postmortem)
    _refuse_if_published(postmortem)
    if kind not in FactorKind.values:
        raise ValidationError({"kind": f"Choose a kind: {', '.join(FactorKind.values)}."})
    if not description.strip():
        raise ValidationError({"description": "Describe the factor."})
    return ContributingFactor.objects.create(
        postmortem=postmortem,
        kind=kind,
        description=description.strip(),
        is_root_cause=is_root_cause,
        position=postmortem.factors.count(),
    )


@transaction.atomic
def factor_remove(*, factor: ContributingFactor, by: User | None) -> None:
    _refuse_if_published(_locked(factor.postmortem))
    factor.delete()


@transaction.atomic
def pick_add(
    *, postmortem: Postmortem, by: User | None, event: TimelineEvent, annotation: str = ""
) -> TimelinePick:
    postmortem = _locked(postmortem)
    _refuse_if_published(postmortem)
    if event.incident_id != postmortem.incident_id:
        raise ValidationError({"event": "Pick an event of this postmortem's incident."})
    if postmortem.picks.filter(event=event).exists():
        raise Conflict("This event is already on the postmortem's timeline.")
    return TimelinePick.objects.create(postmortem=postmortem, event=event, annotation=annotation)


@transaction.atomic
def pick_annotate(*, pick: TimelinePick, by: User | None, annotation: str) -> TimelinePick:
    _refuse_if_published(_locked(pick.postmortem))
    pick.annotation = annotation.strip()
    pick.save(update_fields=["annotation"])
    return pick


@transaction.atomic
def pick_remove(*, pick: TimelinePick, by: User | None) -> None:
    _refuse_if_published(_locked(pick.postmortem))
    pick.delete()


# --- The blameless check ---------------------------------------------------------------


def blameless_warnings(postmortem: Postmortem) -> list[blameless.BlameWarning]:
    incident = postmortem.incident
    people_ids = {incident.assignee_id, incident.opened_by_id, incident.reporter_id}
    people_ids |= set(incident.roles.values_list("user_id", flat=True))
    people_ids |= set(incident.timeline.values_list("actor_id", flat=True))
    people_ids |= set(postmortem.actions.values_list("owner_id", flat=True))
    people_ids |= set(postmortem.reviewers.values_list("pk", flat=True)) | {postmortem.author_id}
    names: list[str] = []
    for username, first, last in User.objects.filter(pk__in=people_ids - {None}).values_list(
        "username", "first_name", "last_name"
    ):
        names += [username, first, last, f"{first} {last}".strip()]
    sections = {f: getattr(postmortem, f) for f in TEXT_SECTIONS}
    for factor in postmortem.factors.all():
        sections[f"factor {factor.position + 1}"] = factor.description
    for pick in postmortem.picks.all():
        sections[f"timeline note {pick.pk}"] = pick.annotation
    return blameless.check(sections, names)


# --- Action items ----------------------------------------------------------------------

ACTION_FIELDS = ("title", "owner", "due_date", "priority", "external_url")


@transaction.atomic
def action_item_add(
    *, postmortem: Postmortem, by: User | None, title: str, **fields: Any
) -> ActionItem:
    unknown = set(fields) - set(ACTION_FIELDS)
    if unknown:
        raise TypeError(f"unexpected action item fields: {sorted(unknown)}")
    item = ActionItem(postmortem=postmortem, title=title.strip(), **fields)
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def action_item_update(
    *,
    item: ActionItem,
    by: User | None,
    status: str | None = None,
    wont_do_reason: str = "",
    **fields: Any,
) -> ActionItem:
    """Edit an item or move its status; "won't do" needs a reason. Allowed after publication."""
    unknown = set(fields) - set(ACTION_FIELDS)
    if unknown:
        raise TypeError(f"unexpected action item fields: {sorted(unknown)}")
    item = ActionItem.objects.select_for_update().get(pk=item.pk)
    for field, value in fields.items():
        setattr(item, field, value)
    if status is not None and status != item.status:
        if status not in ActionStatus.values:
            raise ValidationError({"status": f"Choose a status: {', '.join(ActionStatus.values)}."})
        if status == ActionStatus.WONT_DO and not wont_do_reason.strip():
            raise ValidationError({"wont_do_reason": "Say why it won't be done."})
        item.status = status
        item.wont_do_reason = wont_do_reason.strip() if status == ActionStatus.WONT_DO else ""
        item.completed_at = None if status in OPEN_ACTION_STATUSES else timezone.now()
    item.full_clean()
    item.save()
    return item


# --- Reminders (an outbox: rows first, a worker sends) ---------------------------------


def reminders_create_due(*, now: datetime | None = None) -> int:
    """Rows for overdue action items and for drafts still in draft N days after resolution.

    One per thing, recipient and day (a unique constraint), so the beat task may run as
    often as it likes. Returns how many rows it wrote.
    """
    now = now or timezone.now()
    today: date = timezone.localdate(now)
    rows: list[Reminder] = []
    overdue = ActionItem.objects.overdue(today).filter(owner__isnull=False)
    for item in overdue.only("pk", "postmortem_id", "owner_id"):
        rows.append(
            Reminder(
                kind=ReminderKind.ACTION_OVERDUE,
                postmortem_id=item.postmortem_id,
                action_item=item,
                recipient_id=item.owner_id,
                day=today,
            )
        )
    cutoff = now - timedelta(days=settings.POSTMORTEM_DRAFT_REMINDER_DAYS)
    stale = Postmortem.objects.filter(
        status=PostmortemStatus.DRAFT, incident__resolved_at__lt=cutoff
    ).select_related("incident")
    for postmortem in stale:
        recipient = (
            postmortem.author_id or postmortem.incident.assignee_id or _team_manager(postmortem)
        )
        if recipient:
            rows.append(
                Reminder(
                    kind=ReminderKind.DRAFT_STALE,
                    postmortem=postmortem,
                    recipient_id=recipient,
                    day=today,
                )
            )
    before = Reminder.objects.filter(day=today).count()
    Reminder.objects.bulk_create(rows, ignore_conflicts=True)
    return Reminder.objects.filter(day=today).count() - before


REMINDER_MAX_ATTEMPTS = 5


def reminders_deliver_unsent() -> int:
    """Send what is unsent; a failing mail server costs a retry next run, up to a limit."""
    sent = 0
    unsent = Reminder.objects.filter(sent_at__isnull=True, attempts__lt=REMINDER_MAX_ATTEMPTS)
    for reminder_id in unsent.values_list("pk", flat=True):
        try:
            sent += reminder_deliver(reminder_id=reminder_id)
        except Exception:  # smtplib and socket errors vary; the row stays for the next run
            logger.warning("Reminder %s not sent", reminder_id, exc_info=True)
    return sent


def _team_manager(postmortem: Postmortem) -> int | None:
    team = postmortem.incident.team
    return team.manager_id if team else None


def reminder_deliver(*, reminder_id: int) -> bool:
    """Claim one unsent reminder (compare-and-set on sent_at), then send its email.

    The claim commits before the mail leaves, so no I/O happens inside a transaction and
    two workers never both send it; a failed send gives the claim back for a retry.
    """
    claimed = Reminder.objects.filter(pk=reminder_id, sent_at__isnull=True).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    reminder = Reminder.objects.select_related(
        "recipient", "postmortem__incident", "action_item"
    ).get(pk=reminder_id)
    subject, body = reminder_message(reminder)
    try:
        if reminder.recipient.email:
            send_mail(subject, body, None, [reminder.recipient.email])
    except Exception:
        Reminder.objects.filter(pk=reminder_id).update(sent_at=None)
        raise
    return True


def reminder_message(reminder: Reminder) -> tuple[str, str]:
    postmortem = reminder.postmortem
    number = postmortem.incident.number
    link = f"/postmortems/{postmortem.pk}/"
    if reminder.kind == ReminderKind.ACTION_OVERDUE:
        item = reminder.action_item
        return (
            f"Overdue action item from {number}: {item.title}",
            f"“{item.title}” was due on {item.due_date:%Y-%m-%d} and is still "
            f"{item.get_status_display().lower()}.\n\nPostmortem: {link}\n"
            "Mark it done, move the date, or close it as won't do with a reason.",
        )
    days = settings.POSTMORTEM_DRAFT_REMINDER_DAYS
    return (
        f"Postmortem of {number} is still a draft",
        f"{number} was resolved more than {days} days ago and its postmortem is still a "
        f"draft.\n\nPostmortem: {link}\nFinish it and send it for review.",
    )
