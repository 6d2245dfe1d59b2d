from django.conf import settings
from django.http import HttpRequest, HttpResponse


class StatusHostMiddleware:
    """On STATUSPAGE_HOST, serve the public page at / (statuspage.host_urls)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.host = settings.STATUSPAGE_HOST.lower()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.host:
            host = request.META.get("HTTP_HOST", "").rsplit(":", 1)[0].lower()
            if host == self.host:
                request.urlconf = "statuspage.host_urls"
        return self.get_response(request)
