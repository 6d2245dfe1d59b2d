from functools import cached_property

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from knox import views as knox_views
from knox.models import AuthToken
from rest_framework import mixins, status, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from incidents import login_limits, services
from incidents.api import serializers as s
from incidents.enums import UserRole
from incidents.filters import IncidentFilter, TimelineFilter, UpdateFilter
from incidents.models import (
    Category,
    Incident,
    PriorityMatrixEntry,
    Runbook,
    Service,
    Team,
    User,
)

NUMBER_PATTERN = "[Ii][Nn][Cc]-[0-9]+"
TRANSITION_PATTERN = "|".join(services.TRANSITIONS)


@extend_schema_view(post=extend_schema(request=None, responses={204: None}))
class LogoutView(knox_views.LogoutView):
    """Revoke the token this request was made with."""


@extend_schema_view(post=extend_schema(request=None, responses={204: None}))
class LogoutAllView(knox_views.LogoutAllView):
    """Revoke every token of the requesting user."""


class TokenLoginView(APIView):
    """Exchange a username and password for an API token (stored hashed, expiring)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=AuthTokenSerializer, responses=s.TokenSerializer)
    def post(self, request):
        wait = login_limits.retry_after(
            username=str(request.data.get("username", "")), request=request
        )
        if wait:
            raise Throttled(wait=wait, detail=login_limits.refusal_message(wait))
        credentials = AuthTokenSerializer(data=request.data, context={"request": request})
        credentials.is_valid(raise_exception=True)
        instance, token = AuthToken.objects.create(credentials.validated_data["user"])
        return Response({"token": token, "expiry": instance.expiry})


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.IncidentSerializer
    filterset_class = IncidentFilter
    ordering_fields = ["id", "created_at", "updated_at", "priority"]
    lookup_field = "number"
    lookup_value_regex = NUMBER_PATTERN
    # The reporter confirms a resolution whatever their role; the service checks who.
    action_write_roles = {"transition": UserRole.STAKEHOLDER}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Incident.objects.none()
        return Incident.objects.visible_to(self.request.user).select_related(
            "service", "category", "team", "assignee", "reporter", "opened_by"
        )

    def get_object(self) -> Incident:
        pk = Incident.pk_from_number(self.kwargs["number"])
        return get_object_or_404(self.get_queryset(), pk=pk)

    def _respond(self, incident: Incident, code: int = status.HTTP_200_OK, **kwargs) -> Response:
        incident = self.get_queryset().get(pk=incident.pk)
        return Response(self.get_serializer(incident).data, status=code, **kwargs)

    @extend_schema(request=s.IncidentWriteSerializer, responses={201: s.IncidentSerializer})
    def create(self, request):
        data = s.IncidentWriteSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        incident = services.incident_create(by=request.user, source="api", **data.validated_data)
        location = request.build_absolute_uri(f"/api/v1/incidents/{incident.number}/")
        return self._respond(incident, status.HTTP_201_CREATED, headers={"Location": location})

    @extend_schema(request=s.IncidentWriteSerializer, responses=s.IncidentSerializer)
    def partial_update(self, request, number=None):
        incident = self.get_object()
        data = s.IncidentWriteSerializer(
            data=request.data, partial=True, context={"request": request}
        )
        data.is_valid(raise_exception=True)
        incident = services.incident_edit(incident=incident, by=request.user, **data.validated_data)
        return self._respond(incident)

    @extend_schema(
        request=s.TransitionSerializer,
        responses=s.IncidentSerializer,
        parameters=[OpenApiParameter("transition", str, "path", enum=list(services.TRANSITIONS))],
        operation_id="incidents_transition",
    )
    @action(detail=True, methods=["post"], url_path=f"(?P<transition>{TRANSITION_PATTERN})")
    def transition(self, request, number=None, transition=None):
        """Move the incident through its lifecycle; 409 when the current state refuses it."""
        incident = self.get_object()
        data = s.TransitionSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        if transition != "close" and not request.user.has_role(UserRole.RESPONDER):
            self.permission_denied(request, "Only responders work incidents.")
        incident = services.incident_transition(
            incident=incident, action=transition, by=request.user, **data.validated_data
        )
        return self._respond(incident)

    @extend_schema(request=s.PromoteSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def promote(self, request, number=None):
        incident = self.get_object()
        data = s.PromoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_promote(
            incident=incident, by=request.user, **data.validated_data
        )
        return self._respond(incident)

    @extend_schema(request=s.ApplyRunbookSerializer, responses=s.TaskSerializer(many=True))
    @action(detail=True, methods=["post"], url_path="apply-runbook")
    def apply_runbook(self, request, number=None):
        incident = self.get_object()
        data = s.ApplyRunbookSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tasks = services.runbook_apply(
            incident=incident, runbook=data.validated_data["runbook"], by=request.user
        )
        return Response(s.TaskSerializer(tasks, many=True).data, status=status.HTTP_201_CREATED)


class IncidentChildViewSet(viewsets.GenericViewSet):
    """A collection inside one incident: the incident must be visible to the requester."""

    @cached_property
    def incident(self) -> Incident:
        pk = Incident.pk_from_number(self.kwargs["number"])
        return get_object_or_404(Incident.objects.visible_to(self.request.user), pk=pk)

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        # 404 before the input is read: a 400 would tell an outsider the incident exists.
        self.incident  # noqa: B018

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no incident
            return self.get_serializer_class().Meta.model.objects.none()
        return self.scoped(self.incident)


class TimelineViewSet(mixins.ListModelMixin, IncidentChildViewSet):
    serializer_class = s.TimelineEventSerializer
    filterset_class = TimelineFilter
    ordering_fields = ["id"]

    def scoped(self, incident):
        return incident.timeline.select_related("actor")


class UpdateViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, IncidentChildViewSet):
    serializer_class = s.UpdateSerializer
    filterset_class = UpdateFilter
    ordering_fields = ["id"]

    def scoped(self, incident):
        return incident.updates.select_related("author")

    def perform_create(self, serializer):
        serializer.instance = services.update_post(
            incident=self.incident, by=self.request.user, **serializer.validated_data
        )


class TaskViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, IncidentChildViewSet
):
    serializer_class = s.TaskSerializer
    pagination_class = None
    http_method_names = ["get", "post", "patch", "options", "head"]

    def scoped(self, incident):
        return incident.tasks.select_related("assignee")

    def perform_create(self, serializer):
        serializer.instance = services.task_add(
            incident=self.incident, by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.task_update(
            task=serializer.instance, by=self.request.user, **serializer.validated_data
        )


class RoleViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, IncidentChildViewSet
):
    serializer_class = s.RoleSerializer
    pagination_class = None

    def scoped(self, incident):
        return incident.roles.select_related("user")

    def perform_create(self, serializer):
        serializer.instance = services.role_assign(
            incident=self.incident, by=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.role_remove(role=instance, by=self.request.user)


class AttachmentViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, IncidentChildViewSet):
    serializer_class = s.AttachmentSerializer
    ordering_fields = ["id"]

    def scoped(self, incident):
        return incident.attachments.select_related("uploaded_by")

    def perform_create(self, serializer):
        serializer.instance = services.attachment_add(
            incident=self.incident, by=self.request.user, upload=serializer.validated_data["file"]
        )

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, number=None, pk=None):
        attachment = get_object_or_404(self.get_queryset(), pk=pk)
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.filename,
            content_type=attachment.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class ReferenceViewSet(viewsets.ModelViewSet):
    """Reference data: everyone reads, managers and admins edit."""

    write_role = UserRole.MANAGER
    lookup_field = "slug"


class TeamViewSet(ReferenceViewSet):
    queryset = Team.objects.select_related("manager").prefetch_related("members")
    serializer_class = s.TeamSerializer
    ordering = ["name"]


class ServiceViewSet(ReferenceViewSet):
    queryset = Service.objects.select_related("team")
    serializer_class = s.ServiceSerializer
    ordering = ["name"]


class CategoryViewSet(ReferenceViewSet):
    queryset = Category.objects.select_related("parent")
    serializer_class = s.CategorySerializer
    ordering = ["slug"]


class PriorityMatrixViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """The nine cells of impact x urgency; managers may change the priority of a cell."""

    queryset = PriorityMatrixEntry.objects.all()
    serializer_class = s.PriorityMatrixEntrySerializer
    pagination_class = None
    write_role = UserRole.MANAGER
    http_method_names = ["get", "patch", "options", "head"]


class RunbookViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Runbook.objects.prefetch_related("steps", "services", "categories")
    serializer_class = s.RunbookSerializer
    ordering = ["name"]


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = User.objects.filter(is_active=True)
    serializer_class = s.UserSerializer
    lookup_field = "username"
    ordering = ["username"]
