"""The URLconf of STATUSPAGE_HOST: the public page at its root (and under /status/ too, so
links written with the main host's paths, in emails say, still work there)."""

from django.urls import include, path

from statuspage.urls import public_patterns

urlpatterns = [
    path("", include((public_patterns, "statuspage"))),
    path("status/", include(list(public_patterns))),
]
