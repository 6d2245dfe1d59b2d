"""REST API of on-call and paging (/api/v1/), and the engine's health endpoint."""

from datetime import timedelta

from django.db.models import Prefetch
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from escalation import selectors, services
from escalation.api import serializers as s
from escalation.models import (
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    NotificationRule,
    Override,
    Schedule,
)
from incidents.enums import UserRole
from incidents.exceptions import Conflict
from incidents.models import Incident
from incidents.permissions import RolePermission

SHIFT_HORIZON = timedelta(days=14)


class ResponderPermission(RolePermission):
    """On-call data names people and their rotas: responders read it, `write_role` writes."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.has_role(UserRole.RESPONDER)):
            return False
        return super().has_permission(request, view)


class AnswerFresh:
    """After a write, answer with the rows as they are now, loaded as a read loads them."""

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        if serializer.instance is not None and not isinstance(serializer.instance, list):
            fresh = self.get_queryset().filter(pk=serializer.instance.pk).first()
            serializer.instance = fresh or serializer.instance
        return serializer


class ScheduleViewSet(AnswerFresh, viewsets.ModelViewSet):
    """On-call schedules with their layers (rotations) and upcoming overrides.

    `layers`, when sent, replace all of the schedule's layers.
    """

    serializer_class = s.ScheduleSerializer
    permission_classes = [ResponderPermission]
    write_role = UserRole.MANAGER
    filterset_fields = ["team__slug"]
    ordering = ["name"]

    def get_queryset(self):
        schedules = Schedule.objects.select_related("team")
        return selectors.with_oncall_data(schedules, since=timezone.now())

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        layers = data.pop("layers", [])
        schedule = services.schedule_create(**data)
        serializer.instance = services.schedule_layers_replace(
            schedule=schedule, layers=s.layer_specs(layers)
        )

    def perform_update(self, serializer):
        schedule, data = serializer.instance, dict(serializer.validated_data)
        layers = data.pop("layers", None)
        fields = {f: getattr(schedule, f) for f in ("name", "time_zone", "team", "description")}
        schedule = services.schedule_update(schedule=schedule, **{**fields, **data})
        if layers is not None:
            services.schedule_layers_replace(schedule=schedule, layers=s.layer_specs(layers))
        serializer.instance = schedule

    def perform_destroy(self, instance):
        services.schedule_delete(schedule=instance)


class OverrideViewSet(viewsets.ModelViewSet):
    """Someone covers a span of a schedule. Covering a shift is a responder's everyday act
    (as in PagerDuty), so responders may add and remove overrides."""

    serializer_class = s.OverrideSerializer
    permission_classes = [ResponderPermission]
    http_method_names = ["get", "post", "delete", "options", "head"]
    ordering = ["start"]

    def get_schedule(self) -> Schedule:
        return get_object_or_404(Schedule, pk=self.kwargs["schedule_pk"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Override.objects.none()
        return self.get_schedule().overrides.select_related("user", "created_by")

    def perform_create(self, serializer):
        serializer.instance = services.override_create(
            schedule=self.get_schedule(), by=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.override_delete(override=instance)


class OnCallView(APIView):
    """Who is on call now (or `at`) on each schedule, and until when."""

    permission_classes = [ResponderPermission]

    @extend_schema(parameters=[s.OnCallQuerySerializer], responses=s.OnCallSerializer(many=True))
    def get(self, request):
        query = s.OnCallQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        at = query.validated_data.get("at") or timezone.now()
        schedules = Schedule.objects.order_by("name")
        if team := query.validated_data.get("team"):
            schedules = schedules.filter(team=team)
        rows = selectors.oncall_now(schedules, at, SHIFT_HORIZON)
        return Response(s.OnCallSerializer(rows, many=True).data)


POLICY_FIELDS = (
    "name", "team", "is_team_default", "repeat",
    "time_zone", "business_days", "business_start", "business_end",
)  # fmt: skip


class PolicyViewSet(AnswerFresh, viewsets.ModelViewSet):
    """Escalation policies: ordered levels of targets. `levels`, when sent, replace all levels;
    escalations already running follow the policy as it was when they started."""

    serializer_class = s.PolicySerializer
    permission_classes = [ResponderPermission]
    write_role = UserRole.MANAGER
    filterset_fields = ["team__slug"]
    ordering = ["name"]

    def get_queryset(self):
        targets = EscalationTarget.objects.select_related("user", "team")
        levels = EscalationLevel.objects.prefetch_related(Prefetch("targets", queryset=targets))
        return EscalationPolicy.objects.select_related("team").prefetch_related(
            Prefetch("levels", queryset=levels)
        )

    def perform_create(self, serializer):
        serializer.instance = services.policy_create(**serializer.validated_data)

    def perform_update(self, serializer):
        policy, data = serializer.instance, dict(serializer.validated_data)
        levels = data.pop("levels", None)
        fields = {f: getattr(policy, f) for f in POLICY_FIELDS}
        policy = services.policy_update(policy=policy, **{**fields, **data})
        if levels is not None:
            services.policy_levels_replace(policy=policy, levels=levels)
        serializer.instance = policy

    def perform_destroy(self, instance):
        services.policy_delete(policy=instance)


class OwnViewSet(viewsets.ModelViewSet):
    """Everyone manages their own contact methods and rules, and sees nobody else's."""

    write_role = UserRole.STAKEHOLDER
    ordering = ["id"]


