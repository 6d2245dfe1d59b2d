"""The learning dashboard page and its CSV export."""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from incidents.enums import UserRole
from postmortems import metrics, slo
from postmortems.forms import MetricsFilterForm
from postmortems.models import ServiceLevelObjective

# name -> (function, group choices, columns): what the CSV export can write.
TABLES = {
    "durations": (
        metrics.durations,
        metrics.DURATION_GROUPS,
        [f"{m}_{s}" for m in metrics.TIMES for s in ("measured", "mean", "median")],
    ),
    "counts": (metrics.counts, metrics.COUNT_GROUPS, ["incidents"]),
    "recurrence": (
        metrics.recurrence,
        ("service", "category"),
        ["incidents", "repeats_30", "repeats_90", "percent_30", "percent_90"],
    ),
}


def _require_responder(request) -> None:
    if not request.user.has_role(UserRole.RESPONDER):
        raise PermissionDenied("Metrics are for responders, managers and admins.")


@login_required
@require_GET
def dashboard(request):
    _require_responder(request)
    form = MetricsFilterForm(request.GET)  # every field is optional: no query is valid
    if not form.is_valid():
        return render(request, "postmortems/metrics.html", {"form": form}, status=400)
    data = metrics.dashboard_cached(**form.scope())
    return render(
        request,
        "postmortems/metrics.html",
        {
            "form": form,
            "data": data,
            "computing": data is None,
            "query": form.query(),
            "tables": TABLES,
        },
    )


@login_required
@require_GET
def export_csv(request, table: str):
    _require_responder(request)
    form = MetricsFilterForm(request.GET)
    if table not in TABLES:
        return HttpResponseBadRequest(f"table: choose one of {', '.join(TABLES)}.")
    function, groups, columns = TABLES[table]
    by = request.GET.get("by", groups[0])
    if by not in groups:
        return HttpResponseBadRequest(f"by: choose one of {', '.join(groups)}.")
    if not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        return HttpResponseBadRequest(errors)
    rows = function(**form.scope(), by=by)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    name = f"vigil-{table}-by-{by}-{since}-{until}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow([by, "label", *columns])
    for row in rows:
        writer.writerow([row["key"], row["label"], *(_cell(row.get(c)) for c in columns)])
    return response


def _cell(value) -> str:
    if value is None:
        return ""
    return f"{value:.2f}" if isinstance(value, float) else str(value)


@login_required
@require_GET
def slo_list(request):
    _require_responder(request)
    budgets = [b.as_dict() for b in slo.error_budgets(slo.slos_in_scope())]
    return render(request, "postmortems/slos.html", {"budgets": budgets})


@login_required
@require_GET
def slo_detail(request, slug: str):
    _require_responder(request)
    objectives = ServiceLevelObjective.objects.select_related("service")
    objective = get_object_or_404(objectives, service__slug=slug)
    budget = slo.error_budget(objective)
    return render(request, "postmortems/slo.html", {"budget": budget, "chart": budget.as_dict()})
