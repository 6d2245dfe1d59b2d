"""Value sets of the integrations app; imports nothing of ours."""

from django.db import models


class IntegrationKind(models.TextChoices):
    GENERIC = "generic", "Generic alert API"
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    PAGERDUTY = "pagerduty", "PagerDuty Events API v2"
    HEARTBEAT = "heartbeat", "Heartbeat monitor"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    ERROR = "error", "Error"
    WARNING = "warning", "Warning"
    INFO = "info", "Info"


class AlertStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


# severity -> (impact, urgency); an integration may override any row.
DEFAULT_SEVERITY_MAP: dict[str, list[int]] = {
    Severity.CRITICAL: [1, 1],
    Severity.ERROR: [2, 1],
    Severity.WARNING: [2, 2],
    Severity.INFO: [3, 3],
}


class AlertEventKind(models.TextChoices):
    """Timeline event kinds this app records on incidents."""

    ALERT_ATTACHED = "alert_attached", "Alert attached"
    ALERT_RESOLVED = "alert_resolved", "Alert resolved"
    AUTOMATION_RUN = "automation_run", "Automation rule ran"
    AUTOMATION_RESULT = "automation_result", "Automation answered"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class EndpointKind(models.TextChoices):
    STANDARD = "standard", "Standard Webhooks (signed JSON)"
    SLACK = "slack", "Slack-compatible chat"


# Outbound event types; services.event_type_for maps timeline events onto them.
EVENT_TYPES = (
    "incident.triggered",
    "incident.acknowledged",
    "incident.escalated",
    "incident.priority_changed",
    "incident.updated",
    "incident.resolved",
    "incident.closed",
    "incident.reopened",
    "postmortem.published",
    "statuspage.published",
)
