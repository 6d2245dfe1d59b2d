from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from escalation import services
from incidents.exceptions import Conflict


@require_http_methods(["GET", "POST"])
def acknowledge(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: GET shows a button (link scanners only GET), POST acknowledges."""
    notification = services.notification_from_token(token)
    if notification is None:
        return render(request, "escalation/ack.html", {"state": "invalid"}, status=404)
    context = {"notification": notification, "incident": notification.incident}
    if request.method == "POST":
        try:
            services.ack_link_use(notification=notification)
        except Conflict:
            return render(request, "escalation/ack.html", {**context, "state": "used"}, status=409)
        return render(request, "escalation/ack.html", {**context, "state": "done"})
    if notification.ack_used_at:
        return render(request, "escalation/ack.html", {**context, "state": "used"}, status=409)
    return render(request, "escalation/ack.html", {**context, "state": "ask"})
