"""The public face: pages, Statuspage v2 JSON, feeds and subscriptions.

Public outputs go through `public_output`: served from the cache when it has them (no SQL
at all), rendered from the database otherwise. Their templates never touch the session or
the CSRF token, so visitors get no cookies; only the subscribe form sets one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import wraps
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.cache import cache as django_cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from statuspage import cache, selectors, services, v2
from statuspage.enums import ComponentStatus
from statuspage.models import Component, PageSettings, Subscriber

MONTH_FORMAT = "%Y-%m"


def public_output(*params: str) -> Callable:
    """Cache a public view per host, path and the named query parameters (and no others,
    so that random query strings cannot fill the cache)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in ("GET", "HEAD"):
                return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
            query = "&".join(f"{p}={request.GET.get(p, '')}" for p in params)
            host = "host" if getattr(request, "urlconf", None) else "main"
            key = f"{host}:{request.path}?{query}"

            def render_now() -> HttpResponse:
                page = services.page_settings()
                with timezone.override(ZoneInfo(page.time_zone)):
                    return view(request, *args, page=page, **kwargs)

            response = cache.cached_output(request, key, render_now)
            if request.path.endswith(".json"):
                response["Access-Control-Allow-Origin"] = "*"
            return response

        # Rendered in the page's zone, and a cache hit must not read the visitor's session.
        wrapper.own_time_zone = True
        return wrapper

    return decorate


# --- Pages ---------------------------------------------------------------------------------


def _base_context(page: PageSettings) -> dict:
    return {"page": page, "component_statuses": ComponentStatus}


@public_output()
def index(request: HttpRequest, page: PageSettings) -> HttpResponse:
    tree = selectors.component_tree()
    unresolved = list(selectors.unresolved_incidents())
    active = list(selectors.active_maintenances())
    upcoming = list(selectors.upcoming_maintenances())
    today = timezone.localdate()
    shown = [c for c in tree.components if c.showcase]
    context = {
        **_base_context(page),
        "rollup": selectors.rollup(tree.components, unresolved, active),
        "tree": tree,
        "unresolved": unresolved,
        "active": active,
        "upcoming": upcoming,
        "uptime": selectors.uptime_rows(shown, today),
        "uptime_days": selectors.UPTIME_DAYS,
    }
    return render(request, "statuspage/index.html", context)


def _month(value: str, today: date) -> date:
    if not value:
        return today.replace(day=1)
    try:
        return datetime.strptime(value, MONTH_FORMAT).date()
    except ValueError as error:
        raise Http404("No such month.") from error


@public_output("month")
def history(request: HttpRequest, page: PageSettings) -> HttpResponse:
    today = timezone.localdate()
    month = _month(request.GET.get("month", ""), today)
    zone = timezone.get_current_timezone()
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    following = (month + timedelta(days=32)).replace(day=1)
    end = datetime(following.year, following.month, 1, tzinfo=zone)
    previous = (month - timedelta(days=1)).replace(day=1)
    context = {
        **_base_context(page),
        "month": month,
        "incidents": list(selectors.incidents_in_month(start, end)),
        "maintenances": list(selectors.maintenances_in_month(start, end)),
        "previous": previous.strftime(MONTH_FORMAT),
        "next": following.strftime(MONTH_FORMAT) if following <= today else None,
    }
    return render(request, "statuspage/history.html", context)


@public_output()
def incident(request: HttpRequest, code: str, page: PageSettings) -> HttpResponse:
    public = get_object_or_404(selectors.public_incidents(), code=code)
    context = {**_base_context(page), "item": public, "is_maintenance": False}
    return render(request, "statuspage/incident.html", context)


@public_output()
def maintenance(request: HttpRequest, code: str, page: PageSettings) -> HttpResponse:
    item = get_object_or_404(selectors.maintenances(), code=code)
    context = {**_base_context(page), "item": item, "is_maintenance": True}
    return render(request, "statuspage/incident.html", context)


# --- Statuspage v2 JSON --------------------------------------------------------------------


def _json(data: dict) -> HttpResponse:
    return HttpResponse(json.dumps(data, separators=(",", ":")), content_type="application/json")


def _page_json(page: PageSettings) -> dict:
    return v2.page_json(page, cache.version_time(cache.current_version()))


@public_output()
def summary_json(request: HttpRequest, page: PageSettings) -> HttpResponse:
    tree = selectors.component_tree()
    unresolved = list(selectors.unresolved_incidents())
    active = list(selectors.active_maintenances())
    upcoming = list(selectors.upcoming_maintenances())
    return _json(
        {
            "page": _page_json(page),
            "components": v2.components_json(tree, page.code),
            "incidents": [v2.incident_json(i, page.code) for i in unresolved],
            "scheduled_maintenances": [
                v2.maintenance_json(m, page.code) for m in [*active, *upcoming]
            ],
            "status": v2.status_json(selectors.rollup(tree.components, unresolved, active)),
        }
    )


