"""On-call and paging in the REST API: input validated here, work done by escalation.services."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from escalation.models import (
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    EscalationRun,
    EscalationTarget,
    LayerRestriction,
    NotificationRule,
    Override,
    Schedule,
    ScheduleLayer,
    TargetKind,
)
from incidents.api.serializers import slug_field, username_field
from incidents.models import Team

# --- Schedules ---------------------------------------------------------------------------


class RestrictionSerializer(serializers.ModelSerializer):
    days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        allow_empty=False,
        help_text="Weekdays the window starts on: 0 = Monday ... 6 = Sunday.",
    )

    class Meta:
        model = LayerRestriction
        fields = ["days", "start_time", "end_time"]


class LayerSerializer(serializers.ModelSerializer):
    users = username_field(many=True, help_text="The rotation, in order.")
    restrictions = RestrictionSerializer(many=True, required=False)
    time_zone = serializers.CharField(required=False, max_length=64)

    class Meta:
        model = ScheduleLayer
        fields = [
            "id", "name", "position", "time_zone", "start_date", "handoff_time",
            "turn_unit", "turn_length", "users", "restrictions",
        ]  # fmt: skip
        read_only_fields = ["id", "position"]
        extra_kwargs = {"name": {"required": False}}


class UpcomingOverrideSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Override
        fields = ["id", "user", "start", "end"]


class OverrideSerializer(serializers.ModelSerializer):
    user = username_field()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Override
        fields = ["id", "user", "start", "end", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]

    def validate(self, data):
        if data["end"] <= data["start"]:
            raise serializers.ValidationError({"end": "An override ends after it starts."})
        return data


class ScheduleSerializer(serializers.ModelSerializer):
    team = slug_field(Team, required=False, allow_null=True)
    layers = LayerSerializer(many=True, required=False)
    upcoming_overrides = UpcomingOverrideSerializer(many=True, read_only=True, source="overrides")

    class Meta:
        model = Schedule
        fields = [
            "id", "name", "team", "time_zone", "description", "layers", "upcoming_overrides",
        ]  # fmt: skip


def layer_specs(layers: list[dict]) -> list[dict]:
    """Validated layers as escalation.services.layer_create takes them."""
    return [{**spec, "restrictions": spec.get("restrictions", [])} for spec in layers]


class OnCallSerializer(serializers.Serializer):
    schedule = serializers.IntegerField(source="schedule.pk")
    schedule_name = serializers.CharField(source="schedule.name")
    user = serializers.CharField(source="current.user.username", allow_null=True, default=None)
    source = serializers.CharField(
        source="current.source", help_text='The layer\'s name, "override", or "" for nobody.'
    )
    since = serializers.DateTimeField(source="current.start")
    until = serializers.DateTimeField(
        source="current.end", help_text="The end of this shift (at most 14 days ahead)."
    )
    next_user = serializers.CharField(source="next.user.username", allow_null=True, default=None)


class OnCallQuerySerializer(serializers.Serializer):
    at = serializers.DateTimeField(required=False, help_text="Default: now.")
    team = slug_field(Team, required=False)


# --- Policies ----------------------------------------------------------------------------


class TargetSerializer(serializers.Serializer):
    """Exactly one of user (username), schedule (id) or team (slug)."""

    kind = serializers.ChoiceField(choices=TargetKind.choices, read_only=True)
    user = username_field(required=False)
    schedule = serializers.PrimaryKeyRelatedField(queryset=Schedule.objects.all(), required=False)
    team = slug_field(Team, required=False)

    def validate(self, data):
        named = [kind for kind in TargetKind.values if data.get(kind) is not None]
        if len(named) != 1:
            raise serializers.ValidationError(
                {"non_field_errors": ["Name exactly one user, schedule or team."]}
            )
        return data[named[0]]

    def to_representation(self, target: EscalationTarget):
        return {
            "kind": target.kind,
            "user": target.user.username if target.user_id else None,
            "schedule": target.schedule_id,
            "team": target.team.slug if target.team_id else None,
        }


class LevelSerializer(serializers.ModelSerializer):
    targets = TargetSerializer(many=True, allow_empty=False)

    class Meta:
        model = EscalationLevel
        fields = ["position", "delay_minutes", "hours", "targets"]
        read_only_fields = ["position"]


class PolicySerializer(serializers.ModelSerializer):
    team = slug_field(Team, required=False, allow_null=True)
    levels = LevelSerializer(many=True, required=False)
    business_days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), required=False
    )

    class Meta:
        model = EscalationPolicy
        fields = [
            "id", "name", "team", "is_team_default", "repeat", "time_zone",
            "business_days", "business_start", "business_end", "levels",
        ]  # fmt: skip


# --- Contact methods and rules -------------------------------------------------------------


class ContactMethodSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactMethod
        fields = ["id", "kind", "address", "label"]


class NotificationRuleSerializer(serializers.ModelSerializer):
    contact_method = serializers.PrimaryKeyRelatedField(queryset=ContactMethod.objects.none())

    class Meta:
        model = NotificationRule
        fields = ["id", "contact_method", "delay_minutes"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            # Only one's own contact methods can be chosen; others' do not exist here.
            fields["contact_method"].queryset = ContactMethod.objects.filter(user=request.user)
        return fields


# --- Paging an incident --------------------------------------------------------------------


class EscalateSerializer(serializers.Serializer):
    level = serializers.IntegerField(
        required=False, min_value=1, help_text="The level to page now (from 1); default: the next."
    )


class RunSerializer(serializers.ModelSerializer):
    """An incident's paging: the policy as it was when paging started, and where it stands."""

    incident = serializers.CharField(source="incident.number")
    policy = serializers.CharField(source="snapshot.name", default="")
    next_level = serializers.SerializerMethodField()
    levels = serializers.JSONField(source="snapshot.levels", default=list)

    class Meta:
        model = EscalationRun
        fields = [
            "id", "incident", "policy", "state", "next_level", "loop", "next_at",
            "started_at", "stopped_at", "stop_reason", "levels",
        ]  # fmt: skip

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_next_level(self, run: EscalationRun) -> int | None:
        """The level (from 1) that pages at next_at, if any."""
        return run.level + 1 if run.next_at else None
