from django.urls import path
from rest_framework.routers import DefaultRouter

from incidents.api import views

INCIDENT = f"incidents/(?P<number>{views.NUMBER_PATTERN})"

router = DefaultRouter()
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register(f"{INCIDENT}/timeline", views.TimelineViewSet, basename="incident-timeline")
router.register(f"{INCIDENT}/updates", views.UpdateViewSet, basename="incident-updates")
router.register(f"{INCIDENT}/tasks", views.TaskViewSet, basename="incident-tasks")
router.register(f"{INCIDENT}/roles", views.RoleViewSet, basename="incident-roles")
router.register(f"{INCIDENT}/attachments", views.AttachmentViewSet, basename="incident-attachments")
router.register("teams", views.TeamViewSet)
router.register("services", views.ServiceViewSet)
router.register("categories", views.CategoryViewSet)
router.register("priority-matrix", views.PriorityMatrixViewSet)
router.register("runbooks", views.RunbookViewSet)
router.register("users", views.UserViewSet)

urlpatterns = [
    path("auth/token/", views.TokenLoginView.as_view(), name="auth-token"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all/", views.LogoutAllView.as_view(), name="auth-logout-all"),
    *router.urls,
]
