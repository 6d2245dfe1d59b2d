"""Turn each accepted wire format into alert commands, or say which field is wrong.

Formats as real senders put them on the wire: /work/shared/reference/ingestion.md and
README "Integrations". Nothing here writes; `ingest.py` runs the commands in one
transaction once the whole body is known to be valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from integrations.enums import AlertStatus, Severity

SEVERITIES = tuple(Severity.values)
# Alertmanager `severity` labels are free text; these are the common spellings.
LABEL_SEVERITIES = {
    "critical": Severity.CRITICAL,
    "page": Severity.CRITICAL,
    "high": Severity.CRITICAL,
    "error": Severity.ERROR,
    "major": Severity.ERROR,
    "warning": Severity.WARNING,
    "warn": Severity.WARNING,
    "minor": Severity.WARNING,
    "info": Severity.INFO,
    "none": Severity.INFO,
    "low": Severity.INFO,
}


class PayloadError(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class Command:
    action: str  # trigger | acknowledge | resolve
    dedup_key: str = ""
    fields: dict[str, Any] = field(default_factory=dict)


def _text(data: dict, name: str, errors: dict, *, required: bool, limit: int, path: str = ""):
    value = data.get(name)
    where = f"{path}{name}"
    if value is None or value == "":
        if required:
            errors[where] = "This field is required."
        return ""
    if not isinstance(value, str):
        errors[where] = "Must be a string."
        return ""
    if len(value) > limit:
        errors[where] = f"At most {limit} characters."
        return ""
    return value


def parse_generic(data: Any) -> list[Command]:
    """`POST /api/v1/alerts/`: one alert."""
    if not isinstance(data, dict):
        raise PayloadError({"non_field_errors": "The body must be a JSON object."})
    errors: dict[str, str] = {}
    status = data.get("status", AlertStatus.FIRING)
    if status not in AlertStatus.values:
        errors["status"] = "Must be firing or resolved."
    firing = status != AlertStatus.RESOLVED
    dedup_key = _text(data, "dedup_key", errors, required=not firing, limit=255)
    summary = _text(data, "summary", errors, required=firing, limit=1024)
    severity = data.get("severity")
    if firing and severity not in SEVERITIES:
        errors["severity"] = f"Must be one of {', '.join(SEVERITIES)}."
    source = _text(data, "source", errors, required=False, limit=255)
    details = data.get("details", {})
    if not isinstance(details, dict):
        errors["details"] = "Must be an object."
    links = data.get("links", [])
    if not isinstance(links, list) or not all(isinstance(x, str | dict) for x in links):
        errors["links"] = "Must be a list of URLs or {href, text} objects."
    if errors:
        raise PayloadError(errors)
    if not firing:
        return [Command("resolve", dedup_key)]
    fields = {
        "summary": summary,
        "severity": severity,
        "source": source,
        "details": details,
        "links": links,
    }
    return [Command("trigger", dedup_key, fields)]


def parse_alertmanager(data: Any) -> list[Command]:
    """Alertmanager's webhook (version 4): every alert in the group, firing or resolved."""
    if not isinstance(data, dict):
        raise PayloadError({"non_field_errors": "The body must be a JSON object."})
    errors: dict[str, str] = {}
    if str(data.get("version", "")) != "4":
        errors["version"] = "Only version 4 of the Alertmanager webhook is understood."
    alerts = data.get("alerts")
    if not isinstance(alerts, list):
        errors["alerts"] = "This field is required (a list)."
        raise PayloadError(errors)
    external_url = data.get("externalURL") or ""
    commands = []
    for i, alert in enumerate(alerts):
        path = f"alerts[{i}]."
        if not isinstance(alert, dict):
            errors[f"alerts[{i}]"] = "Must be an object."
            continue
        fingerprint = _text(alert, "fingerprint", errors, required=True, limit=255, path=path)
        status = alert.get("status")
        if status not in AlertStatus.values:
            errors[f"{path}status"] = "Must be firing or resolved."
        labels = alert.get("labels")
        if not isinstance(labels, dict):
            errors[f"{path}labels"] = "This field is required (an object)."
            continue
        annotations = alert.get("annotations") or {}
        if not isinstance(annotations, dict):
            errors[f"{path}annotations"] = "Must be an object."
            continue
        if status == AlertStatus.RESOLVED:
            commands.append(Command("resolve", fingerprint))
            continue
        name = str(labels.get("alertname", "alert"))
        summary = str(annotations.get("summary") or annotations.get("description") or name)
        if labels.get("instance") and str(labels["instance"]) not in summary:
            summary = f"{summary} ({labels['instance']})"
        severity = LABEL_SEVERITIES.get(str(labels.get("severity", "")).lower(), "warning")
        links = [alert["generatorURL"]] if alert.get("generatorURL") else []
        fields = {
            "summary": f"{name}: {summary}" if name not in summary else summary,
            "severity": severity,
            "source": str(labels.get("instance") or labels.get("job") or external_url)[:255],
            "details": {
                "labels": labels,
                "annotations": annotations,
                "startsAt": alert.get("startsAt"),
                "externalURL": external_url,
            },
            "links": links,
        }
        commands.append(Command("trigger", fingerprint, fields))
    if errors:
        raise PayloadError(errors)
    return commands