@public_output()
def status_json(request: HttpRequest, page: PageSettings) -> HttpResponse:
    tree = selectors.component_tree()
    unresolved = list(selectors.unresolved_incidents())
    active = list(selectors.active_maintenances())
    rollup = selectors.rollup(tree.components, unresolved, active)
    return _json({"page": _page_json(page), "status": v2.status_json(rollup)})


@public_output()
def components_json(request: HttpRequest, page: PageSettings) -> HttpResponse:
    tree = selectors.component_tree()
    return _json({"page": _page_json(page), "components": v2.components_json(tree, page.code)})


def _incidents_view(select: Callable) -> Callable:
    @public_output()
    def view(request: HttpRequest, page: PageSettings) -> HttpResponse:
        incidents = [v2.incident_json(i, page.code) for i in select()[:50]]
        return _json({"page": _page_json(page), "incidents": incidents})

    return view


def _maintenances_view(select: Callable) -> Callable:
    @public_output()
    def view(request: HttpRequest, page: PageSettings) -> HttpResponse:
        items = [v2.maintenance_json(m, page.code) for m in select()[:50]]
        return _json({"page": _page_json(page), "scheduled_maintenances": items})

    return view


incidents_json = _incidents_view(selectors.public_incidents)
unresolved_json = _incidents_view(selectors.unresolved_incidents)
maintenances_json = _maintenances_view(selectors.maintenances)
upcoming_json = _maintenances_view(selectors.upcoming_maintenances)
active_json = _maintenances_view(selectors.active_maintenances)


# --- Subscriptions -------------------------------------------------------------------------


class SubscribeForm(forms.Form):
    email = forms.EmailField(max_length=254)
    components = forms.ModelMultipleChoiceField(
        queryset=Component.objects.order_by("position", "id"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None chosen: every component.",
    )


def _rate_limited(request: HttpRequest) -> int | None:
    """Seconds to wait when this address has subscribed too often, else None."""
    count, window = settings.STATUSPAGE_SUBSCRIBE_RATE
    # REMOTE_ADDR: behind a proxy, the proxy must set it (gunicorn's forwarded_allow_ips).
    key = f"statuspage:subscribe:{request.META.get('REMOTE_ADDR', '')}"
    try:
        django_cache.add(key, 0, timeout=window)
        if django_cache.incr(key) > count:
            return window
    except Exception:  # noqa: S110 - without Redis the form still works, unthrottled
        pass
    return None


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    page = services.page_settings()
    form = SubscribeForm(request.POST or None)
    if request.method == "POST":
        wait = _rate_limited(request)
        if wait:
            response = render(
                request, "statuspage/subscribe.html",
                {"page": page, "form": form, "limited": True}, status=429,
            )  # fmt: skip
            response["Retry-After"] = str(wait)
            return response
        if form.is_valid():
            services.subscriber_subscribe(
                email=form.cleaned_data["email"], components=form.cleaned_data["components"]
            )
            # The same answer whether or not the address was known.
            return render(request, "statuspage/subscribed.html", {"page": page})
    return render(request, "statuspage/subscribe.html", {"page": page, "form": form})


@require_GET
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = get_object_or_404(Subscriber, token=token)
    services.subscriber_confirm(subscriber=subscriber)
    return _manage_page(request, subscriber, confirmed=True)


def _manage_page(request: HttpRequest, subscriber: Subscriber, **extra) -> HttpResponse:
    context = {
        "page": services.page_settings(),
        "subscriber": subscriber,
        "components": Component.objects.order_by("position", "id"),
        "chosen": set(subscriber.components.values_list("pk", flat=True)),
        **extra,
    }
    return render(request, "statuspage/manage.html", context)


@require_GET
def manage(request: HttpRequest, token: str) -> HttpResponse:
    return _manage_page(request, get_object_or_404(Subscriber, token=token))


# The token in the URL is the credential, and mail clients POST here with no cookie at all
# (RFC 8058 one-click), so there is no CSRF token to check.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = get_object_or_404(Subscriber, token=token)
    if request.method == "GET":
        return _manage_page(request, subscriber)
    chosen = [v for v in request.POST.getlist("components")[:500] if v.isdigit()]
    keep = Component.objects.filter(pk__in=chosen)
    remaining = services.subscriber_unsubscribe(subscriber=subscriber, components=keep)
    page = services.page_settings()
    return render(request, "statuspage/unsubscribed.html", {"page": page, "remaining": remaining})
