from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from incidents.urls import auth_urlpatterns

admin.site.site_header = "Vigil administration"
admin.site.site_title = "Vigil admin"
admin.site.index_title = "Reference data"
admin.site.site_url = "/"

urlpatterns = [
    # First: monitoring tools post alerts here hundreds of times a second, and every
    # pattern tried before a match costs each of those requests (none of these overlap).
    path("", include("integrations.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("incidents.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    *auth_urlpatterns,
    # Each app's urls.py carries full paths (pages and its API routes under /api/v1/).
    path("", include("escalation.urls")),
    path("", include("postmortems.urls")),
    path("", include("statuspage.urls")),
    path("", include("audit.urls")),
    path("", include("incidents.urls")),
]

handler404 = "incidents.api.errors.page_not_found"
handler500 = "incidents.api.errors.server_error"
