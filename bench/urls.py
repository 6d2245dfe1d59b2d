from django.urls import include, path

from bench import views

urlpatterns = [
    path("__bench__/bare/", views.bare),
    path("__bench__/bare-insert/", views.bare_insert),
    path("", include("config.urls")),
]
