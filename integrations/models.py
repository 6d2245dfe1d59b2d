from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from incidents.models import Incident, Service
from integrations.enums import (
    DEFAULT_SEVERITY_MAP,
    AlertStatus,
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
    rate_limit_per_minute = models.PositiveIntegerField(default=600)
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
