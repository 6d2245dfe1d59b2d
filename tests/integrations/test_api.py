import pytest

from integrations.models import Integration, hash_key
from tests.factories import ServiceFactory
from tests.integrations.factories import IntegrationFactory


def test_create_integration_answers_the_key_once(api, manager):
    service = ServiceFactory(slug="checkout")

    response = api.as_user(manager).post(
        "/api/v1/integrations/",
        {"name": "Prometheus", "service": "checkout", "kind": "alertmanager"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    key = body["key"]
    integration = Integration.objects.get()
    assert (integration.service, integration.kind, integration.key_hash) == (
        service,
        "alertmanager",
        hash_key(key),
    )
    assert body["key_prefix"] == key[:8]
    assert body["endpoints"]["alertmanager"] == (
        "http://testserver/api/v1/integrations/alertmanager/"
    )
    shown = api.get(f"/api/v1/integrations/{integration.pk}/").json()
    assert "key" not in shown
    assert key not in str(shown)


def test_create_integration_names_missing_fields(api, manager):
    response = api.as_user(manager).post("/api/v1/integrations/", {"name": "x"}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"service", "kind"}
    assert Integration.objects.count() == 0


def test_create_integration_refuses_a_bad_severity_table(api, manager):
    ServiceFactory(slug="checkout")
    response = api.as_user(manager).post(
        "/api/v1/integrations/",
        {"name": "x", "service": "checkout", "kind": "generic", "severity_map": {"info": [4, 1]}},
        format="json",
    )

    assert response.status_code == 400
    assert "severity_map" in response.json()


def test_responders_cannot_create_integrations(api, responder):
    ServiceFactory(slug="checkout")
    response = api.as_user(responder).post(
        "/api/v1/integrations/",
        {"name": "x", "service": "checkout", "kind": "generic"},
        format="json",
    )

    assert response.status_code == 403


def test_rotate_key_answers_a_new_key_and_retires_the_old(api, manager, integration):
    response = api.as_user(manager).post(f"/api/v1/integrations/{integration.pk}/rotate-key/")

    assert response.status_code == 200
    integration.refresh_from_db()
    assert integration.key_hash == hash_key(response.json()["key"])
    assert integration.key_hash != hash_key(integration.key)


def test_update_integration_settings(api, manager, integration):
    response = api.as_user(manager).patch(
        f"/api/v1/integrations/{integration.pk}/",
        {"auto_resolve": False, "group_window_seconds": 0},
        format="json",
    )

    assert response.status_code == 200
    integration.refresh_from_db()
    assert (integration.auto_resolve, integration.group_window_seconds) == (False, 0)


@pytest.mark.parametrize("count", [1, 3])
def test_integration_list_queries_do_not_grow(api, responder, count, django_assert_num_queries):
    IntegrationFactory.create_batch(count)
    api.as_user(responder)

    with django_assert_num_queries(3):  # session, user, integrations
        response = api.get("/api/v1/integrations/")

    assert len(response.json()["results"]) == count
