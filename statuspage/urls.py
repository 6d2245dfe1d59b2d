"""Pages and API routes of the statuspage app, with their full paths (included at the root).

The public page lives under /status/ here, and at / on STATUSPAGE_HOST (`host_urls`).
"""

from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from incidents.api.views import NUMBER_PATTERN
from statuspage import api, staff, views
from statuspage.feeds import HistoryAtom, HistoryRss

app_name = "statuspage"


def v2_patterns(named: bool = True) -> list:
    routes = [
        ("summary.json", views.summary_json, "v2-summary"),
        ("status.json", views.status_json, "v2-status"),
        ("components.json", views.components_json, "v2-components"),
        ("incidents.json", views.incidents_json, "v2-incidents"),
        ("incidents/unresolved.json", views.unresolved_json, "v2-unresolved"),
        ("scheduled-maintenances.json", views.maintenances_json, "v2-maintenances"),
        ("scheduled-maintenances/upcoming.json", views.upcoming_json, "v2-upcoming"),
        ("scheduled-maintenances/active.json", views.active_json, "v2-active"),
    ]
    return [path(route, view, name=name if named else None) for route, view, name in routes]


public_patterns = [
    path("", views.index, name="index"),
    path("history/", views.history, name="history"),
    path("history.atom", views.public_output()(HistoryAtom()), name="atom"),
    path("history.rss", views.public_output()(HistoryRss()), name="rss"),
    path("incidents/<str:code>/", views.incident, name="incident"),
    path("maintenance/<str:code>/", views.maintenance, name="maintenance"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscriptions/<str:token>/", views.manage, name="manage"),
    path("subscriptions/<str:token>/confirm/", views.confirm, name="confirm"),
    path("subscriptions/<str:token>/unsubscribe/", views.unsubscribe, name="unsubscribe"),
    path("api/v2/", include(v2_patterns())),
]

router = DefaultRouter()
router.register("components", api.ComponentViewSet, basename="component")
router.register("component-groups", api.GroupViewSet, basename="component-group")
router.register("maintenances", api.MaintenanceViewSet, basename="maintenance")
router.register("status-webhooks", api.WebhookSubscriberViewSet, basename="status-webhook")

urlpatterns = [
    path("status/", include(public_patterns)),
    # Statuspage clients often assume the JSON at the host's root.
    path("api/v2/", include(v2_patterns(named=False))),
    path("api/v1/", include(router.urls)),
    re_path(
        rf"^api/v1/incidents/(?P<number>{NUMBER_PATTERN})/publish/$",
        api.PublishView.as_view(),
        name="incident-publish",
    ),
    path("incidents/<str:number>/status-page/", staff.incident_panel, name="incident-panel"),
    path("status-page/", staff.manage_page, name="staff"),
    path("status-page/components/", staff.component_add, name="staff-component-add"),
    path(
        "status-page/components/<int:pk>/status/",
        staff.component_status,
        name="staff-component-status",
    ),
    path("status-page/maintenances/", staff.maintenance_add, name="staff-maintenance-add"),
    path(
        "status-page/maintenances/<int:pk>/<slug:action>/",
        staff.maintenance_act,
        name="staff-maintenance-act",
    ),
]
