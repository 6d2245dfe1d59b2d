"""Pages and API routes of the postmortems app, with their full paths (included at the root)."""

from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from postmortems import api, metrics_api, metrics_views, panel, views

app_name = "postmortems"

NUMBER = "<str:number>"
POSTMORTEM = "postmortems/(?P<postmortem_pk>[0-9]+)"

router = DefaultRouter()
router.include_root_view = False
router.register("postmortems", api.PostmortemViewSet, basename="postmortem")
router.register(f"{POSTMORTEM}/factors", api.FactorViewSet, basename="postmortem-factors")
router.register(f"{POSTMORTEM}/timeline", api.PickViewSet, basename="postmortem-timeline")
router.register(f"{POSTMORTEM}/actions", api.PostmortemActionViewSet, basename="postmortem-actions")
router.register("action-items", api.ActionItemViewSet, basename="action-item")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("api/v1/metrics/", metrics_api.DashboardView.as_view(), name="api-metrics"),
    path("api/v1/metrics/durations/", metrics_api.DurationsView.as_view()),
    path("api/v1/metrics/counts/", metrics_api.CountsView.as_view()),
    path("api/v1/metrics/sla/", metrics_api.SlaView.as_view()),
    path("api/v1/metrics/recurrence/", metrics_api.RecurrenceView.as_view()),
    path("api/v1/metrics/rates/", metrics_api.RatesView.as_view()),
    path("metrics/", metrics_views.dashboard, name="metrics"),
    path("metrics/<slug:table>.csv", metrics_views.export_csv, name="metrics-csv"),
    path("api/v1/metrics/slos/", metrics_api.SlosView.as_view()),
    path("slos/", metrics_views.slo_list, name="slos"),
    path("services/<slug:slug>/slo/", metrics_views.slo_detail, name="slo"),
    path("postmortems/", views.postmortem_list, name="list"),
    path("postmortems/<int:pk>/", views.postmortem_detail, name="detail"),
    re_path(
        r"^postmortems/(?P<pk>[0-9]+)/(?P<action>submit|return|publish)/$",
        views.postmortem_transition,
        name="transition",
    ),
    path("postmortems/<int:pk>/revise/", views.postmortem_revise, name="revise"),
    path("postmortems/<int:pk>/revisions/", views.postmortem_revisions, name="revisions"),
    path("postmortems/<int:pk>/print/", views.postmortem_print, name="print"),
    path("postmortems/<int:pk>/export.md", views.postmortem_markdown, name="markdown"),
    path("postmortems/<int:pk>/factors/add/", views.factor_add, name="factor-add"),
    path(
        "postmortems/<int:pk>/factors/<int:factor_pk>/remove/",
        views.factor_remove,
        name="factor-remove",
    ),
    path("postmortems/<int:pk>/timeline/<int:pick_pk>/", views.pick_annotate, name="pick"),
    path("postmortems/<int:pk>/actions/add/", views.action_add, name="action-add"),
    path("action-items/", views.action_list, name="actions"),
    path("action-items/<int:item_pk>/status/", views.action_status, name="action-status"),
    path(f"incidents/{NUMBER}/postmortem/start/", views.postmortem_start, name="start"),
    path(f"incidents/{NUMBER}/similar/", panel.incident_panel, name="incident-panel"),
    path(f"incidents/{NUMBER}/assist/", panel.incident_assist, name="incident-assist"),
]
