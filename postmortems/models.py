from __future__ import annotations

from datetime import timedelta

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from incidents.models import Incident, Service, TimelineEvent, User
from postmortems.enums import (
    OPEN_ACTION_STATUSES,
    ActionPriority,
    ActionStatus,
    FactorKind,
    PostmortemStatus,
    ReminderKind,
)

# The written sections, in document order: what forms edit and what revisions snapshot.
TEXT_SECTIONS = (
    "summary",
    "impact_description",
    "financial_impact",
    "security_impact",
    "compliance_impact",
    "root_cause",
    "detection",
    "went_well",
    "went_badly",
    "got_lucky",
    "lessons",
)
EDITABLE_FIELDS = (
    "title",
    *TEXT_SECTIONS,
    "users_affected",
    "customer_facing",
    "impact_started_at",
    "impact_ended_at",
)


class Postmortem(models.Model):
    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="postmortem")
    title = models.CharField(max_length=200)
    status = models.CharField(
        max_length=20, choices=PostmortemStatus, default=PostmortemStatus.DRAFT
    )
    author = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="postmortems"
    )
    reviewers = models.ManyToManyField(User, blank=True, related_name="postmortems_to_review")

    summary = models.TextField(blank=True)
    # Impact: who and how many, for how long, customer-facing or not, and the implications.
    impact_description = models.TextField(blank=True)
    users_affected = models.PositiveIntegerField(null=True, blank=True)
    customer_facing = models.BooleanField(default=False)
    impact_started_at = models.DateTimeField(null=True, blank=True)
    impact_ended_at = models.DateTimeField(null=True, blank=True)
    financial_impact = models.TextField(blank=True)
    security_impact = models.TextField(blank=True)
    compliance_impact = models.TextField(blank=True)
    root_cause = models.TextField(blank=True)
    detection = models.TextField(blank=True, help_text="How it was found and how long it took.")
    went_well = models.TextField(blank=True)
    went_badly = models.TextField(blank=True)
    got_lucky = models.TextField(blank=True)
    lessons = models.TextField(blank=True)

    revision = models.PositiveIntegerField(default=0, help_text="0 until first published.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # draft reminders: WHERE status = 'draft' joined to incidents.resolved_at
            models.Index(
                fields=["created_at"],
                condition=Q(status=PostmortemStatus.DRAFT),
                name="postmortem_drafts",
            ),
        ]

    def __str__(self) -> str:
        return f"Postmortem of {self.incident.number}: {self.title}"

    @property
    def is_read_only(self) -> bool:
        return self.status == PostmortemStatus.PUBLISHED

    @property
    def impact_duration(self) -> timedelta | None:
        if self.impact_started_at and self.impact_ended_at:
            return self.impact_ended_at - self.impact_started_at
        return None

    @property
    def time_to_detect(self) -> timedelta | None:
        incident = self.incident
        start = incident.occurred_at or self.impact_started_at
        found = incident.detected_at or incident.created_at
        return found - start if start and found and found >= start else None


class ContributingFactor(models.Model):
    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="factors")
    kind = models.CharField(max_length=20, choices=FactorKind)
    description = models.TextField()
    is_root_cause = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["postmortem", "position", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description[:60]}"


class TimelinePick(models.Model):
    """A key event of the incident's timeline, annotated; the TimelineEvent is never touched."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="picks")
    event = models.ForeignKey(TimelineEvent, on_delete=models.PROTECT, related_name="+")
    annotation = models.TextField(blank=True)

    class Meta:
        ordering = ["postmortem", "event__created_at", "event_id"]
        constraints = [
            models.UniqueConstraint(fields=["postmortem", "event"], name="pick_once_per_event")
        ]

    def __str__(self) -> str:
        return f"{self.event.kind}: {self.annotation[:60]}"


class PostmortemTransition(models.Model):
    """The history of the one state column: who moved it, when, from what to what."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=PostmortemStatus)
    to_status = models.CharField(max_length=20, choices=PostmortemStatus)
    by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["postmortem", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} -> {self.to_status}"


class PostmortemRevision(models.Model):
    """What a published postmortem said: revision 1 at publication, one more per later edit."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    content = models.JSONField()
    changed_fields = models.JSONField(default=list)
    note = models.TextField(blank=True)
    by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["postmortem", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["postmortem", "number"], name="revision_number_once")
        ]

    def __str__(self) -> str:
        return f"Revision {self.number} of postmortem {self.postmortem_id}"


class ActionItemQuerySet(models.QuerySet):
    def open(self) -> ActionItemQuerySet:
        return self.filter(status__in=OPEN_ACTION_STATUSES)

    def overdue(self, today=None) -> ActionItemQuerySet:
        return self.open().filter(due_date__lt=today or timezone.localdate())


class ActionItem(models.Model):
    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(max_length=300)
    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="action_items"
    )
    due_date = models.DateField(null=True, blank=True)
    priority = models.CharField(
        max_length=10, choices=ActionPriority, default=ActionPriority.MEDIUM
    )
    status = models.CharField(max_length=20, choices=ActionStatus, default=ActionStatus.OPEN)
    wont_do_reason = models.TextField(blank=True)
    external_url = models.URLField(blank=True, max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            # overdue reminders and the "overdue" filter: open items WHERE due_date < today
            models.Index(
                fields=["due_date"],
                condition=Q(status__in=OPEN_ACTION_STATUSES),
                name="action_open_due",
            ),
            models.Index(fields=["owner", "status"], name="action_owner_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=ActionStatus.WONT_DO) | ~Q(wont_do_reason=""),
                name="action_wont_do_has_reason",
                violation_error_message="Say why it won't be done.",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return (
            self.status in OPEN_ACTION_STATUSES
            and self.due_date is not None
            and self.due_date < timezone.localdate()
        )


class Reminder(models.Model):
    """An outbox row: one reminder per thing per day; a worker sends it and stamps sent_at."""

    kind = models.CharField(max_length=20, choices=ReminderKind)
    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="+")
    action_item = models.ForeignKey(
        ActionItem, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        indexes = [
            # reminders_deliver_due: WHERE sent_at IS NULL ORDER BY id, FOR UPDATE SKIP LOCKED
            models.Index(fields=["id"], condition=Q(sent_at__isnull=True), name="reminder_unsent"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "action_item", "recipient", "day"],
                condition=Q(action_item__isnull=False),
                name="reminder_item_once_a_day",
            ),
            models.UniqueConstraint(
                fields=["kind", "postmortem", "recipient", "day"],
                condition=Q(action_item__isnull=True),
                name="reminder_postmortem_once_a_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient_id} on {self.day}"


class ServiceLevelObjective(models.Model):
    """An availability objective: `target` percent of the last `window_days` days up."""

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="slo")
    target = models.DecimalField(max_digits=6, decimal_places=3, default=99.9)
    window_days = models.PositiveSmallIntegerField(default=30)

    class Meta:
        ordering = ["service__name"]
        verbose_name = "service level objective"
        constraints = [
            models.CheckConstraint(
                condition=Q(target__gt=0) & Q(target__lt=100), name="slo_target_between_0_and_100"
            ),
            models.CheckConstraint(condition=Q(window_days__gte=1), name="slo_window_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.target}% over {self.window_days} days"


class IncidentDocument(models.Model):
    """The weighted full-text document of an incident, kept by the receiver (PostgreSQL)."""

    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    document = SearchVectorField(null=True)

    def __str__(self) -> str:
        return f"Document of incident {self.incident_id}"

    # Its GIN index is created by migration 0002 on PostgreSQL only (SQLite has no GIN).
