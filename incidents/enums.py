"""Value sets shared by every app. Imports nothing of ours, so anyone may import it."""

from django.db import models


class UserRole(models.TextChoices):
    STAKEHOLDER = "stakeholder", "Stakeholder"
    RESPONDER = "responder", "Responder"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"


class Impact(models.IntegerChoices):
    HIGH = 1, "1 - High"
    MEDIUM = 2, "2 - Medium"
    LOW = 3, "3 - Low"


class Urgency(models.IntegerChoices):
    HIGH = 1, "1 - High"
    MEDIUM = 2, "2 - Medium"
    LOW = 3, "3 - Low"


class Priority(models.IntegerChoices):
    P1 = 1, "P1 - Critical (SEV1)"
    P2 = 2, "P2 - High (SEV2)"
    P3 = 3, "P3 - Moderate (SEV3)"
    P4 = 4, "P4 - Low"
    P5 = 5, "P5 - Planning"


class Status(models.TextChoices):
    TRIGGERED = "triggered", "Triggered"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    INVESTIGATING = "investigating", "Investigating"
    MITIGATED = "mitigated", "Mitigated"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES = frozenset(
    {Status.TRIGGERED, Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.MITIGATED, Status.ON_HOLD}
)


class HoldReason(models.TextChoices):
    AWAITING_CALLER = "awaiting_caller", "Awaiting caller"
    AWAITING_VENDOR = "awaiting_vendor", "Awaiting vendor"
    AWAITING_CHANGE = "awaiting_change", "Awaiting change"


class CancelReason(models.TextChoices):
    DUPLICATE = "duplicate", "Duplicate"
    FALSE_ALARM = "false_alarm", "False alarm"


class ResolutionCode(models.TextChoices):
    FIXED = "fixed", "Fixed"
    WORKAROUND = "workaround", "Workaround provided"
    NO_FAULT_FOUND = "no_fault_found", "No fault found"
    DUPLICATE = "duplicate", "Duplicate"
    USER_ERROR = "user_error", "User error"
    EXTERNAL = "external", "Resolved by third party"


class RoleKind(models.TextChoices):
    COMMANDER = "commander", "Incident commander"
    COMMUNICATIONS = "communications", "Communications lead"
    INVESTIGATIVE = "investigative", "Investigative lead"
    DOCUMENTATION = "documentation", "Documentation lead (scribe)"
    SME = "sme", "Subject matter expert"


SINGLE_HOLDER_ROLES = frozenset(RoleKind) - {RoleKind.SME}


class Visibility(models.TextChoices):
    INTERNAL = "internal", "Internal work note"
    STAKEHOLDERS = "stakeholders", "Stakeholder update"
    PUBLIC = "public", "Public update"


class PublicStatus(models.TextChoices):
    """Where a public (status page) update says the incident stands (Statuspage's values)."""

    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    TRANSITIONED = "transitioned", "Status changed"
    PRIORITY_CHANGED = "priority_changed", "Priority changed"
    ASSIGNED = "assigned", "Assigned"
    UPDATED = "updated", "Details changed"
    PROMOTED = "promoted", "Promoted to major incident"
    ROLE_ASSIGNED = "role_assigned", "Role assigned"
    ROLE_REMOVED = "role_removed", "Role removed"
    TASK_ADDED = "task_added", "Task added"
    TASK_CHANGED = "task_changed", "Task changed"
    RUNBOOK_APPLIED = "runbook_applied", "Runbook applied"
    UPDATE_POSTED = "update_posted", "Update posted"
    ATTACHMENT_ADDED = "attachment_added", "Attachment added"
