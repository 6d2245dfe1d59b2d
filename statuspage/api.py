"""Staff API (/api/v1/): components, groups, maintenances, webhook subscribers, publish."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.enums import PublicStatus, UserRole
from incidents.models import Incident, Service
from statuspage import selectors, services
from statuspage.enums import ComponentStatus, IncidentImpact
from statuspage.models import Component, ComponentGroup, Maintenance, Subscriber


class GroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = ComponentGroup
        fields = ["id", "code", "name", "description", "position", "created_at", "updated_at"]
        read_only_fields = ["id", "code", "created_at", "updated_at"]


class ComponentSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(
        slug_field="slug", queryset=Service.objects.all(), required=False, allow_null=True
    )
    status = serializers.ChoiceField(choices=ComponentStatus.choices, required=False)

    class Meta:
        model = Component
        fields = [
            "id", "code", "name", "description", "group", "service", "position", "status",
            "showcase", "only_show_if_degraded", "start_date", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "code", "created_at", "updated_at"]


class ComponentStatusSerializer(serializers.Serializer):
    component = serializers.JSONField()
    status = serializers.ChoiceField(choices=ComponentStatus.choices)


class ComponentViewSet(viewsets.ModelViewSet):
    """Managers shape the page; responders may change a component's status."""

    queryset = Component.objects.select_related("service", "group")
    serializer_class = ComponentSerializer
    write_role = UserRole.MANAGER
    action_write_roles = {"partial_update": UserRole.RESPONDER}
    ordering = ["position", "id"]

    def perform_create(self, serializer):
        serializer.instance = services.component_create(**serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if set(data) - {"status"} and not self.request.user.has_role(UserRole.MANAGER):
            self.permission_denied(self.request, "Only managers edit components.")
        serializer.instance = services.component_update(
            component=serializer.instance, reason=f"by {self.request.user}", **data
        )

    def perform_destroy(self, instance):
        services.component_delete(component=instance)


class GroupViewSet(viewsets.ModelViewSet):
    queryset = ComponentGroup.objects.all()
    serializer_class = GroupSerializer
    write_role = UserRole.MANAGER
    ordering = ["position", "id"]

    def perform_create(self, serializer):
        serializer.instance = services.group_save(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.group_save(
            group=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.group_delete(group=instance)


class MaintenanceUpdateSerializer(serializers.Serializer):
    status = serializers.CharField(read_only=True)
    body = serializers.CharField()
    created_at = serializers.DateTimeField(read_only=True)


class MaintenanceSerializer(serializers.ModelSerializer):
    components = serializers.PrimaryKeyRelatedField(
        queryset=Component.objects.all(), many=True, required=False
    )
    updates = MaintenanceUpdateSerializer(many=True, read_only=True)
    body = serializers.CharField(write_only=True, required=False, allow_blank=True)

    class Meta:
        model = Maintenance
        fields = [
            "id", "code", "name", "status", "components", "scheduled_for", "scheduled_until",
            "started_at", "completed_at", "created_at", "updated_at", "updates", "body",
        ]  # fmt: skip
        read_only_fields = [
            "id", "code", "status", "started_at", "completed_at", "created_at", "updated_at",
        ]  # fmt: skip


class ExtendSerializer(serializers.Serializer):
    until = serializers.DateTimeField()
    body = serializers.CharField(required=False, allow_blank=True, default="")


class EndSerializer(serializers.Serializer):
    body = serializers.CharField(required=False, allow_blank=True, default="")


class PostMaintenanceUpdateSerializer(serializers.Serializer):
    body = serializers.CharField()
    status = serializers.ChoiceField(choices=["verifying"], required=False)


class MaintenanceViewSet(viewsets.ModelViewSet):
    """Scheduled maintenance: it starts and ends by itself; extend or end it early here."""

    serializer_class = MaintenanceSerializer
    write_role = UserRole.RESPONDER
    http_method_names = ["get", "post", "patch", "delete", "options", "head"]

    def get_queryset(self):
        return selectors.maintenances()

    def perform_create(self, serializer):
        serializer.instance = services.maintenance_create(**serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("body", None)
        serializer.instance = services.maintenance_edit(maintenance=serializer.instance, **data)

    def perform_destroy(self, instance):
        services.maintenance_cancel(maintenance=instance)

    def _respond(self, maintenance: Maintenance) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=maintenance.pk)).data)

    @extend_schema(request=ExtendSerializer, responses=MaintenanceSerializer)
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        data = ExtendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        maintenance = services.maintenance_extend(
            maintenance=self.get_object(), **data.validated_data
        )
        return self._respond(maintenance)

    @extend_schema(request=EndSerializer, responses=MaintenanceSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        data = EndSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        maintenance = services.maintenance_start(
            maintenance=self.get_object(), **data.validated_data
        )
        return self._respond(maintenance)

    @extend_schema(request=EndSerializer, responses=MaintenanceSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """End the window now (early, or on time by hand)."""
        data = EndSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        maintenance = services.maintenance_complete(
            maintenance=self.get_object(), **data.validated_data
        )
        return self._respond(maintenance)

    @extend_schema(request=PostMaintenanceUpdateSerializer, responses=MaintenanceSerializer)
    @action(detail=True, methods=["post"], url_path="updates")
    def post_update(self, request, pk=None):
        data = PostMaintenanceUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        maintenance = self.get_object()
        services.maintenance_post_update(maintenance=maintenance, **data.validated_data)
        return self._respond(maintenance)


class WebhookSubscriberSerializer(serializers.ModelSerializer):
    components = serializers.PrimaryKeyRelatedField(
        queryset=Component.objects.all(), many=True, required=False
    )
    url = serializers.URLField(source="webhook_url")

    class Meta:
        model = Subscriber
        fields = ["id", "url", "components", "confirmed_at", "created_at"]
        read_only_fields = ["id", "confirmed_at", "created_at"]


class WebhookSubscriberViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    serializer_class = WebhookSubscriberSerializer
    write_role = UserRole.MANAGER
    queryset = Subscriber.objects.filter(kind="webhook").prefetch_related("components")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.webhook_subscriber_create(
            url=data["webhook_url"], components=data.get("components", [])
        )


class PublishSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    impact = serializers.ChoiceField(choices=IncidentImpact.choices)
    status = serializers.ChoiceField(
        choices=[s for s in PublicStatus.values if s != PublicStatus.RESOLVED],
        default=PublicStatus.INVESTIGATING,
    )
    body = serializers.CharField(required=False, allow_blank=True, default="")
    components = ComponentStatusSerializer(many=True, required=False)


class PublicIncidentSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    impact = serializers.CharField()
    status = serializers.CharField()
    url = serializers.SerializerMethodField()
    components = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(f"/status/incidents/{obj.code}/")

    def get_components(self, obj) -> list[dict]:
        return [{"id": c.pk, "name": c.name, "status": c.status} for c in obj.components.all()]


class PublishView(APIView):
    """Put an incident on the status page (responders; never a private incident)."""

    write_role = UserRole.RESPONDER

    @extend_schema(request=PublishSerializer, responses={201: PublicIncidentSerializer})
    def post(self, request, number: str):
        pk = Incident.pk_from_number(number)
        incident = get_object_or_404(Incident.objects.visible_to(request.user), pk=pk)
        data = PublishSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        public = services.public_incident_publish(
            incident=incident, by=request.user, **data.validated_data
        )
        output = PublicIncidentSerializer(public, context={"request": request})
        return Response(output.data, status=status.HTTP_201_CREATED)
