"""Small template helpers of the responder's pages."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timezone import localtime

from incidents.enums import EventKind, Priority, RoleKind, Status, Visibility
from incidents.models import TimelineEvent

register = template.Library()

FIELD_NAMES = {"war_room_url": "war room link", "is_private": "private", "is_major": "major"}
# Labels by dict lookup: an enum's `.values` builds a new list on every call, and a list page
# asks hundreds of times.
LABELS = {enum: dict(enum.choices) for enum in (EventKind, Priority, RoleKind, Status, Visibility)}


def _value(field: str, value) -> str:
    if value in (None, ""):
        return "—"
    if field == "priority":
        return f"P{value}"
    if field.endswith("_at") and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            return local_time(moment)
    return str(value)


def _changes(data: dict) -> str:
    parts = []
    for field, (old, new) in (data.get("changes") or {}).items():
        name = FIELD_NAMES.get(field, field.replace("_", " "))
        parts.append(f"{name}: {_value(field, old)} → {_value(field, new)}")
    return "; ".join(parts)


def _role(kind: str) -> str:
    return LABELS[RoleKind].get(kind, kind)


@register.filter
def local_time(moment: datetime | None) -> str:
    """A moment as 2026-12-01 09:30 CET in the active (the user's) time zone. The `date` filter
    says the same with "Y-m-d H:i T" but costs ten times as much, paid on every row of a list."""
    if moment is None:
        return ""
    moment = localtime(moment)
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname()}"


@register.filter
def time_element(moment: datetime | None) -> SafeString | str:
    """<time> with the ISO moment for machines and `local_time` for people (one filter, not
    `date:'c'` beside `local_time`, as it is on every row of a list)."""
    if moment is None:
        return ""
    return format_html(
        '<time datetime="{}">{}</time>', localtime(moment).isoformat(), local_time(moment)
    )


@register.filter
def event_summary(event: TimelineEvent) -> str:
    """One readable line for a timeline event; unknown kinds (other apps') show their data."""
    d = event.data or {}
    kind = event.kind
    if kind == EventKind.CREATED:
        return f"Opened as P{d.get('priority')} from {d.get('source', 'web')}: {d.get('title', '')}"
    if kind == EventKind.TRANSITIONED:
        to = LABELS[Status].get(d.get("to"), d.get("to"))
        text = f"{str(d.get('action', '')).capitalize()}: now {to}"
        extra = [str(d[k]) for k in ("resolution_code", "reason", "duplicate_of") if d.get(k)]
        if d.get("notes"):
            extra.append(f"“{d['notes']}”")
        return f"{text} ({', '.join(extra)})" if extra else text
    if kind in (EventKind.ASSIGNED, EventKind.UPDATED, EventKind.PRIORITY_CHANGED):
        text = _changes(d)
        return f"{text} (reason: {d['reason']})" if d.get("reason") else text
    if kind == EventKind.PROMOTED:
        return f"Promoted to major incident{': ' + d['reason'] if d.get('reason') else ''}"
    if kind == EventKind.ROLE_ASSIGNED:
        text = f"{_role(d.get('role', ''))}: {d.get('user')}"
        return f"{text} (replacing {d['replaced']})" if d.get("replaced") else text
    if kind == EventKind.ROLE_REMOVED:
        return f"{d.get('user')} is no longer {_role(d.get('role', ''))}"
    if kind == EventKind.TASK_ADDED:
        return f"Task added: {d.get('task')}"
    if kind == EventKind.TASK_CHANGED:
        done = (d.get("changes") or {}).get("done")
        if done and len(d["changes"]) == 1:
            return f"Task {'done' if done[1] else 'reopened'}: {d.get('task')}"
        return f"Task {d.get('task')}: {_changes(d)}"
    if kind == EventKind.RUNBOOK_APPLIED:
        return f"Runbook “{d.get('runbook')}” applied ({d.get('tasks')} tasks)"
    if kind == EventKind.UPDATE_POSTED:
        visibility = d.get("visibility", "")
        label = LABELS[Visibility].get(visibility, visibility)
        return f"{label}: {d.get('body', '')}"
    if kind == EventKind.ATTACHMENT_ADDED:
        return f"Attached {d.get('filename')}"
    if isinstance(d.get("message"), str):
        return d["message"]  # other apps' events that say themselves (paged, SLA warning...)
    return ", ".join(f"{k}: {v}" for k, v in d.items() if not isinstance(v, dict | list))


@register.filter
def event_label(kind: str) -> str:
    return LABELS[EventKind].get(kind) or kind.replace("_", " ").capitalize()


@register.filter
def priority_label(value: int) -> str:
    return LABELS[Priority].get(value, f"P{value}")


@register.filter
def status_label(value: str) -> str:
    return LABELS[Status].get(value, value)


# The badges are filters, not included templates: an {% include %} per row of a list cost
# more than the rest of the row (about 0.1 ms each, hundreds on the home page).
@register.filter
def priority_badge(value: int) -> SafeString:
    label = priority_label(value)
    return format_html(
        '<span class="badge prio prio-{}" title="{}">P{}</span>', value, label, value
    )


@register.filter
def status_badge(value: str) -> SafeString:
    return format_html('<span class="badge status status-{}">{}</span>', value, status_label(value))
