"""Automation rules: matching incident events run actions, every run on the timeline.

Actions that change the incident call incidents.services in the event's transaction;
actions that call out (templated webhook, chat) become AutomationCall outbox rows that a
worker sends, storing what the far end answers (a ticket link, a bridge URL) on the
incident. Events recorded while rules run do not trigger rules again, so a rule cannot
loop (a rule that sets a team does not fire the rules of "incident.updated").
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from datetime import datetime, timedelta
from string import Template
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from incidents import services as incident_services
from incidents.exceptions import Conflict
from incidents.models import Incident, Runbook, Team, TimelineEvent, User
from integrations.enums import AlertEventKind, DeliveryStatus
from integrations.models import AutomationCall, AutomationRule
from integrations.outbound import (
    BACKOFF,
    LEASE,
    USER_AGENT,
    DeliveryError,
    event_type_for,
    http_post,
    incident_url,
)

logger = logging.getLogger(__name__)
_running = contextvars.ContextVar("automation_running", default=False)
MAX_CALL_ATTEMPTS = 4


def template_context(incident: Incident, *, json_safe: bool = False) -> dict[str, str]:
    values = {
        "number": incident.number,
        "title": incident.title,
        "priority": f"P{incident.priority}",
        "status": incident.status,
        "service": incident.service.name if incident.service_id else "",
        "team": incident.team.name if incident.team_id else "",
        "source": incident.source,
        "url": incident_url(incident),
    }
    if json_safe:  # values land inside JSON strings of the body template
        values = {k: json.dumps(v)[1:-1] for k, v in values.items()}
    return values


def render(text: str, incident: Incident, *, json_safe: bool = False) -> str:
    """$name substitution only (string.Template): user text can never run code."""
    return Template(text).safe_substitute(template_context(incident, json_safe=json_safe))


def _matches(rule: AutomationRule, incident: Incident, event_type: str) -> bool:
    if event_type not in rule.event_types:
        return False
    if rule.max_priority is not None and incident.priority > rule.max_priority:
        return False
    if rule.service_id and rule.service_id != incident.service_id:
        return False
    if rule.category_id and rule.category_id not in (
        incident.category_id,
        incident.category.parent_id if incident.category_id else None,
    ):
        return False
    return not rule.source or rule.source.lower() == incident.source.lower()


def automation_run(*, event: TimelineEvent) -> int:
    """Run the rules this event matches (inside its transaction); returns how many ran."""
    if _running.get():
        return 0
    event_type = event_type_for(event)
    if event_type is None:
        return 0
    rules = [r for r in AutomationRule.objects.filter(enabled=True)
             if event_type in r.event_types]  # fmt: skip
    if not rules:
        return 0
    token = _running.set(True)
    try:
        ran = 0
        for rule in rules:
            incident = Incident.objects.select_related("service", "team", "category").get(
                pk=event.incident_id
            )
            if _matches(rule, incident, event_type):
                _run_rule(rule, incident, event_type)
                ran += 1
        return ran
    finally:
        _running.reset(token)


def _run_rule(rule: AutomationRule, incident: Incident, event_type: str) -> None:
    results = []
    for action in rule.actions:
        try:
            result = ACTIONS[action["type"]](rule, incident, action)
        except ObjectDoesNotExist:
            missing = {"set_team": "team", "assign_role": "user"}.get(action["type"], "runbook")
            result = f"failed: no such {missing}"
        except (ValidationError, Conflict) as error:
            message = "; ".join(error.messages) if isinstance(error, ValidationError) else error
            result = f"failed: {message}"
        results.append({"type": action["type"], "result": result})
    incident_services.record_event(
        incident=incident,
        kind=AlertEventKind.AUTOMATION_RUN,
        actor=None,
        actor_name=f"Automation: {rule.name}",
        data={"rule": rule.name, "rule_id": rule.pk, "event": event_type, "actions": results},
    )


def _set_team(rule, incident, action) -> str:
    team = Team.objects.get(slug=action["team"])
    incident_services.incident_assign(incident=incident, by=None, team=team)
    return f"team {team.name}"


def _assign_role(rule, incident, action) -> str:
    user = User.objects.get(username=action["user"], is_active=True)
    incident_services.role_assign(incident=incident, kind=action["role"], user=user, by=None)
    return f"{action['role']} {user.get_username()}"


def _apply_runbook(rule, incident, action) -> str:
    runbook = Runbook.objects.get(name=action["runbook"])
    tasks = incident_services.runbook_apply(incident=incident, runbook=runbook, by=None)
    return f"runbook {runbook.name} ({len(tasks)} tasks)"


def _add_task(rule, incident, action) -> str:
    task = incident_services.task_add(
        incident=incident, by=None, title=render(action["title"], incident)[:300]
    )
    return f"task {task.title}"


def _call(rule, incident, action) -> str:
    from config.celery import enqueue_on_commit  # tasks imports this module
    from integrations.tasks import run_automation_call

    if action["type"] == "chat":
        body = json.dumps({"text": render(action["text"], incident)})
    else:
        body = render(action["body"], incident, json_safe=True)
    call = AutomationCall.objects.create(rule=rule, incident=incident, action=action, body=body)
    enqueue_on_commit(run_automation_call, call_id=call.pk)
    return f"queued call {call.pk} to {action['url']}"


ACTIONS = {
    "set_team": _set_team,
    "assign_role": _assign_role,
    "apply_runbook": _apply_runbook,
    "add_task": _add_task,
    "webhook": _call,
    "chat": _call,
}


# --- The outbox of HTTP actions -----------------------------------------------------------


def _claim(call_id: int, now: datetime) -> AutomationCall | None:
    with transaction.atomic():
        call = (
            AutomationCall.objects.select_for_update(skip_locked=True)
            .filter(pk=call_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if call is None:
            return None
        call.attempts += 1
        call.next_attempt_at = now + LEASE
        call.save(update_fields=["attempts", "next_attempt_at"])
        return call


def automation_call_send(*, call_id: int, now: datetime | None = None) -> str | None:
    now = now or timezone.now()
    call = _claim(call_id, now)
    if call is None:
        return None
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               **(call.action.get("headers") or {})}  # fmt: skip
    started = time.monotonic()
    try:
        answer, error = http_post(call.action["url"], call.body.encode(), headers), None
    except DeliveryError as failure:
        answer, error = None, failure
    duration = int((time.monotonic() - started) * 1000)
    return _record(call, answer, error, duration)


def _pick(body: str, path: str) -> Any:
    value: Any = json.loads(body)
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


@transaction.atomic
def _record(call: AutomationCall, answer, error, duration: int) -> str:
    call = AutomationCall.objects.select_for_update().select_related("rule").get(pk=call.pk)
    call.duration_ms = duration
    call.response_code = answer.code if answer else (error.code if error else None)
    call.response_body = (answer.body if answer else error.body)[:2000]
    call.error = str(error)[:500] if error else ""
    if error is None:
        call.status = DeliveryStatus.SUCCEEDED
        call.next_attempt_at = None
    elif call.attempts >= MAX_CALL_ATTEMPTS:
        call.status = DeliveryStatus.FAILED
        call.next_attempt_at = None
    else:
        call.next_attempt_at = timezone.now() + timedelta(seconds=BACKOFF[call.attempts - 1])
    call.save()
    if call.status != DeliveryStatus.PENDING:
        _store_answer(call)
    return call.status


def _store_answer(call: AutomationCall) -> None:
    incident = Incident.objects.get(pk=call.incident_id)
    stored = None
    if call.status == DeliveryStatus.SUCCEEDED and call.action.get("store"):
        try:
            value = str(_pick(call.response_body, call.action.get("pick") or "url"))
        except (ValueError, KeyError, IndexError, TypeError):
            value = None
        token = _running.set(True)  # what the rule stores does not trigger rules
        try:
            stored = _store(call, incident, value)
        finally:
            _running.reset(token)
    incident_services.record_event(
        incident=incident,
        kind=AlertEventKind.AUTOMATION_RESULT,
        actor=None,
        actor_name=f"Automation: {call.rule.name}",
        data={
            "rule": call.rule.name,
            "url": call.action["url"],
            "status": call.status,
            "response_code": call.response_code,
            "error": call.error,
            "stored": stored,
        },
    )


def _store(call: AutomationCall, incident: Incident, value: str | None) -> str | None:
    if not value:
        return None
    if call.action["store"] == "war_room_url":
        try:
            URLValidator()(value)
        except ValidationError:
            return None
        if incident.is_open:
            incident_services.incident_update_details(
                incident=incident, by=None, war_room_url=value
            )
        return value
    incident_services.update_post(
        incident=incident, by=None, visibility="internal", body=f"{call.rule.name}: {value}"
    )
    return value


def automation_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    from integrations.tasks import run_automation_call  # tasks imports this module

    now = now or timezone.now()
    due = list(
        AutomationCall.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        try:
            run_automation_call.apply_async(kwargs={"call_id": pk}, retry=False)
        except Exception:  # the broker is away: run it here rather than not at all
            automation_call_send(call_id=pk, now=now)
    return len(due)


@transaction.atomic
def automation_rule_create(**fields: Any) -> AutomationRule:
    rule = AutomationRule(**fields)
    rule.full_clean()
    rule.save()
    return rule
