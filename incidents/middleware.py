from django.conf import settings
from django.http import JsonResponse


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
