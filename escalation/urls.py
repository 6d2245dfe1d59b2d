"""Pages and API routes of the escalation app, with their full paths (included at the root)."""

from django.urls import include, path

from escalation import views

app_name = "escalation"

urlpatterns = [
    path("", include("escalation.api.urls")),
    path("escalation/ack/<str:token>/", views.acknowledge, name="acknowledge"),
]
