"""Value sets of the postmortems app (a leaf module: imports nothing of ours)."""

from django.db import models


class PostmortemStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"


class FactorKind(models.TextChoices):
    TECHNICAL = "technical", "Technical"
    PROCESS = "process", "Process"
    PEOPLE_AND_TOOLS = "people_and_tools", "People and tools"
    EXTERNAL = "external", "External"


class ActionPriority(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    WONT_DO = "wont_do", "Won't do"


OPEN_ACTION_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


class ReminderKind(models.TextChoices):
    ACTION_OVERDUE = "action_overdue", "Action item overdue"
    DRAFT_STALE = "draft_stale", "Postmortem still in draft"
