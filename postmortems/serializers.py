from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.api.serializers import IncidentNumberField, username_field
from incidents.models import TimelineEvent
from postmortems import blameless, services
from postmortems.models import (
    EDITABLE_FIELDS,
    ActionItem,
    ContributingFactor,
    Postmortem,
    PostmortemRevision,
    PostmortemTransition,
    TimelinePick,
)


class FactorSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContributingFactor
        fields = ["id", "kind", "description", "is_root_cause", "position"]
        read_only_fields = ["position"]


class PickSerializer(serializers.ModelSerializer):
    event = serializers.PrimaryKeyRelatedField(queryset=TimelineEvent.objects.all())
    kind = serializers.CharField(source="event.kind", read_only=True)
    at = serializers.DateTimeField(source="event.created_at", read_only=True)
    actor = serializers.CharField(source="event.actor_name", read_only=True)

    class Meta:
        model = TimelinePick
        fields = ["id", "event", "kind", "at", "actor", "annotation"]


class PickAnnotateSerializer(serializers.Serializer):
    annotation = serializers.CharField(allow_blank=True)


class ActionItemSerializer(serializers.ModelSerializer):
    owner = username_field(required=False, allow_null=True)
    incident = serializers.CharField(source="postmortem.incident.number", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "postmortem",
            "incident",
            "title",
            "owner",
            "due_date",
            "priority",
            "status",
            "wont_do_reason",
            "external_url",
            "is_overdue",
            "created_at",
            "completed_at",
        ]
        read_only_fields = ["postmortem", "created_at", "completed_at"]


class TransitionLogSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="by.username", default=None, read_only=True)

    class Meta:
        model = PostmortemTransition
        fields = ["from_status", "to_status", "by", "note", "created_at"]


class PostmortemListSerializer(serializers.ModelSerializer):
    incident = IncidentNumberField(read_only=True)
    author = serializers.CharField(source="author.username", default=None, read_only=True)

    class Meta:
        model = Postmortem
        fields = [
            "id",
            "incident",
            "title",
            "status",
            "author",
            "revision",
            "created_at",
            "published_at",
        ]


class PostmortemSerializer(PostmortemListSerializer):
    reviewers = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    factors = FactorSerializer(many=True, read_only=True)
    timeline = PickSerializer(source="picks", many=True, read_only=True)
    actions = ActionItemSerializer(many=True, read_only=True)
    transitions = TransitionLogSerializer(many=True, read_only=True)
    allowed_actions = serializers.SerializerMethodField()
    blameless = serializers.SerializerMethodField()

    class Meta:
        model = Postmortem
        fields = [
            *PostmortemListSerializer.Meta.fields,
            *[f for f in EDITABLE_FIELDS if f != "title"],
            "reviewers",
            "submitted_at",
            "updated_at",
            "factors",
            "timeline",
            "actions",
            "transitions",
            "allowed_actions",
            "blameless",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, postmortem) -> list[str]:
        return services.allowed_actions(postmortem)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_blameless(self, postmortem) -> dict:
        warnings = services.blameless_warnings(postmortem)
        return {
            "warnings": [w.as_dict() for w in warnings],
            "guidance": blameless.GUIDANCE if warnings else "",
        }


class PostmortemWriteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Postmortem
        fields = list(EDITABLE_FIELDS)
        extra_kwargs = {"title": {"required": False}}


class PostmortemCreateSerializer(serializers.Serializer):
    incident = IncidentNumberField()


class RevisionWriteSerializer(PostmortemWriteSerializer):
    note = serializers.CharField()

    class Meta(PostmortemWriteSerializer.Meta):
        fields = ["note", *EDITABLE_FIELDS]


class RevisionSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="by.username", default=None, read_only=True)

    class Meta:
        model = PostmortemRevision
        fields = ["number", "note", "changed_fields", "by", "created_at", "content"]


class PostmortemTransitionSerializer(serializers.Serializer):
    reviewers = username_field(many=True, required=False)
    note = serializers.CharField(required=False, allow_blank=True, default="")
