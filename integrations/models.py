from __future__ import annotations

import base64
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from incidents.models import Incident, Service
from integrations.enums import (
    DEFAULT_SEVERITY_MAP,
    EVENT_TYPES,
    AlertStatus,
    DeliveryStatus,
    EndpointKind,
    IntegrationKind,
    Severity,
)


def default_severity_map() -> dict[str, list[int]]:
    return {k: list(v) for k, v in DEFAULT_SEVERITY_MAP.items()}


def hash_key(key: str) -> str:
    # Keys are 128 random bits, so one SHA-256 is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    # 32 hex characters: the shape of a PagerDuty integration (routing) key.
    return secrets.token_hex(16)


class Integration(models.Model):
    """A way in for alerts: a service, a kind and a secret key (stored hashed)."""

    name = models.CharField(max_length=100)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="integrations")
    kind = models.CharField(max_length=20, choices=IntegrationKind)
    enabled = models.BooleanField(default=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(max_length=8, editable=False, help_text="To recognise a key.")
    key_rotated_at = models.DateTimeField(default=timezone.now, editable=False)
    severity_map = models.JSONField(
        default=default_severity_map,
        help_text='severity -> [impact, urgency], e.g. {"critical": [1, 1], "info": [3, 3]}',
    )
    auto_resolve = models.BooleanField(
        default=True, help_text="Resolve the incident when all of its alerts are resolved."
    )
    group_window_seconds = models.PositiveIntegerField(
        default=300,
        help_text="New alerts for the service within this window join the open incident "
        "(0: every new dedup key opens its own incident).",
    )
    rate_limit_per_minute = models.PositiveIntegerField(default=6000)
    # Heartbeat monitors only.
    heartbeat_interval_seconds = models.PositiveIntegerField(null=True, blank=True)
    heartbeat_grace_seconds = models.PositiveIntegerField(default=60)
    last_ping_at = models.DateTimeField(null=True, blank=True, editable=False)
    heartbeat_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service__name", "name"]
        indexes = [
            # heartbeats_check: WHERE heartbeat_due_at <= now AND enabled (kind heartbeat)
            models.Index(
                fields=["heartbeat_due_at"],
                condition=Q(heartbeat_due_at__isnull=False, enabled=True),
                name="integration_heartbeat_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def set_key(self) -> str:
        key = new_key()
        self.key_hash = hash_key(key)
        self.key_prefix = key[:8]
        self.key_rotated_at = timezone.now()
        return key

    def impact_urgency(self, severity: str) -> tuple[int, int]:
        impact, urgency = self.severity_map.get(severity) or DEFAULT_SEVERITY_MAP[severity]
        return int(impact), int(urgency)

    def clean(self) -> None:
        errors = {}
        if not isinstance(self.severity_map, dict):
            errors["severity_map"] = "A mapping of severity to [impact, urgency]."
        else:
            for severity, pair in self.severity_map.items():
                if severity not in Severity.values:
                    errors["severity_map"] = f"Unknown severity {severity!r}."
                elif not (
                    isinstance(pair, list) and len(pair) == 2 and all(v in (1, 2, 3) for v in pair)
                ):
                    errors["severity_map"] = (
                        f"{severity}: give [impact, urgency], each 1 (high) to 3 (low)."
                    )
        if self.kind == IntegrationKind.HEARTBEAT and not self.heartbeat_interval_seconds:
            errors["heartbeat_interval_seconds"] = "A heartbeat monitor needs an interval."
        if errors:
            raise ValidationError(errors)


class Alert(models.Model):
    """One alert by its dedup key; repeats count on it, its incident carries the work."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="alerts")
    dedup_key = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=AlertStatus, default=AlertStatus.FIRING)
    summary = models.CharField(max_length=1024)
    severity = models.CharField(max_length=10, choices=Severity)
    source = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict, blank=True)
    links = models.JSONField(default=list, blank=True)
    incident = models.ForeignKey(
        Incident, null=True, on_delete=models.PROTECT, related_name="alerts"
    )
    count = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen", "-id"]
        constraints = [
            # Deduplication is this index, not a read-then-write: two concurrent triggers
            # for one key cannot both insert (services.alert_trigger relies on it).
            models.UniqueConstraint(
                fields=["integration", "dedup_key"],
                condition=Q(status=AlertStatus.FIRING),
                name="alert_one_firing_per_key",
            )
        ]
        indexes = [
            models.Index(fields=["incident", "status"], name="alert_incident_status"),
            # storm grouping: the service's latest firing alert within the window
            models.Index(
                fields=["integration", "-first_seen"],
                condition=Q(status=AlertStatus.FIRING),
                name="alert_firing_recent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dedup_key}: {self.summary[:60]}"


def new_webhook_secret() -> str:
    # Standard Webhooks: "whsec_" + base64 of 24 to 64 random bytes.
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEndpoint(models.Model):
    """An outbound subscription: incident events of the chosen types, POSTed and signed."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    kind = models.CharField(max_length=20, choices=EndpointKind, default=EndpointKind.STANDARD)
    event_types = models.JSONField(default=list, help_text="e.g. incident.triggered")
    # Kept readable: the receiver needs the same secret to verify the signature.
    secret = models.CharField(max_length=100, default=new_webhook_secret, editable=False)
    enabled = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.event_types, list) or not self.event_types:
            raise ValidationError({"event_types": "Choose at least one event type."})
        unknown = sorted(set(self.event_types) - set(EVENT_TYPES))
        if unknown:
            raise ValidationError({"event_types": f"Unknown event types: {', '.join(unknown)}."})


class WebhookDelivery(models.Model):
    """The outbox row of one message to one endpoint, and its log."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event_type = models.CharField(max_length=60)
    message_id = models.CharField(max_length=40, unique=True)
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    request_headers = models.JSONField(default=dict, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # webhooks_sweep: WHERE status = 'pending' AND next_attempt_at <= now
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status=DeliveryStatus.PENDING),
                name="delivery_due",
            ),
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint_id} ({self.status})"


ACTION_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # type: (required fields, optional fields)
    "set_team": (("team",), ()),
    "assign_role": (("role", "user"), ()),
    "apply_runbook": (("runbook",), ()),
    "add_task": (("title",), ()),
    "webhook": (("url", "body"), ("store", "pick", "headers")),
    "chat": (("url", "text"), ()),
}
STORE_TARGETS = ("war_room_url", "note")


class AutomationRule(models.Model):
    """When an incident event matches the conditions, run the actions (in order).

    Actions (JSON list), templated with string.Template ($number, $title, $priority,
    $status, $service, $team, $source, $url) - substitution only, no code:
      {"type": "set_team", "team": "<team slug>"}
      {"type": "assign_role", "role": "commander", "user": "<username>"}
      {"type": "apply_runbook", "runbook": "<runbook name>"}
      {"type": "add_task", "title": "Page the DBA for $number"}
      {"type": "webhook", "url": "...", "body": "{\"summary\": \"$title\"}",
       "store": "war_room_url" | "note", "pick": "<dotted path in the JSON answer>"}
      {"type": "chat", "url": "<Slack-compatible incoming webhook>", "text": "..."}
    """

    name = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    event_types = models.JSONField(default=list, help_text='e.g. ["incident.triggered"]')
    max_priority = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Match priority P1..Pn (2: P1 and P2)."
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(
        "incidents.Category", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    source = models.CharField(max_length=100, blank=True, help_text="Incident source, exactly.")
    actions = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if not isinstance(self.event_types, list) or not self.event_types:
            errors["event_types"] = "Choose at least one event type."
        elif unknown := sorted(set(self.event_types) - set(EVENT_TYPES)):
            errors["event_types"] = f"Unknown event types: {', '.join(unknown)}."
        if self.max_priority is not None and not 1 <= self.max_priority <= 5:
            errors["max_priority"] = "Between 1 and 5."
        problems = []
        if not isinstance(self.actions, list) or not self.actions:
            problems.append("Give at least one action.")
        for i, action in enumerate(self.actions if isinstance(self.actions, list) else []):
            kind = action.get("type") if isinstance(action, dict) else None
            if kind not in ACTION_FIELDS:
                problems.append(f"actions[{i}]: type must be one of {', '.join(ACTION_FIELDS)}.")
                continue
            required, optional = ACTION_FIELDS[kind]
            for name in required:
                if not isinstance(action.get(name), str) or not action[name].strip():
                    problems.append(f"actions[{i}].{name} is required.")
            extra = set(action) - {"type", *required, *optional}
            if extra:
                problems.append(f"actions[{i}]: unknown fields {', '.join(sorted(extra))}.")
            if action.get("store") not in (None, *STORE_TARGETS):
                problems.append(f"actions[{i}].store must be war_room_url or note.")
            if "url" in action and not str(action["url"]).startswith(("http://", "https://")):
                problems.append(f"actions[{i}].url must be an http(s) URL.")
        if problems:
            errors["actions"] = problems
        if errors:
            raise ValidationError(errors)


class AutomationCall(models.Model):
    """The outbox row of a rule's HTTP action (templated webhook or chat message)."""

    rule = models.ForeignKey(AutomationRule, on_delete=models.CASCADE, related_name="calls")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    action = models.JSONField()
    body = models.TextField()
    status = models.CharField(max_length=20, choices=DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # automation_sweep: WHERE status = 'pending' AND next_attempt_at <= now
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status=DeliveryStatus.PENDING),
                name="automation_call_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} on {self.incident_id} ({self.status})"
