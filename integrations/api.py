"""REST API for managing integrations (the alert endpoints themselves are in ingest.py)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from incidents.enums import UserRole
from incidents.models import Service
from integrations import outbound, services
from integrations.enums import EVENT_TYPES, IntegrationKind
from integrations.models import Integration, WebhookDelivery, WebhookEndpoint


class IntegrationSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", queryset=Service.objects.all())
    endpoints = serializers.SerializerMethodField()

    class Meta:
        model = Integration
        fields = [
            "id",
            "name",
            "service",
            "kind",
            "enabled",
            "key_prefix",
            "key_rotated_at",
            "severity_map",
            "auto_resolve",
            "group_window_seconds",
            "rate_limit_per_minute",
            "heartbeat_interval_seconds",
            "heartbeat_grace_seconds",
            "last_ping_at",
            "endpoints",
            "created_at",
        ]
        read_only_fields = ["key_prefix", "key_rotated_at", "last_ping_at", "created_at"]

    def get_endpoints(self, integration: Integration) -> dict[str, str]:
        return endpoint_urls(integration, self.context.get("request"))

    def validate(self, attrs):
        if self.instance is not None and "kind" in attrs and attrs["kind"] != self.instance.kind:
            raise serializers.ValidationError({"kind": "The kind of an integration is fixed."})
        return attrs


class IntegrationCreatedSerializer(IntegrationSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once; stored only as a hash.")

    class Meta(IntegrationSerializer.Meta):
        fields = [*IntegrationSerializer.Meta.fields, "key"]


def endpoint_urls(integration: Integration, request, key: str = "<key>") -> dict[str, str]:
    def url(name: str, **kwargs) -> str:
        path = reverse(name, kwargs=kwargs)
        return request.build_absolute_uri(path) if request is not None else path

    if integration.kind == IntegrationKind.HEARTBEAT:
        return {"ping": url("integrations:heartbeat", key=key)}
    return {
        "generic": url("integrations:alerts"),
        "alertmanager": url("integrations:alertmanager"),
        "pagerduty": url("integrations:pagerduty"),
    }


class IntegrationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Integrations: everyone reads, managers create, change and rotate keys."""

    queryset = Integration.objects.select_related("service")
    serializer_class = IntegrationSerializer
    write_role = UserRole.MANAGER
    http_method_names = ["get", "post", "patch", "options", "head"]
    ordering = ["id"]
    lookup_value_regex = "[0-9]+"
    filterset_fields = ["kind", "enabled", "service__slug"]

    @extend_schema(responses={201: IntegrationCreatedSerializer})
    def create(self, request):
        data = IntegrationSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = {k: v for k, v in data.validated_data.items()}
        integration, key = services.integration_create(by=request.user, **fields)
        integration.key = key
        body = IntegrationCreatedSerializer(integration, context={"request": request}).data
        body["endpoints"] = endpoint_urls(integration, request, key=key)
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        changes = dict(serializer.validated_data)
        changes.pop("kind", None)
        serializer.instance = services.integration_update(
            integration=serializer.instance, **changes
        )

    @extend_schema(
        request=None,
        responses=inline_serializer("RotatedKey", {"key": serializers.CharField()}),
    )
    @action(detail=True, methods=["post"], url_path="rotate-key")
    def rotate_key(self, request, pk=None):
        """A new key, shown once; the old key stops working at once."""
        integration = self.get_object()
        key = services.integration_rotate_key(integration=integration)
        return Response({"key": key, "endpoints": endpoint_urls(integration, request, key=key)})


class IsManager(BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_role(UserRole.MANAGER))


class WebhookEndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES), allow_empty=False
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "name", "url", "kind", "event_types", "secret", "enabled",
                  "consecutive_failures", "disabled_reason", "disabled_at",
                  "created_at"]  # fmt: skip
        read_only_fields = ["secret", "consecutive_failures", "disabled_reason", "disabled_at",
                            "created_at"]  # fmt: skip


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "message_id", "event_type", "status", "attempts", "next_attempt_at",
                  "last_attempt_at", "request_headers", "payload", "response_code",
                  "response_body", "duration_ms", "error", "created_at"]  # fmt: skip


class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Outbound webhooks (managers only: the signing secret is readable here)."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    permission_classes = [IsManager]
    ordering = ["id"]
    lookup_value_regex = "[0-9]+"

    def perform_create(self, serializer):
        serializer.instance = outbound.webhook_endpoint_create(**serializer.validated_data)

    @extend_schema(request=None, responses=WebhookEndpointSerializer)
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        endpoint = outbound.webhook_endpoint_enable(endpoint=self.get_object())
        return Response(self.get_serializer(endpoint).data)

    @extend_schema(responses=WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The delivery log, newest first."""
        page = self.paginate_queryset(self.get_object().deliveries.order_by("-id"))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
