from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils import timezone


class RequestSizeLimitMiddleware:
    """Refuse bodies over their limit with 413 before anything reads them.

    Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only when `request.body` is read, and DRF
    reads the stream directly, so without this a huge JSON body would be parsed in full.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        is_upload = request.content_type == "multipart/form-data"
        limit = (
            settings.ATTACHMENT_MAX_BYTES + 64 * 1024
            if is_upload
            else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        )
        if length > limit:
            return JsonResponse(
                {"detail": f"Request body too large: the limit is {limit} bytes."}, status=413
            )
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Send CONTENT_SECURITY_POLICY with every response that has none: scripts and styles
    only from our own static files, so an injected `<script>` or `onclick=` never runs.

    Paths under CONTENT_SECURITY_POLICY_LOOSE_STYLE_PATHS (third-party pages: the DRF
    browsable API, Swagger UI) also accept inline *styles*; inline script stays refused.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY
        self.loose = self.policy.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            loose = request.path.startswith(settings.CONTENT_SECURITY_POLICY_LOOSE_STYLE_PATHS)
            response["Content-Security-Policy"] = self.loose if loose else self.policy
        return response


class UserTimeZoneMiddleware:
    """Show every time in the signed-in user's own time zone (their profile's).

    Views marked `own_time_zone` (the cached public status page) are skipped: they render
    in their page's zone, and must not read the session on a cache hit.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "own_time_zone", False) or not request.user.is_authenticated:
            return
        try:
            timezone.activate(ZoneInfo(request.user.time_zone))
        except (ValueError, ZoneInfoNotFoundError):
            timezone.deactivate()  # a zone that no longer exists: the default one


DATABASE_DOWN = "Vigil's database is unavailable; please retry in a few seconds."


def database_unavailable(request) -> HttpResponse:
    """503 with Retry-After, as JSON for the API and as a short page for people."""
    if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
        response = JsonResponse({"detail": DATABASE_DOWN}, status=503)
    else:
        response = HttpResponse(
            "<!doctype html><title>Vigil is unavailable</title>"
            f"<h1>Vigil is unavailable</h1><p>{DATABASE_DOWN}</p>",
            status=503,
        )
    response["Retry-After"] = "10"
    return response


class DatabaseUnavailableMiddleware:
    """While PostgreSQL is down or restarting, answer a clear 503 instead of a stack trace.

    Views' errors come here; a middleware's (a session looked up for the time zone, say)
    reach handler500, which answers the same. Django re-checks its connection on the next
    request (CONN_HEALTH_CHECKS), so the site recovers by itself once the database is back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            return database_unavailable(request)
        return None