class ContactMethodViewSet(OwnViewSet):
    serializer_class = s.ContactMethodSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ContactMethod.objects.none()
        return ContactMethod.objects.filter(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.contact_method_create(
            user=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        method = serializer.instance
        fields = {"kind": method.kind, "address": method.address, "label": method.label}
        serializer.instance = services.contact_method_update(
            method=method, **{**fields, **serializer.validated_data}
        )

    def perform_destroy(self, instance):
        services.contact_method_delete(user=self.request.user, method=instance)


class NotificationRuleViewSet(OwnViewSet):
    """Use a contact method `delay_minutes` after paging starts, if still unacknowledged."""

    serializer_class = s.NotificationRuleSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return NotificationRule.objects.none()
        return NotificationRule.objects.filter(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.notification_rule_create(
            user=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        rule = serializer.instance
        fields = {"contact_method": rule.contact_method, "delay_minutes": rule.delay_minutes}
        serializer.instance = services.notification_rule_update(
            rule=rule, **{**fields, **serializer.validated_data}
        )

    def perform_destroy(self, instance):
        services.notification_rule_delete(user=self.request.user, rule=instance)


class IncidentPagingView(APIView):
    """Acting on an incident's paging; the incident must be visible to the requester."""

    def incident(self, number: str) -> Incident:
        incidents = Incident.objects.visible_to(self.request.user)
        return get_object_or_404(incidents, pk=Incident.pk_from_number(number))

    def respond(self, run, code=status.HTTP_200_OK) -> Response:
        return Response(s.RunSerializer(run).data, status=code)


class PageView(IncidentPagingView):
    @extend_schema(request=None, responses={201: s.RunSerializer}, operation_id="incidents_page")
    def post(self, request, number):
        """Page the incident through its policy now (restarting any paging under way);
        409 when it is not open or has no escalation policy."""
        incident = self.incident(number)
        if incident.is_open and services.policy_for(incident) is None:
            raise Conflict(f"{incident.number} has no escalation policy: nobody can be paged.")
        run = services.incident_page(incident=incident, by=request.user)
        return self.respond(run, status.HTTP_201_CREATED)


class EscalateView(IncidentPagingView):
    @extend_schema(
        request=s.EscalateSerializer, responses=s.RunSerializer, operation_id="incidents_escalate"
    )
    def post(self, request, number):
        """Page the next level (or the chosen `level`) now; 409 when it is not being paged."""
        incident = self.incident(number)
        data = s.EscalateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.run_escalate_now(
            incident=incident, by=request.user, level=data.validated_data.get("level")
        )
        return self.respond(run)


@require_GET
def health(request):
    """For the operators' monitoring: 503 while any escalation or notification is overdue by
    more than a minute (the auditor fixes and logs those every minute). No login needed."""
    overdue_runs = selectors.overdue_runs().count()
    overdue_notifications = selectors.overdue_notifications().count()
    healthy = not (overdue_runs or overdue_notifications)
    return JsonResponse(
        {
            "status": "ok" if healthy else "overdue",
            "overdue_runs": overdue_runs,
            "overdue_notifications": overdue_notifications,
        },
        status=200 if healthy else 503,
    )
