from django.urls import path
from django.views.generic import RedirectView

app_name = "incidents"

urlpatterns = [
    path("", RedirectView.as_view(url="/api/docs/", permanent=False), name="home"),
]
