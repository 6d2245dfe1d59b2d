"""On-call schedules, escalation policies, the timer rows that drive paging, notifications."""

from __future__ import annotations

import secrets
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from incidents.models import Incident, Service, Team, User


def new_token() -> str:
    return secrets.token_urlsafe(24)


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(f"Unknown time zone {value!r}.") from error


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


# --- On-call --------------------------------------------------------------------------


class Schedule(models.Model):
    name = models.CharField(max_length=100, unique=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="schedules"
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    description = models.TextField(blank=True)
    # The iCal feed URL carries this; rotating it revokes every subscription.
    ical_token = models.CharField(max_length=64, unique=True, default=new_token)
    # The last instant whose shift starts have been announced (shift-start notices).
    announced_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TurnUnit(models.TextChoices):
    HOURS = "hours", "Hours"
    DAYS = "days", "Days"
    WEEKS = "weeks", "Weeks"


class ScheduleLayer(models.Model):
    """A rotation of users. Higher positions sit on top: where they have someone, they win."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=100, default="Layer")
    position = models.PositiveSmallIntegerField(default=0)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # The first turn starts at start_date + handoff_time in time_zone (wall clock).
    start_date = models.DateField()
    handoff_time = models.TimeField()
    turn_unit = models.CharField(max_length=10, choices=TurnUnit, default=TurnUnit.WEEKS)
    turn_length = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["schedule", "position", "id"]

    def __str__(self) -> str:
        return f"{self.schedule} / {self.name}"

    @property
    def users(self) -> list[User]:
        """The rotation, in order (prefetch `members__user` when reading many)."""
        return [m.user for m in self.members.all()]

    def clean(self) -> None:
        if self.turn_length < 1:
            raise ValidationError({"turn_length": "A turn lasts at least one unit."})


class LayerMember(models.Model):
    layer = models.ForeignKey(ScheduleLayer, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["layer", "position", "id"]

    def __str__(self) -> str:
        return f"{self.user} on {self.layer}"


class LayerRestriction(models.Model):
    """The layer is on only inside these windows (its time zone), e.g. Mon-Fri 09:00-17:00.

    An end at or before the start crosses midnight; `days` are the days a window starts.
    """

    layer = models.ForeignKey(ScheduleLayer, on_delete=models.CASCADE, related_name="restrictions")
    days = models.JSONField(default=list, help_text="Weekdays 0=Monday..6=Sunday")
    start_time = models.TimeField()
    end_time = models.TimeField()

    def __str__(self) -> str:
        days = ",".join(WEEKDAYS[d] for d in self.days)
        return f"{days} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    def clean(self) -> None:
        if not self.days or any(d not in range(7) for d in self.days):
            raise ValidationError({"days": "Choose weekdays from 0 (Monday) to 6 (Sunday)."})


class Override(models.Model):
    """Someone covers a span; overrides win over every layer."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start", "id"]
        indexes = [models.Index(fields=["schedule", "end"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")),
                name="override_ends_after_start",
                violation_error_message="An override ends after it starts.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} covers {self.schedule} from {self.start:%Y-%m-%d %H:%M}"


class UserFeedToken(models.Model):
    """The secret in a user's personal iCal feed URL; rotating it revokes every subscription."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="feed_token")
    token = models.CharField(max_length=64, unique=True, default=new_token)

    def __str__(self) -> str:
        return f"iCal feed of {self.user}"


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"
    SLACK = "slack", "Slack-compatible webhook"


class ContactMethod(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="contact_methods")
    kind = models.CharField(max_length=20, choices=ChannelKind)
    address = models.CharField(max_length=500, help_text="An email address or a URL")
    label = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["user", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.address}"

    def clean(self) -> None:
        from django.core.validators import EmailValidator, URLValidator

        validator = EmailValidator() if self.kind == ChannelKind.EMAIL else URLValidator()
        try:
            validator(self.address)
        except ValidationError as error:
            raise ValidationError({"address": error.messages}) from error


class NotificationRule(models.Model):
    """Use this contact method `delay_minutes` after paging starts, if still unacknowledged."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notification_rules")
    contact_method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE, related_name="+")
    delay_minutes = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["user", "delay_minutes", "id"]

    # --- Escalation policies ----------------------------------------------------------------

    def __str__(self) -> str:
        return f"{self.contact_method} after {self.delay_minutes} min"


class EscalationPolicy(models.Model):
    name = models.CharField(max_length=100, unique=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="escalation_policies"
    )
    is_team_default = models.BooleanField(default=False)
    repeat = models.PositiveSmallIntegerField(
        default=0, help_text="Run the levels again this many times while unacknowledged."
    )
    # Business hours, for levels that apply only within or outside them.
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    business_days = models.JSONField(default=list, blank=True)
    business_start = models.TimeField(null=True, blank=True)
    business_end = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"
        constraints = [
            models.UniqueConstraint(
                fields=["team"],
                condition=Q(is_team_default=True),
                name="one_default_policy_per_team",
                violation_error_message="The team already has a default policy.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class LevelHours(models.TextChoices):
    ALWAYS = "always", "Always"
    BUSINESS = "business", "Business hours only"
    AFTER_HOURS = "after_hours", "After hours only"


class EscalationLevel(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveSmallIntegerField(default=0)
    delay_minutes = models.PositiveIntegerField(
        default=30, help_text="Minutes before the next level if nobody acknowledges."
    )
    hours = models.CharField(max_length=20, choices=LevelHours, default=LevelHours.ALWAYS)

    class Meta:
        ordering = ["policy", "position", "id"]

    def __str__(self) -> str:
        return f"{self.policy} level {self.position + 1}"


class TargetKind(models.TextChoices):
    USER = "user", "User"
    SCHEDULE = "schedule", "Schedule"
    TEAM = "team", "Team"


class EscalationTarget(models.Model):
    level = models.ForeignKey(EscalationLevel, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(max_length=20, choices=TargetKind)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    schedule = models.ForeignKey(
        Schedule, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        ordering = ["level", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="user", user__isnull=False, schedule__isnull=True, team__isnull=True)
                    | Q(
                        kind="schedule",
                        schedule__isnull=False,
                        user__isnull=True,
                        team__isnull=True,
                    )
                    | Q(kind="team", team__isnull=False, user__isnull=True, schedule__isnull=True)
                ),
                name="target_names_one_thing",
                violation_error_message="A target names exactly one user, schedule or team.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {getattr(self, self.kind)}"


class ServiceOnCall(models.Model):
    """A service's policy (else its team's default) and its support hours for P4/P5."""

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="oncall")
    policy = models.ForeignKey(
        EscalationPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    support_days = models.JSONField(default=list, blank=True)
    support_start = models.TimeField(null=True, blank=True)
    support_end = models.TimeField(null=True, blank=True)

    class Meta:
        verbose_name = "service on-call settings"
        verbose_name_plural = "service on-call settings"

    # --- The timer engine ----------------------------------------------------------------------

    def __str__(self) -> str:
        return f"On-call settings of {self.service}"


class RunState(models.TextChoices):
    ACTIVE = "active", "Paging"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    STOPPED = "stopped", "Stopped"


class EscalationRun(models.Model):
    """One incident being paged through one policy (as it was when paging started)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="escalations")
    policy = models.ForeignKey(
        EscalationPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    snapshot = models.JSONField(default=dict)
    state = models.CharField(max_length=20, choices=RunState, default=RunState.ACTIVE)
    # The level that fires at next_at, and how many times the policy has repeated.
    level = models.PositiveSmallIntegerField(default=0)
    loop = models.PositiveSmallIntegerField(default=0)
    next_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # The sweeper and the auditor: WHERE state = 'active' AND next_at <= now
            models.Index(
                fields=["next_at"], condition=Q(state="active"), name="escalation_run_due"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["incident"], condition=Q(state="active"), name="one_active_run"
            )
        ]

    def __str__(self) -> str:
        return f"Escalation of incident {self.incident_id} ({self.state})"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class NotificationReason(models.TextChoices):
    PAGE = "page", "Page"
    SLA_BREACH = "sla_breach", "SLA breach"
    UPDATE_REMINDER = "update_reminder", "Update reminder"
    SHIFT_START = "shift_start", "Shift starting"


class Notification(models.Model):
    """An outbox row: one message to one person on one channel, sent once."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    run = models.ForeignKey(
        EscalationRun, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.CharField(max_length=20, choices=ChannelKind)
    address = models.CharField(max_length=500)
    rule = models.ForeignKey(
        NotificationRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=20, choices=NotificationReason)
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=NotificationStatus, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(default=timezone.now)
    # Until then a message for this row is believed to be in the broker.
    dispatched_until = models.DateTimeField(null=True, blank=True)
    # A claim expires: a worker killed mid-send leaves the row to be retried.
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    ack_used_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweeper: WHERE status = 'pending' AND due_at <= now
            models.Index(fields=["due_at"], condition=Q(status="pending"), name="notification_due"),
            # Stale claims: WHERE status = 'sending' AND claimed_until < now
            models.Index(
                fields=["claimed_until"],
                condition=Q(status="sending"),
                name="notification_claimed",
            ),
            # The per-user hourly cap: WHERE recipient_id = u AND created_at > now - 1h
            models.Index(fields=["recipient", "created_at"], name="notification_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} to {self.recipient} by {self.channel}"


# --- SLA and reminders --------------------------------------------------------------------


class TimerKind(models.TextChoices):
    ACK_WARNING = "ack_warning", "Time to acknowledge: 75%"
    ACK_BREACH = "ack_breach", "Time to acknowledge breached"
    RESOLVE_WARNING = "resolve_warning", "Time to resolve: 75%"
    RESOLVE_BREACH = "resolve_breach", "Time to resolve breached"
    UPDATE_DUE = "update_due", "Stakeholder update due"


class TimerState(models.TextChoices):
    PENDING = "pending", "Pending"
    PAUSED = "paused", "Paused"
    FIRED = "fired", "Fired"
    CANCELLED = "cancelled", "Cancelled"


class IncidentTimer(models.Model):
    """SLA warnings and breaches and update reminders: rows with a due time."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timers")
    kind = models.CharField(max_length=20, choices=TimerKind)
    state = models.CharField(max_length=20, choices=TimerState, default=TimerState.PENDING)
    due_at = models.DateTimeField(null=True, blank=True)
    # While paused (on hold), what was left of the time.
    remaining = models.DurationField(null=True, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # The sweeper: WHERE state = 'pending' AND due_at <= now
            models.Index(fields=["due_at"], condition=Q(state="pending"), name="timer_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "kind"],
                condition=Q(state__in=["pending", "paused"]),
                name="one_live_timer_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on incident {self.incident_id}"


class SlaTarget(models.Model):
    """Editable targets per priority; no row (or empty durations) means no target."""

    priority = models.PositiveSmallIntegerField(unique=True)
    time_to_acknowledge = models.DurationField(null=True, blank=True)
    time_to_resolve = models.DurationField(null=True, blank=True)
    update_every = models.DurationField(null=True, blank=True)

    class Meta:
        ordering = ["priority"]

    def __str__(self) -> str:
        return f"P{self.priority}"


class SlaBreach(models.Model):
    """Recorded for reports."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="sla_breaches")
    kind = models.CharField(max_length=20)  # acknowledge | resolve
    target = models.DurationField()
    breached_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-breached_at"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "kind"], name="one_breach_per_kind")
        ]

    def __str__(self) -> str:
        return f"Time to {self.kind} breached on incident {self.incident_id}"
