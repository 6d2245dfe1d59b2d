"""A postmortem as Markdown: what the export endpoint and the print view's copy carry."""

from __future__ import annotations

from datetime import datetime, timedelta

from postmortems.models import Postmortem
from postmortems.slo import postmortem_impact

SECTION_TITLES = [
    ("summary", "Summary"),
    ("root_cause", "Root cause"),
    ("detection", "Detection"),
    ("went_well", "What went well"),
    ("went_badly", "What went badly"),
    ("got_lucky", "Where we got lucky"),
    ("lessons", "Lessons"),
]


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _cell(text: str) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def to_markdown(postmortem: Postmortem) -> str:
    incident = postmortem.incident
    impact = postmortem_impact(postmortem)
    lines = [
        f"# Postmortem: {postmortem.title}",
        "",
        f"- Incident: {incident.number} ({incident.get_priority_display()})",
        f"- Service: {incident.service or '—'}",
        f"- Status: {postmortem.get_status_display()}"
        + (f", revision {postmortem.revision}" if postmortem.revision else ""),
        f"- Author: {postmortem.author.get_username() if postmortem.author else '—'}",
        f"- Reviewers: {', '.join(u.get_username() for u in postmortem.reviewers.all()) or '—'}",
        "",
        "## Summary",
        "",
        postmortem.summary or "_Not written yet._",
        "",
        "## Impact",
        "",
        postmortem.impact_description or "_Not written yet._",
        "",
        f"- Users affected: {postmortem.users_affected if postmortem.users_affected is not None else 'unknown'}",  # noqa: E501
        f"- Customer-facing: {'yes' if postmortem.customer_facing else 'no'}",
        f"- Impact window: {_when(postmortem.impact_started_at)} to "
        f"{_when(postmortem.impact_ended_at)} ({_duration(postmortem.impact_duration)})",
        f"- Financial: {postmortem.financial_impact or '—'}",
        f"- Security: {postmortem.security_impact or '—'}",
        f"- Compliance: {postmortem.compliance_impact or '—'}",
        *([f"- Error budget: {impact['text']}"] if impact else []),
        "",
        "## Timeline",
        "",
        "| Time (UTC) | Event | Note |",
        "|---|---|---|",
    ]
    for pick in postmortem.picks.select_related("event"):
        lines.append(
            f"| {_when(pick.event.created_at)} | {pick.event.kind} | {_cell(pick.annotation)} |"
        )
    lines += ["", "## Root causes and contributing factors", ""]
    for factor in postmortem.factors.all():
        root = " (root cause)" if factor.is_root_cause else ""
        lines.append(f"- **{factor.get_kind_display()}**{root}: {factor.description}")
    if postmortem.root_cause:
        lines += ["", postmortem.root_cause]
    for field, title in SECTION_TITLES[2:]:
        lines += ["", f"## {title}", "", getattr(postmortem, field) or "_Not written yet._"]
    lines += [
        "",
        "## Action items",
        "",
        "| Action | Owner | Due | Priority | Status | Ticket |",
        "|---|---|---|---|---|---|",
    ]
    for item in postmortem.actions.select_related("owner"):
        status = item.get_status_display()
        if item.wont_do_reason:
            status += f": {_cell(item.wont_do_reason)}"
        lines.append(
            f"| {_cell(item.title)} | {item.owner.get_username() if item.owner else '—'} | "
            f"{item.due_date or '—'} | {item.get_priority_display()} | {status} | "
            f"{item.external_url or '—'} |"
        )
    return "\n".join(lines) + "\n"
