from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from escalation.api import views
from incidents.api.views import NUMBER_PATTERN

router = SimpleRouter()
router.register("api/v1/schedules", views.ScheduleViewSet, basename="schedule")
router.register(
    r"api/v1/schedules/(?P<schedule_pk>[0-9]+)/overrides",
    views.OverrideViewSet,
    basename="schedule-override",
)
router.register("api/v1/escalation-policies", views.PolicyViewSet, basename="escalation-policy")
router.register("api/v1/contact-methods", views.ContactMethodViewSet, basename="contact-method")
router.register(
    "api/v1/notification-rules", views.NotificationRuleViewSet, basename="notification-rule"
)

INCIDENT = f"^api/v1/incidents/(?P<number>{NUMBER_PATTERN})"

urlpatterns = [
    path("health/escalation/", views.health, name="health"),
    path("api/v1/oncall/", views.OnCallView.as_view(), name="oncall"),
    re_path(f"{INCIDENT}/page/$", views.PageView.as_view(), name="incident-page"),
    re_path(f"{INCIDENT}/escalate/$", views.EscalateView.as_view(), name="incident-escalate"),
    *router.urls,
]
