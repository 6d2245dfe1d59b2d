from audit.services import current_request


class AuditActorMiddleware:
    """Lets audit receivers name the user behind a change made during this request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)
