"""Pages and API routes of the integrations app, with their full paths (included at root)."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from integrations import api, ingest, views

app_name = "integrations"

router = SimpleRouter()
router.register("api/v1/integrations", api.IntegrationViewSet, basename="integration")
router.register("api/v1/webhooks", api.WebhookEndpointViewSet, basename="webhook")

urlpatterns = [
    path("integrations/", views.index, name="index"),
    path("integrations/<int:pk>/rotate-key/", views.rotate_key, name="rotate-key"),
    path("integrations/webhooks/<int:pk>/", views.webhook_detail, name="webhook"),
    path("api/v1/alerts/", ingest.generic, name="alerts"),
    path("api/v1/integrations/alertmanager/", ingest.alertmanager, name="alertmanager"),
    # Without the slash too: CommonMiddleware cannot redirect a POST.
    path("api/v1/integrations/alertmanager", ingest.alertmanager),
    path("api/v1/alerts", ingest.generic),
    path("api/v1/integrations/pagerduty/v2/enqueue", ingest.pagerduty, name="pagerduty"),
    path("api/v1/heartbeats/<str:key>/", ingest.heartbeat, name="heartbeat"),
    *router.urls,
    # PagerDuty clients let you change the host and sometimes only a prefix: accept
    # `.../enqueue` wherever it is mounted (e.g. https://vigil.example.com/v2/enqueue).
    re_path(r"^(?P<prefix>(?:[\w.~-]+/)*)enqueue/?$", ingest.pagerduty, name="pagerduty-any"),
]