PAGERDUTY_ACTIONS = ("trigger", "acknowledge", "resolve")


def pagerduty_errors(data: Any) -> list[str]:
    """PagerDuty's 400 `errors` for an event (routing_key is checked by the caller)."""
    if not isinstance(data, dict):
        return ["Event object is not a JSON object"]
    errors = []
    action = data.get("event_action")
    if action not in PAGERDUTY_ACTIONS:
        errors.append("'event_action' is missing or invalid (trigger, acknowledge, resolve)")
    dedup_key = data.get("dedup_key")
    if dedup_key is not None and (not isinstance(dedup_key, str) or len(dedup_key) > 255):
        errors.append("'dedup_key' must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dedup_key:
        errors.append(f"'dedup_key' is required for event_action {action}")
    if action == "trigger":
        payload = data.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or not an object")
            return errors
        summary = payload.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors.append("'payload.summary' is missing or blank")
        elif len(summary) > 1024:
            errors.append("'payload.summary' is longer than 1024 characters")
        if not isinstance(payload.get("source"), str) or not payload["source"].strip():
            errors.append("'payload.source' is missing or blank")
        if payload.get("severity") not in SEVERITIES:
            errors.append("'payload.severity' must be one of critical, error, warning, info")
        if "custom_details" in payload and not isinstance(
            payload["custom_details"], dict | str | list
        ):
            errors.append("'payload.custom_details' is invalid")
        for name in ("links", "images"):
            if name in data and not isinstance(data[name], list):
                errors.append(f"'{name}' must be a list")
    return errors


def parse_pagerduty(data: dict) -> Command:
    action = data["event_action"]
    dedup_key = data.get("dedup_key") or ""
    if action != "trigger":
        return Command(action, dedup_key)
    payload = data["payload"]
    details = payload.get("custom_details")
    details = details if isinstance(details, dict) else {"details": details} if details else {}
    for name in ("component", "group", "class", "timestamp"):
        if payload.get(name):
            details[name] = payload[name]
    if data.get("client"):
        details["client"] = data["client"]
    links = [
        {"href": x.get("href", ""), "text": x.get("text", "")} if isinstance(x, dict) else x
        for x in data.get("links", [])
    ]
    if data.get("client_url"):
        links.append({"href": data["client_url"], "text": data.get("client") or "Source"})
    fields = {
        "summary": payload["summary"],
        "severity": payload["severity"],
        "source": payload["source"][:255],
        "details": details,
        "links": links,
    }
    return Command("trigger", dedup_key, fields)
