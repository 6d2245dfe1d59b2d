"""JSON API of the metrics: `/api/v1/metrics/...`, read by responders and above."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.enums import UserRole
from postmortems import metrics, slo
from postmortems.forms import MetricsFilterForm


class ResponderRead(BasePermission):
    message = "Metrics are for responders, managers and admins."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_role(UserRole.RESPONDER))


SCOPE = [
    OpenApiParameter("since", str, description="First day, YYYY-MM-DD (default: 89 days ago)."),
    OpenApiParameter("until", str, description="Last day, YYYY-MM-DD (default: today)."),
    OpenApiParameter("team", str, description="Only this team's incidents (team slug)."),
    OpenApiParameter("service", str, description="Only this service's incidents (service slug)."),
]


def by_parameter(choices) -> OpenApiParameter:
    return OpenApiParameter("by", str, enum=list(choices), description="Group the rows by this.")


def scope_of(request: Request) -> dict:
    form = MetricsFilterForm(request.query_params)
    if not form.is_valid():
        raise ValidationError({field: list(errors) for field, errors in form.errors.items()})
    return form.scope()


def group_of(request: Request, choices, default: str | None) -> str | None:
    by = request.query_params.get("by", default)
    if by not in choices and not (by is None and default is None):
        raise ValidationError({"by": [f"Choose one of: {', '.join(choices)}."]})
    return by


def _number():
    return serializers.FloatField(allow_null=True)


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": True})
class GroupKey(serializers.Field):
    """What rows are grouped by: a priority (an integer) or a slug; null for rows without."""


# A row of MTTA, MTTM and MTTR: mtta_measured, mtta_mean, mtta_median, mttm_... (seconds).
DurationRow = type(
    "DurationRow",
    (serializers.Serializer,),
    {
        "key": GroupKey(required=False, help_text="Absent in the overall row."),
        "label": serializers.CharField(required=False),
        **{
            f"{measure}_{stat}": _number()
            for measure in metrics.TIMES
            for stat in ("measured", "mean", "median")
        },
    },
)


class CountRow(serializers.Serializer):
    key = GroupKey()
    label = serializers.CharField()
    incidents = serializers.IntegerField()


class RecurrenceRow(serializers.Serializer):
    key = serializers.IntegerField()
    label = serializers.CharField()
    incidents = serializers.IntegerField()
    repeats_30 = serializers.IntegerField()
    repeats_90 = serializers.IntegerField()
    percent_30 = _number()
    percent_90 = _number()


class Compliance(serializers.Serializer):
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    percent = _number()


class Sla(serializers.Serializer):
    acknowledge = Compliance()
    resolve = Compliance()
    by_priority = serializers.ListField(child=serializers.DictField())


class MetricsView(APIView):
    permission_classes = [ResponderRead]


class DashboardView(MetricsView):
    @extend_schema(
        parameters=SCOPE,
        responses=inline_serializer(
            "MetricsDashboard",
            {
                "durations": DurationRow(),
                "durations_by": serializers.DictField(child=DurationRow(many=True)),
                "sla": Sla(),
                "counts_by": serializers.DictField(child=CountRow(many=True)),
                "recurrence_by": serializers.DictField(child=RecurrenceRow(many=True)),
                "reopen": serializers.DictField(),
                "postmortems": serializers.DictField(),
                "action_items": serializers.DictField(),
            },
        ),
        description=(
            "Every metric of the dashboard for one scope (see the other endpoints), cached "
            "for a few minutes (`computed_at`). A scope of very many incidents is computed "
            "by a worker: 202 with Retry-After until it is ready."
        ),
    )
    def get(self, request: Request) -> Response:
        data = metrics.dashboard_cached(**scope_of(request))
        if data is None:
            return Response(
                {"detail": "The metrics of this scope are being computed; retry shortly."},
                status=202,
                headers={"Retry-After": "10"},
            )
        return Response(data)


class DurationsView(MetricsView):
    @extend_schema(
        parameters=[*SCOPE, by_parameter(metrics.DURATION_GROUPS)],
        responses=DurationRow(many=True),
        description="MTTA, MTTM and MTTR in seconds (mean, median, incidents measured); "
        "one row overall, or one per priority, service, team or month.",
    )
    def get(self, request: Request) -> Response:
        by = group_of(request, metrics.DURATION_GROUPS, None)
        return Response(metrics.durations(**scope_of(request), by=by))


class CountsView(MetricsView):
    @extend_schema(
        parameters=[*SCOPE, by_parameter(metrics.COUNT_GROUPS)],
        responses=CountRow(many=True),
        description="Incidents per priority, service, category or source, most first.",
    )
    def get(self, request: Request) -> Response:
        by = group_of(request, metrics.COUNT_GROUPS, "priority")
        return Response(metrics.counts(**scope_of(request), by=by))


class SlaView(MetricsView):
    @extend_schema(
        parameters=SCOPE,
        responses=Sla,
        description="SLA compliance for the acknowledge and resolve targets of the "
        "escalation settings, overall and by priority.",
    )
    def get(self, request: Request) -> Response:
        return Response(metrics.sla_compliance(**scope_of(request)))


class RecurrenceView(MetricsView):
    @extend_schema(
        parameters=[*SCOPE, by_parameter(("service", "category"))],
        responses=RecurrenceRow(many=True),
        description="Services (or categories) whose incidents repeat within 30 and 90 days.",
    )
    def get(self, request: Request) -> Response:
        by = group_of(request, ("service", "category"), "service")
        return Response(metrics.recurrence(**scope_of(request), by=by))


class RatesView(MetricsView):
    @extend_schema(
        parameters=SCOPE,
        responses=inline_serializer(
            "MetricsRates",
            {
                "reopen": serializers.DictField(),
                "postmortems": serializers.DictField(),
                "action_items": serializers.DictField(),
            },
        ),
        description="Reopen rate, postmortem completion and action item completion.",
    )
    def get(self, request: Request) -> Response:
        scope = scope_of(request)
        return Response(
            {
                "reopen": metrics.reopen_rate(**scope),
                "postmortems": metrics.postmortem_completion(**scope),
                "action_items": metrics.action_item_completion(**scope),
            }
        )


class SlosView(MetricsView):
    @extend_schema(
        parameters=SCOPE[2:],
        responses=inline_serializer(
            "ErrorBudget",
            {
                "service": serializers.CharField(),
                "service_name": serializers.CharField(),
                "target": serializers.FloatField(),
                "window_days": serializers.IntegerField(),
                "start": serializers.DateTimeField(),
                "end": serializers.DateTimeField(),
                "source": serializers.ChoiceField(["components", "incidents"]),
                "availability_percent": serializers.FloatField(),
                "budget_seconds": serializers.FloatField(),
                "downtime_seconds": serializers.FloatField(),
                "consumed_percent": serializers.FloatField(),
                "left_percent": serializers.FloatField(),
                "burn": serializers.ListField(child=serializers.DictField()),
            },
            many=True,
        ),
        description="Availability SLOs and their error budgets over each one's own window "
        "(the period filter does not apply), with the daily burn.",
    )
    def get(self, request: Request) -> Response:
        scope = scope_of(request)
        budgets = slo.error_budgets(slo.slos_in_scope(scope["team"], scope["service"]))
        return Response([b.as_dict() for b in budgets])
