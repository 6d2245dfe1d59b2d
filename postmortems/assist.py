"""Help for responders on the incident page: a stakeholder summary built from the timeline,
and an optional generated summary with next steps from an OpenAI-compatible chat-completions
endpoint (`LLM_API_URL`). Without that setting nothing is ever sent anywhere.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from incidents.enums import EventKind, Status, Visibility
from incidents.models import Incident, Runbook, TimelineEvent
from postmortems.similar import Match
from postmortems.templatetags.metrics_ui import seconds

LATEST_UPDATES = 3
PROMPT_EVENTS = 40
SYSTEM_PROMPT = (
    "You help the responders of a software incident. From the incident, its timeline, the "
    "matching runbooks and similar past incidents, write: a summary for stakeholders in three "
    "sentences or fewer, then 'Next steps:' with at most five short, concrete steps. Say so "
    "when the facts do not support a step. Never blame a person."
)


class AssistUnavailable(Exception):
    """The assistant is not configured, did not answer, or answered nonsense."""


@dataclass
class Generated:
    text: str
    model: str


def _when(at: datetime | None) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M %Z") if at else "—"


def stakeholder_summary(incident: Incident, *, now: datetime | None = None) -> str:
    """State, impact, latest stakeholder and public updates and time open, as plain text.

    Internal work notes never appear: this is the text a responder hands to stakeholders."""
    now = now or timezone.now()
    events = list(
        TimelineEvent.objects.filter(
            incident=incident, kind__in=[EventKind.TRANSITIONED, EventKind.UPDATE_POSTED]
        ).order_by("-created_at", "-id")[:200]
    )
    major = ", major incident" if incident.is_major else ""
    end = incident.resolved_at if incident.status in (Status.RESOLVED, Status.CLOSED) else now
    opened = seconds((end - incident.created_at).total_seconds())
    lines = [
        f"{incident.number}: {incident.title}",
        f"State: {incident.get_status_display()} (P{incident.priority}{major}); "
        f"{'was open' if end != now else 'open'} for {opened} since {_when(incident.created_at)}.",
    ]
    impact = [f"service {incident.service.name}"] if incident.service_id else []
    if incident.users_affected:
        impact.append(f"about {incident.users_affected:,} users affected")
    for label, text in (
        ("financial", incident.financial_implications),
        ("security", incident.security_implications),
        ("compliance", incident.compliance_implications),
    ):
        if text:
            impact.append(f"{label}: {text}")
    lines.append(f"Impact: {'; '.join(impact) or 'not assessed yet'}.")
    steps = [
        f"{e.data.get('to', '').replace('_', ' ')} {timezone.localtime(e.created_at):%H:%M}"
        for e in reversed(events)
        if e.kind == EventKind.TRANSITIONED
    ]
    if steps:
        lines.append(f"Progress: {', '.join(steps)}.")
    updates = [
        e
        for e in events
        if e.kind == EventKind.UPDATE_POSTED and e.data.get("visibility") != Visibility.INTERNAL
    ][:LATEST_UPDATES]
    if updates:
        lines.append("Latest updates:")
        lines += [f"- {_when(e.created_at)}: {e.data.get('body', '')}" for e in updates]
    else:
        lines.append("No stakeholder update has been posted yet.")
    return "\n".join(lines)


def enabled() -> bool:
    return bool(settings.LLM_API_URL)


def generate(
    incident: Incident, *, similar: list[Match], runbooks: list[Runbook], summary: str
) -> Generated:
    """Ask the configured model; raises AssistUnavailable. Never called when unset."""
    if not enabled():
        raise AssistUnavailable("No assistant is configured (LLM_API_URL).")
    payload = {
        "model": settings.LLM_MODEL,
        "temperature": 0.2,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": _context(incident, similar, runbooks, summary)},
        ],
    }
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if settings.LLM_API_KEY:
        headers["Authorization"] = f"Bearer {settings.LLM_API_KEY}"
    request = urllib.request.Request(  # noqa: S310 - an http(s) URL set by the admin
        settings.LLM_API_URL, data=json.dumps(payload).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.LLM_TIMEOUT_SECONDS) as response:  # noqa: S310
            body = json.load(response)
        text = body["choices"][0]["message"]["content"].strip()
    except (urllib.error.URLError, TimeoutError, ValueError, KeyError, IndexError, TypeError) as e:
        raise AssistUnavailable(f"The assistant did not answer usefully: {e}") from e
    if not text:
        raise AssistUnavailable("The assistant answered with nothing.")
    return Generated(text=text, model=str(body.get("model") or settings.LLM_MODEL))


def _context(incident: Incident, similar: list[Match], runbooks: list[Runbook], summary: str):
    events = TimelineEvent.objects.filter(incident=incident).order_by("-created_at", "-id")
    timeline = [
        f"{_when(e.created_at)} {e.kind} {json.dumps(e.data, default=str)[:400]}"
        for e in reversed(list(events[:PROMPT_EVENTS]))
    ]
    parts = [
        summary,
        f"Description: {incident.description[:2000] or '—'}",
        f"Error codes: {incident.error_codes or '—'}",
        "Timeline (oldest first):",
        *timeline,
        "Matching runbooks:",
        *[f"- {r.name}: " + "; ".join(step.title for step in r.steps.all()) for r in runbooks],
        "Similar past incidents:",
        *[
            f"- {m.incident.number} {m.incident.title}: resolved with "
            f"{m.incident.resolution_code or '—'}: {m.incident.resolution_notes[:300] or '—'}"
            for m in similar
        ],
    ]
    return "\n".join(parts)
