"""Pages: integrations (keys shown once), webhook endpoints and their delivery log."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods, require_POST

from incidents.enums import UserRole
from integrations import services
from integrations.api import endpoint_urls
from integrations.forms import IntegrationForm
from integrations.models import Integration, WebhookEndpoint

DELIVERY_LOG_SIZE = 50


def _index(request: HttpRequest, *, form=None, new_key=None, status=200) -> HttpResponse:
    context = {
        "integrations": Integration.objects.select_related("service").order_by("name", "id"),
        "endpoints": WebhookEndpoint.objects.order_by("name", "id"),
        "form": form or IntegrationForm(),
        "can_manage": request.user.has_role(UserRole.MANAGER),
        "new_key": new_key,
    }
    return render(request, "integrations/index.html", context, status=status)


def _require_manager(request: HttpRequest) -> None:
    if not request.user.has_role(UserRole.MANAGER):
        raise PermissionDenied("Managers manage integrations.")


@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _index(request)
    _require_manager(request)
    form = IntegrationForm(request.POST)
    if not form.is_valid():
        return _index(request, form=form, status=400)
    data = form.cleaned_data
    integration, key = services.integration_create(
        by=request.user,
        name=data["name"],
        service=data["service"],
        kind=data["kind"],
        auto_resolve=data["auto_resolve"],
        group_window_seconds=data["group_window_seconds"],
        heartbeat_interval_seconds=data["heartbeat_interval_seconds"],
        heartbeat_grace_seconds=data["heartbeat_grace_seconds"],
    )
    # Rendered, not redirected: the key must not land in a URL or a session.
    new_key = {"integration": integration, "key": key,
               "urls": endpoint_urls(integration, request, key=key)}  # fmt: skip
    return _index(request, new_key=new_key, status=201)


@login_required
@require_POST
def rotate_key(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    integration = get_object_or_404(Integration, pk=pk)
    key = services.integration_rotate_key(integration=integration)
    new_key = {"integration": integration, "key": key,
               "urls": endpoint_urls(integration, request, key=key)}  # fmt: skip
    return _index(request, new_key=new_key)


@login_required
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    deliveries = endpoint.deliveries.order_by("-created_at", "-id")[:DELIVERY_LOG_SIZE]
    return render(
        request,
        "integrations/webhook.html",
        {"endpoint": endpoint, "deliveries": deliveries, "limit": DELIVERY_LOG_SIZE},
    )
