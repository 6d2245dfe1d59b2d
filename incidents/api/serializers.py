from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.enums import CancelReason, HoldReason, Priority, ResolutionCode
from incidents.models import (
    Attachment,
    Category,
    Incident,
    IncidentRole,
    PriorityMatrixEntry,
    Runbook,
    RunbookStep,
    Service,
    Task,
    Team,
    TimelineEvent,
    Update,
    User,
)
from incidents.services import allowed_actions


def username_field(**kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True), **kwargs
    )


def slug_field(model, **kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="slug", queryset=model.objects.all(), **kwargs)


@extend_schema_field(OpenApiTypes.STR)
class IncidentNumberField(serializers.RelatedField):
    """An incident named by its number (`INC-7`), among those the requester may see."""

    default_error_messages = {"does_not_exist": "There is no incident {value}."}

    def get_queryset(self):
        return Incident.objects.visible_to(self.context["request"].user)

    def to_internal_value(self, data):
        pk = Incident.pk_from_number(str(data))
        incident = self.get_queryset().filter(pk=pk).first() if pk is not None else None
        if incident is None:
            self.fail("does_not_exist", value=data)
        return incident

    def to_representation(self, value):
        return value.number


class UserSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name", "email", "role", "time_zone"]


class TeamSerializer(serializers.ModelSerializer):
    manager = username_field(required=False, allow_null=True)
    members = username_field(many=True, required=False)

    class Meta:
        model = Team
        fields = ["id", "name", "slug", "manager", "members"]


class ServiceSerializer(serializers.ModelSerializer):
    team = slug_field(Team, required=False, allow_null=True)

    class Meta:
        model = Service
        fields = ["id", "name", "slug", "team", "description"]


class CategorySerializer(serializers.ModelSerializer):
    parent = slug_field(Category, required=False, allow_null=True)

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent"]


class PriorityMatrixEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = PriorityMatrixEntry
        fields = ["id", "impact", "urgency", "priority"]
        read_only_fields = ["impact", "urgency"]  # the nine cells are fixed; priorities change


class RunbookStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = RunbookStep
        fields = ["position", "title"]


class RunbookSerializer(serializers.ModelSerializer):
    steps = RunbookStepSerializer(many=True, read_only=True)
    services = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    categories = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = Runbook
        fields = ["id", "name", "description", "services", "categories", "steps"]


class IncidentSerializer(serializers.ModelSerializer):
    """What an incident looks like on the way out."""

    number = serializers.CharField(read_only=True)
    priority_label = serializers.CharField(source="get_priority_display", read_only=True)
    # Declared rather than derived: DRF drops allow_null/allow_blank from read-only model
    # fields, and the schema would then promise a value where there may be none.
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    reporter = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    opened_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    reporter_email = serializers.CharField(read_only=True)
    war_room_url = serializers.CharField(read_only=True)
    hold_reason = serializers.ChoiceField(HoldReason.choices, allow_blank=True, read_only=True)
    cancel_reason = serializers.ChoiceField(CancelReason.choices, allow_blank=True, read_only=True)
    resolution_code = serializers.ChoiceField(
        ResolutionCode.choices, allow_blank=True, read_only=True
    )
    duplicate_of = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "number", "title", "description", "error_codes", "source", "status",
            "impact", "urgency", "priority", "priority_label", "priority_override_reason",
            "is_major", "is_private", "service", "category", "team", "assignee",
            "reporter", "reporter_name", "reporter_email", "opened_by",
            "occurred_at", "detected_at", "reported_at", "users_affected",
            "financial_implications", "security_implications", "compliance_implications",
            "war_room_url", "hold_reason", "cancel_reason", "duplicate_of",
            "resolution_code", "resolution_notes", "reopen_count",
            "acknowledged_at", "mitigated_at", "resolved_at", "closed_at",
            "created_at", "updated_at", "allowed_actions",
        ]  # fmt: skip
        read_only_fields = fields

    def get_duplicate_of(self, incident: Incident) -> str | None:
        # The number is derived from the key, so no join is needed.
        return f"INC-{incident.duplicate_of_id}" if incident.duplicate_of_id else None

    def get_allowed_actions(self, incident: Incident) -> list[str]:
        return allowed_actions(incident)


class IncidentWriteSerializer(serializers.Serializer):
    """Fields a client may set when logging or editing an incident."""

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    error_codes = serializers.CharField(required=False, allow_blank=True, max_length=500)
    reporter = username_field(required=False, allow_null=True)
    reporter_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    reporter_email = serializers.EmailField(required=False, allow_blank=True)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True)
    detected_at = serializers.DateTimeField(required=False, allow_null=True)
    service = slug_field(Service, required=False, allow_null=True)
    category = slug_field(Category, required=False, allow_null=True)
    impact = serializers.IntegerField(required=False, min_value=1, max_value=3)
    urgency = serializers.IntegerField(required=False, min_value=1, max_value=3)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_null=True)
    priority_override_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500
    )
    users_affected = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    financial_implications = serializers.CharField(required=False, allow_blank=True)
    security_implications = serializers.CharField(required=False, allow_blank=True)
    compliance_implications = serializers.CharField(required=False, allow_blank=True)
    is_major = serializers.BooleanField(required=False)
    is_private = serializers.BooleanField(required=False)
    team = slug_field(Team, required=False, allow_null=True)
    assignee = username_field(required=False, allow_null=True)
    war_room_url = serializers.URLField(required=False, allow_blank=True)


class TransitionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    resolution_code = serializers.CharField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    duplicate_of = IncidentNumberField(required=False, allow_null=True, default=None)


class PromoteSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ApplyRunbookSerializer(serializers.Serializer):
    runbook = serializers.PrimaryKeyRelatedField(queryset=Runbook.objects.all())


class TimelineEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TimelineEvent
        fields = ["id", "kind", "actor", "actor_name", "created_at", "data"]


class UpdateSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    # Public updates: new component statuses, applied by the status page (shape checked there).
    components = serializers.JSONField(required=False, write_only=True)

    class Meta:
        model = Update
        fields = ["id", "visibility", "status", "body", "components", "author", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class TaskSerializer(serializers.ModelSerializer):
    assignee = username_field(required=False, allow_null=True)

    class Meta:
        model = Task
        fields = ["id", "title", "assignee", "done", "done_at", "due_at", "runbook", "position"]
        read_only_fields = ["id", "done_at", "runbook", "position"]


class RoleSerializer(serializers.ModelSerializer):
    user = username_field()

    class Meta:
        model = IncidentRole
        fields = ["id", "kind", "user", "assigned_at"]
        read_only_fields = ["id", "assigned_at"]
        validators = []  # the service replaces single holders; it enforces uniqueness


class AttachmentSerializer(serializers.ModelSerializer):
    file = serializers.FileField(write_only=True)
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id", "file", "filename", "content_type", "size", "uploaded_by", "created_at",
            "download_url",
        ]  # fmt: skip
        read_only_fields = ["id", "filename", "content_type", "size", "uploaded_by", "created_at"]

    def get_download_url(self, attachment: Attachment) -> str:
        return self.context["request"].build_absolute_uri(
            f"/api/v1/incidents/INC-{attachment.incident_id}/attachments/{attachment.pk}/download/"
        )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)
