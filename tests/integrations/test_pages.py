import json
import re

import pytest
from django.utils import timezone

from integrations import outbound
from integrations.enums import DEFAULT_SEVERITY_MAP
from integrations.keys import integration_for_key
from integrations.models import Integration, WebhookDelivery, hash_key
from tests.factories import IncidentFactory, ServiceFactory, UserFactory
from tests.integrations.factories import IntegrationFactory


def test_manager_creates_an_integration_and_sees_the_key_once(client, manager):
    service = ServiceFactory(name="Checkout")
    client.force_login(manager)

    response = client.post(
        "/integrations/",
        {"name": "Grafana", "service": service.pk, "kind": "generic",
         "auto_resolve": "on", "group_window_seconds": 300, "heartbeat_grace_seconds": 60},
    )  # fmt: skip

    assert response.status_code == 201
    integration = Integration.objects.get()
    key = response.context["new_key"]["key"]
    assert integration.key_hash == hash_key(key)
    assert key in response.content.decode()
    assert key not in client.get("/integrations/").content.decode()


def test_responder_sees_integrations_but_cannot_create(client, responder, integration):
    client.force_login(responder)

    page = client.get("/integrations/").content.decode()
    refused = client.post("/integrations/", {"name": "x"})

    assert "Prometheus" in page and "Create integration" not in page
    assert refused.status_code == 403


def test_rotate_key_from_the_page(client, manager, integration):
    client.force_login(manager)

    response = client.post(f"/integrations/{integration.pk}/rotate-key/")

    integration.refresh_from_db()
    assert integration.key_hash == hash_key(response.context["new_key"]["key"])


def test_disabled_webhook_shows_a_notice(client, responder, db):
    endpoint = outbound.webhook_endpoint_create(
        name="Jira", url="http://127.0.0.1:9/", event_types=["incident.triggered"]
    )
    outbound._disable(endpoint, "Disabled after 15 failed deliveries in a row (last: HTTP 500).")
    client.force_login(responder)

    page = client.get("/integrations/").content.decode()

    assert "Webhook “Jira” is off: Disabled after 15 failed deliveries" in page


def test_delivery_log_shows_request_code_and_duration(client, responder, db):
    endpoint = outbound.webhook_endpoint_create(
        name="Ops", url="http://127.0.0.1:9/", event_types=["incident.triggered"]
    )
    IncidentFactory()
    WebhookDelivery.objects.update(response_code=502, duration_ms=37, attempts=1)
    client.force_login(responder)

    page = client.get(f"/integrations/webhooks/{endpoint.pk}/").content.decode()

    assert "incident.triggered" in page
    assert "<td>502</td>" in page and "37 ms" in page


@pytest.mark.parametrize("count", [1, 3])
def test_integrations_page_queries_do_not_grow(client, responder, count, django_assert_num_queries):
    IntegrationFactory.create_batch(count)
    for i in range(count):
        outbound.webhook_endpoint_create(
            name=f"hook {i}", url="http://127.0.0.1:9/", event_types=["incident.triggered"]
        )
    client.force_login(responder)

    with django_assert_num_queries(4):  # session, user, integrations, endpoints
        response = client.get("/integrations/")

    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 3])
def test_delivery_log_queries_do_not_grow(client, responder, count, django_assert_num_queries):
    endpoint = outbound.webhook_endpoint_create(
        name="Ops", url="http://127.0.0.1:9/", event_types=["incident.triggered"]
    )
    IncidentFactory.create_batch(count)
    client.force_login(responder)

    with django_assert_num_queries(4):  # session, user, endpoint, deliveries
        response = client.get(f"/integrations/webhooks/{endpoint.pk}/")

    assert len(response.context["deliveries"]) == count


def test_webhook_api_is_for_managers(api, responder, manager):
    body = {"name": "Ops", "url": "http://127.0.0.1:9/", "event_types": ["incident.resolved"]}

    refused = api.as_user(responder).post("/api/v1/webhooks/", body, format="json")
    created = api.as_user(manager).post("/api/v1/webhooks/", body, format="json")

    assert refused.status_code == 403
    assert created.status_code == 201
    assert created.json()["secret"].startswith("whsec_")
    bad = api.post("/api/v1/webhooks/", {**body, "event_types": ["nope"]}, format="json")
    assert bad.status_code == 400 and "event_types" in bad.json()


def test_admin_adds_an_integration_and_shows_its_key_once(client, db):
    service = ServiceFactory(slug="checkout")
    client.force_login(UserFactory(role="admin", is_staff=True, is_superuser=True))
    now = timezone.now()

    response = client.post(
        "/admin/integrations/integration/add/",
        {
            "name": "Grafana",
            "service": service.pk,
            "kind": "generic",
            "enabled": "on",
            "severity_map": json.dumps(DEFAULT_SEVERITY_MAP),
            "auto_resolve": "on",
            "group_window_seconds": "300",
            "rate_limit_per_minute": "600",
            "heartbeat_grace_seconds": "60",
            "created_at_0": now.strftime("%Y-%m-%d"),
            "created_at_1": now.strftime("%H:%M:%S"),
        },
        follow=True,
    )

    html = response.content.decode()
    assert "errornote" not in html, re.findall(r"errornote.{0,400}", html, re.S)
    (key,) = re.findall(r"The key of Grafana is (\w+)", html)
    assert integration_for_key(key).name == "Grafana"
    assert key not in client.get("/admin/integrations/integration/").content.decode()
