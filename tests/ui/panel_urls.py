"""A URL conf with one extra incident panel, as another app would add it."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def escalation_panel(request, number):
    return HttpResponse(f"<h2>Paging</h2><p>Nobody paged for {number} yet.</p>")


urlpatterns = [
    path("test-panels/<str:number>/paging/", escalation_panel, name="test-paging-panel"),
    *project_urlpatterns,
]
