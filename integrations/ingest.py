"""The alert endpoints: plain Django views, because senders are machines with their own
wire formats and error bodies (PagerDuty's especially), not DRF clients.

Order of checks: size (413), then the key (401, the same for unknown and disabled keys),
the per-key rate (429 + Retry-After), the JSON and its fields (400 naming them); only a
fully valid body is written, all of it or nothing.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from incidents.models import Incident
from integrations import services
from integrations.enums import IntegrationKind
from integrations.keys import admit
from integrations.models import Integration
from integrations.payloads import (
    Command,
    PayloadError,
    pagerduty_errors,
    parse_alertmanager,
    parse_generic,
    parse_pagerduty,
)

UNAUTHORIZED = {"detail": "Invalid or missing integration key."}


class TooLarge(Exception):
    pass


class Malformed(Exception):
    pass


def _read_json(request: HttpRequest) -> Any:
    limit = settings.INTEGRATION_MAX_BODY_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise TooLarge
    body = request.read(limit + 1)  # chunked bodies have no Content-Length to trust
    if len(body) > limit:
        raise TooLarge
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise Malformed(f"Malformed JSON: {error}") from error


def _bearer(request: HttpRequest) -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def _too_large() -> JsonResponse:
    limit = settings.INTEGRATION_MAX_BODY_BYTES
    return JsonResponse({"detail": f"Payload too large: the limit is {limit} bytes."}, status=413)


def _throttled(body: dict, seconds: int) -> JsonResponse:
    response = JsonResponse(body, status=429)
    response["Retry-After"] = str(seconds)
    return response


def _run(integration: Integration, commands: list[Command]) -> list[services.AlertOutcome]:
    outcomes = []
    # A group (Alertmanager's) is written whole or not at all; a single command is already
    # atomic, and a repeat is one statement that needs no transaction around it.
    with transaction.atomic() if len(commands) > 1 else nullcontext():
        for command in commands:
            if command.action == "trigger":
                outcome = services.alert_trigger(
                    integration=integration, dedup_key=command.dedup_key, **command.fields
                )
            elif command.action == "acknowledge":
                outcome = services.alert_acknowledge(
                    integration=integration, dedup_key=command.dedup_key
                )
            else:
                outcome = services.alert_resolve(
                    integration=integration, dedup_key=command.dedup_key
                )
            outcomes.append(outcome)
    return outcomes


def _outcome(outcome: services.AlertOutcome) -> dict:
    alert = outcome.alert
    incident_id = alert.incident_id if alert is not None else None
    return {
        "dedup_key": alert.dedup_key if alert is not None else None,
        "action": outcome.action,
        "incident": Incident.number_of(incident_id) if incident_id is not None else None,
    }


def _bearer_endpoint(request: HttpRequest, parse) -> HttpResponse:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) > settings.INTEGRATION_MAX_BODY_BYTES:
        return _too_large()
    integration, wait = admit(_bearer(request))
    if integration is None or integration.kind == IntegrationKind.HEARTBEAT:
        return JsonResponse(UNAUTHORIZED, status=401)
    if wait:
        return _throttled({"detail": f"Rate limit exceeded: retry in {wait} s."}, wait)
    try:
        commands = parse(_read_json(request))
    except TooLarge:
        return _too_large()
    except Malformed as error:
        return JsonResponse({"detail": str(error)}, status=400)
    except PayloadError as error:
        return JsonResponse({k: [v] for k, v in error.errors.items()}, status=400)
    outcomes = _run(integration, commands)
    return JsonResponse({"alerts": [_outcome(o) for o in outcomes]}, status=202)


@csrf_exempt
@require_http_methods(["POST"])
def generic(request: HttpRequest) -> HttpResponse:
    """`POST /api/v1/alerts/` with `Authorization: Bearer <integration key>`."""
    return _bearer_endpoint(request, parse_generic)


@csrf_exempt
@require_http_methods(["POST"])
def alertmanager(request: HttpRequest) -> HttpResponse:
    """Alertmanager's webhook receiver (version 4), `http_config.authorization` bearer."""
    return _bearer_endpoint(request, parse_alertmanager)


def _pd_invalid(errors: list[str], status: int = 400) -> JsonResponse:
    body = {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
    return JsonResponse(body, status=status)


@csrf_exempt
@require_http_methods(["POST"])
def pagerduty(request: HttpRequest, prefix: str = "") -> HttpResponse:
    """PagerDuty Events API v2 `enqueue`: answers as PagerDuty does, so its clients work."""
    try:
        data = _read_json(request)
    except TooLarge:
        limit = settings.INTEGRATION_MAX_BODY_BYTES
        return _pd_invalid([f"Request body is larger than {limit} bytes"], status=413)
    except Malformed as error:
        return _pd_invalid([str(error)])
    routing_key = data.get("routing_key") if isinstance(data, dict) else None
    if not isinstance(routing_key, str) or not routing_key:
        return _pd_invalid(["'routing_key' is missing or blank"])
    integration, wait = admit(routing_key)
    if integration is None or integration.kind == IntegrationKind.HEARTBEAT:
        body = {"status": "unauthorized", "message": "Invalid routing key", "errors": []}
        return JsonResponse(body, status=401)
    if wait:
        body = {"status": "throttle event", "message": "Requests for this key are throttled"}
        return _throttled(body, wait)
    if errors := pagerduty_errors(data):
        return _pd_invalid(errors)
    (outcome,) = _run(integration, [parse_pagerduty(data)])
    dedup_key = outcome.alert.dedup_key if outcome.alert is not None else data["dedup_key"]
    return JsonResponse(
        {"status": "success", "message": "Event processed", "dedup_key": dedup_key}, status=202
    )


@csrf_exempt
@require_http_methods(["GET", "POST", "HEAD"])
def heartbeat(request: HttpRequest, key: str) -> HttpResponse:
    """`/api/v1/heartbeats/<key>/`: a ping (cron jobs: `curl -fsS <url>`)."""
    integration, wait = admit(key)
    if integration is None or integration.kind != IntegrationKind.HEARTBEAT:
        return JsonResponse(UNAUTHORIZED, status=401)
    if wait:
        return _throttled({"detail": f"Rate limit exceeded: retry in {wait} s."}, wait)
    services.heartbeat_ping(integration=integration)
    return HttpResponse("OK\n", content_type="text/plain")
