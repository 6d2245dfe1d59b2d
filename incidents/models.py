from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from incidents.enums import (
    OPEN_STATUSES,
    SINGLE_HOLDER_ROLES,
    CancelReason,
    HoldReason,
    Impact,
    Priority,
    PublicStatus,
    ResolutionCode,
    RoleKind,
    Status,
    Urgency,
    UserRole,
    Visibility,
)
from incidents.expressions import ACKNOWLEDGED, seconds_since_created

NUMBER_PREFIX = "INC-"
ROLE_RANK = [UserRole.STAKEHOLDER, UserRole.RESPONDER, UserRole.MANAGER, UserRole.ADMIN]


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=UserRole, default=UserRole.RESPONDER)
    time_zone = models.CharField(max_length=64, default="UTC")
    phone = models.CharField(max_length=40, blank=True)

    def has_role(self, role: str) -> bool:
        """Roles are ranked: each one may do what the ones below it may."""
        if self.is_superuser:
            return True
        return ROLE_RANK.index(self.role) >= ROLE_RANK.index(role)

    @property
    def is_admin(self) -> bool:
        return self.has_role(UserRole.ADMIN)

    @property
    def is_manager(self) -> bool:
        return self.has_role(UserRole.MANAGER)


class Team(models.Model):
    """An assignment group."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    manager = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams"
    )
    members = models.ManyToManyField(User, blank=True, related_name="teams")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    """A business service or configuration item."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="services"
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="subcategories"
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return f"{self.parent} / {self.name}" if self.parent_id else self.name


class PriorityMatrixEntry(models.Model):
    """One cell of the impact x urgency -> priority matrix; the migration seeds ServiceNow's."""

    impact = models.PositiveSmallIntegerField(choices=Impact)
    urgency = models.PositiveSmallIntegerField(choices=Urgency)
    priority = models.PositiveSmallIntegerField(choices=Priority)

    class Meta:
        ordering = ["impact", "urgency"]
        verbose_name = "priority matrix entry"
        verbose_name_plural = "priority matrix"
        constraints = [
            models.UniqueConstraint(fields=["impact", "urgency"], name="matrix_one_cell_per_pair")
        ]

    def __str__(self) -> str:
        return f"impact {self.impact} x urgency {self.urgency} -> P{self.priority}"


class IncidentQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> IncidentQuerySet:
        """Private incidents only for their team, role holders, reporter, opener and admins."""
        if user.is_admin:
            return self
        # The user's teams as one uncorrelated subquery (PostgreSQL hashes it once): a join to
        # the team plus a correlated EXISTS for membership cost 1-2 ms of planning per query,
        # five times over in the home page's counts.
        my_teams = Team.objects.filter(Q(manager_id=user.pk) | Q(members=user.pk)).values("id")
        holds_role = IncidentRole.objects.filter(incident_id=OuterRef("pk"), user_id=user.pk)
        return self.filter(
            Q(is_private=False)
            | Q(reporter_id=user.pk)
            | Q(opened_by_id=user.pk)
            | Q(team_id__in=my_teams)
            | Exists(holds_role)
        )

    def open(self) -> IncidentQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Incident(models.Model):
    # Logging
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    error_codes = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=100, default="web")
    reporter = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="reported_incidents"
    )
    reporter_name = models.CharField(max_length=200, blank=True)
    reporter_email = models.EmailField(blank=True)
    opened_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="opened_incidents"
    )
    occurred_at = models.DateTimeField(null=True, blank=True)
    detected_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(default=timezone.now)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )

    # Classification
    impact = models.PositiveSmallIntegerField(choices=Impact, default=Impact.MEDIUM)
    urgency = models.PositiveSmallIntegerField(choices=Urgency, default=Urgency.MEDIUM)
    priority = models.PositiveSmallIntegerField(choices=Priority)
    priority_override_reason = models.CharField(max_length=500, blank=True)
    users_affected = models.PositiveIntegerField(null=True, blank=True)
    financial_implications = models.TextField(blank=True)
    security_implications = models.TextField(blank=True)
    compliance_implications = models.TextField(blank=True)
    is_major = models.BooleanField(default=False)
    is_private = models.BooleanField(default=False)

    # Assignment
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_incidents"
    )
    war_room_url = models.URLField(blank=True)

    # Lifecycle
    status = models.CharField(max_length=20, choices=Status, default=Status.TRIGGERED)
    hold_reason = models.CharField(max_length=20, choices=HoldReason, blank=True)
    cancel_reason = models.CharField(max_length=20, choices=CancelReason, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )
    resolution_code = models.CharField(max_length=20, choices=ResolutionCode, blank=True)
    resolution_notes = models.TextField(blank=True)
    reopen_count = models.PositiveIntegerField(default=0)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Seconds from creation to acknowledged, mitigated and resolved, kept by the database
    # itself: the metrics read a year of them from covering indexes (postmortems migration
    # 0005) rather than computing three durations for each of a million rows.
    seconds_to_acknowledge = models.GeneratedField(
        expression=seconds_since_created(ACKNOWLEDGED),
        output_field=models.FloatField(),
        db_persist=True,
    )
    seconds_to_mitigate = models.GeneratedField(
        expression=seconds_since_created(F("mitigated_at")),
        output_field=models.FloatField(),
        db_persist=True,
    )
    seconds_to_resolve = models.GeneratedField(
        expression=seconds_since_created(F("resolved_at")),
        output_field=models.FloatField(),
        db_persist=True,
    )

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The desk's default list: open work, newest first, optionally by priority.
            models.Index(fields=["status", "-id"], name="incident_status_recent"),
            models.Index(fields=["priority", "-id"], name="incident_priority_recent"),
            models.Index(fields=["team", "status"], name="incident_team_status"),
            models.Index(fields=["assignee", "status"], name="incident_assignee_status"),
            # The list filtered by team, service, category or assignee, newest first (a page of 50
            # read straight from the index). Text search has trigram indexes on PostgreSQL,
            # made by SQL in migration 0004 (SQLite has no GIN).
            models.Index(fields=["team", "-id"], name="incident_team_recent"),
            models.Index(fields=["service", "-id"], name="incident_service_recent"),
            models.Index(fields=["category", "-id"], name="incident_category_recent"),
            models.Index(fields=["assignee", "-id"], name="incident_assignee_recent"),
            models.Index(fields=["-id"], condition=Q(is_major=True), name="incident_major_recent"),
            # Home: open incidents by priority (the first 60 in order, and the capped counts).
            models.Index(
                fields=["priority", "-id"],
                condition=Q(status__in=sorted(OPEN_STATUSES)),
                name="incident_open_priority",
            ),
            # close_stale_incidents: WHERE status = 'resolved' AND resolved_at < cutoff
            models.Index(
                fields=["resolved_at"],
                condition=Q(status=Status.RESOLVED),
                name="incident_resolved_awaiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        return self.number_of(self.pk)

    @staticmethod
    def number_of(pk: int) -> str:
        # The primary key is the number: sequences never hand a value out twice.
        return f"{NUMBER_PREFIX}{pk}"

    @staticmethod
    def pk_from_number(number: str) -> int | None:
        digits = number.upper().removeprefix(NUMBER_PREFIX)
        return int(digits) if digits.isdigit() and len(digits) < 19 else None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def clean(self) -> None:
        if (
            self.assignee_id
            and self.team_id
            and not self.team.members.filter(pk=self.assignee_id).exists()
        ):
            raise ValidationError({"assignee": "The assignee must be a member of the team."})
        if self.is_private and not self.team_id:
            raise ValidationError({"is_private": "A private incident needs a team."})


class IncidentRole(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="roles")
    kind = models.CharField(max_length=20, choices=RoleKind)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="incident_roles")
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "kind"],
                condition=Q(kind__in=SINGLE_HOLDER_ROLES),
                name="role_single_holder",
                violation_error_message="This role already has a holder on the incident.",
            ),
            models.UniqueConstraint(
                fields=["incident", "kind", "user"],
                name="role_once_per_user",
                violation_error_message="This user already holds this role on the incident.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.user}"


class Runbook(models.Model):
    """An ordered checklist; incidents of its services or categories get its steps as tasks."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    services = models.ManyToManyField(Service, blank=True, related_name="runbooks")
    categories = models.ManyToManyField(Category, blank=True, related_name="runbooks")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RunbookStep(models.Model):
    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=300)

    class Meta:
        ordering = ["runbook", "position", "id"]

    def __str__(self) -> str:
        return self.title


class Task(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=300)
    assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    runbook = models.ForeignKey(
        Runbook, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class Update(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="updates"
    )
    visibility = models.CharField(max_length=20, choices=Visibility)
    # Public updates only: where the incident stands on the status page.
    status = models.CharField(max_length=20, choices=PublicStatus, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["incident", "visibility", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_visibility_display()} on {self.incident.number}"


def attachment_path(attachment: Attachment, filename: str) -> str:
    return f"attachments/{attachment.incident_id}/{filename}"


class Attachment(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename


class TimelineEvent(models.Model):
    """The append-only audit log and event stream of an incident.

    `kind` is open-ended on purpose: other apps add their own kinds (paged, escalated...).
    On PostgreSQL a trigger refuses UPDATE and DELETE (see migration 0002).
    """

    # No index of its own: the (incident, -created_at, -id) index below serves every lookup
    # by incident, and one index fewer is one write fewer for every event (alerts write many).
    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="timeline", db_index=False
    )
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["incident", "-created_at", "-id"])]

    def __str__(self) -> str:
        return f"{self.kind} on incident {self.incident_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Timeline events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Timeline events are append-only.")
