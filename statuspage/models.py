from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone

from incidents.enums import PublicStatus
from incidents.models import Incident, Service, Update
from statuspage.enums import (
    ComponentStatus,
    IncidentImpact,
    MaintenanceStatus,
    NotificationState,
    SubscriberKind,
)


def new_code() -> str:
    """Statuspage ids are short opaque strings; ours never reveal row counts."""
    return secrets.token_hex(6)


def new_token() -> str:
    return secrets.token_urlsafe(24)


class CodeField(models.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 12)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("default", new_code)
        kwargs.setdefault("editable", False)
        super().__init__(**kwargs)


class PageSettings(models.Model):
    """The one status page: its name, address and looks (edited in the admin)."""

    name = models.CharField(max_length=100, default="Vigil Status")
    url = models.URLField(blank=True, help_text="The public address of the page.")
    logo = models.FileField(upload_to="statuspage/", blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    support_url = models.URLField(blank=True)
    code = CodeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "page settings"
        verbose_name_plural = "page settings"

    def __str__(self) -> str:
        return self.name


class ComponentGroup(models.Model):
    code = CodeField()
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    code = CodeField()
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    group = models.ForeignKey(
        ComponentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    position = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=30, choices=ComponentStatus, default=ComponentStatus.OPERATIONAL
    )
    showcase = models.BooleanField(default=True)
    only_show_if_degraded = models.BooleanField(default=False)
    start_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class ComponentStatusChange(models.Model):
    """Every status a component took, from when: the source of uptime and history."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="changes")
    status = models.CharField(max_length=30, choices=ComponentStatus)
    previous = models.CharField(max_length=30, choices=ComponentStatus, blank=True)
    at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["component", "at", "id"]
        # rollup: WHERE component_id = ? AND at < day_end ORDER BY at
        indexes = [models.Index(fields=["component", "at"])]

    def __str__(self) -> str:
        return f"{self.component} -> {self.status} at {self.at:%Y-%m-%d %H:%M}"


class PublicIncident(models.Model):
    """What the status page shows of an incident: its own title, impact and updates only."""

    code = CodeField()
    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="public")
    name = models.CharField(max_length=200)
    impact = models.CharField(max_length=20, choices=IncidentImpact)
    status = models.CharField(
        max_length=20, choices=PublicStatus, default=PublicStatus.INVESTIGATING
    )
    components = models.ManyToManyField(Component, blank=True, related_name="public_incidents")
    started_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    monitoring_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # unresolved incidents on every page render
            models.Index(
                fields=["-started_at"],
                condition=~Q(status=PublicStatus.RESOLVED),
                name="public_incident_unresolved",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_resolved(self) -> bool:
        return self.status == PublicStatus.RESOLVED


class PublicUpdate(models.Model):
    code = CodeField()
    public_incident = models.ForeignKey(
        PublicIncident, on_delete=models.CASCADE, related_name="updates"
    )
    source = models.OneToOneField(
        Update, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=PublicStatus)
    body = models.TextField()
    # [{code, name, old_status, new_status}], as Statuspage's affected_components.
    affected_components = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.status}: {self.body[:40]}"


class Maintenance(models.Model):
    code = CodeField()
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=20, choices=MaintenanceStatus, default=MaintenanceStatus.SCHEDULED
    )
    components = models.ManyToManyField(Component, blank=True, related_name="maintenances")
    scheduled_for = models.DateTimeField()
    scheduled_until = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        indexes = [
            # maintenances_advance: WHERE status = 'scheduled' AND scheduled_for <= now
            models.Index(
                fields=["scheduled_for"],
                condition=Q(status=MaintenanceStatus.SCHEDULED),
                name="maintenance_due_to_start",
            ),
            # maintenances_advance: WHERE status = 'in_progress' AND scheduled_until <= now
            models.Index(
                fields=["scheduled_until"],
                condition=Q(status=MaintenanceStatus.IN_PROGRESS),
                name="maintenance_due_to_end",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(scheduled_until__gt=models.F("scheduled_for")),
                name="maintenance_window_positive",
                violation_error_message="The window must end after it starts.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class MaintenanceUpdate(models.Model):
    code = CodeField()
    maintenance = models.ForeignKey(Maintenance, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=20, choices=MaintenanceStatus)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.status}: {self.body[:40]}"


class UptimeDay(models.Model):
    """One component's day, rolled up from its status history by a beat task."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    # Seconds of the day the component spent in each status (only the measured part).
    seconds = models.JSONField(default=dict)
    uptime = models.FloatField(help_text="Percent of the measured part of the day counted up.")
    worst = models.CharField(max_length=30, choices=ComponentStatus)
    incidents = models.JSONField(default=list, help_text="Names of that day's public incidents.")

    class Meta:
        ordering = ["component", "day"]
        constraints = [
            models.UniqueConstraint(fields=["component", "day"], name="uptime_one_row_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.component} {self.day}: {self.uptime:.2f}%"


class Subscriber(models.Model):
    kind = models.CharField(max_length=10, choices=SubscriberKind)
    email = models.EmailField(blank=True)
    webhook_url = models.URLField(blank=True)
    components = models.ManyToManyField(
        Component, blank=True, related_name="subscribers", help_text="None: all components."
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["email"],
                condition=Q(kind=SubscriberKind.EMAIL),
                name="subscriber_one_per_email",
            ),
            models.CheckConstraint(
                condition=(Q(kind=SubscriberKind.EMAIL) & ~Q(email=""))
                | (Q(kind=SubscriberKind.WEBHOOK) & ~Q(webhook_url="")),
                name="subscriber_has_address",
            ),
        ]

    def __str__(self) -> str:
        return self.email or self.webhook_url


class Notification(models.Model):
    """The outbox: one message to one subscriber, delivered by a worker with retries."""

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="notifications"
    )
    subject = models.CharField(max_length=300)
    text = models.TextField()
    payload = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=10, choices=NotificationState, default=NotificationState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # notifications_sweep: WHERE state IN ('pending','sending') AND next_at <= now
            models.Index(
                fields=["next_at"],
                condition=Q(state__in=[NotificationState.PENDING, NotificationState.SENDING]),
                name="statuspage_notification_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} -> {self.subscriber}"
