import json
import threading

import pytest
from django.db import connection, transaction

from incidents.models import Incident
from integrations import keys, services
from integrations.models import Alert, Integration
from tests.integrations.factories import IntegrationFactory


def post(client, url, body, key=None, **headers):
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data, content_type="application/json", **headers)


# --- Alertmanager ------------------------------------------------------------------------

AM = "/api/v1/integrations/alertmanager/"


def test_alertmanager_firing_group_opens_one_incident(client, integration, alertmanager_firing):
    response = post(client, AM, alertmanager_firing, integration.key)

    assert response.status_code == 202
    incident = Incident.objects.get()
    assert response.json() == {
        "alerts": [
            {"dedup_key": "d90c7e17e12ab2c5", "action": "created", "incident": incident.number}
        ]
    }
    assert (incident.title, incident.priority, incident.service) == (
        "DiskFull: disk (db-1)",
        1,
        integration.service,
    )
    alert = Alert.objects.get()
    assert (alert.dedup_key, alert.severity) == ("d90c7e17e12ab2c5", "critical")
    assert alert.source == "db-1"
    assert alert.details["labels"]["alertname"] == "DiskFull"


def test_alertmanager_repeat_and_resolve(client, integration, alertmanager_firing):
    alertmanager_firing["alerts"][0]["labels"]["severity"] = "warning"
    post(client, AM, alertmanager_firing, integration.key)
    post(client, AM, alertmanager_firing, integration.key)
    resolved = json.loads(json.dumps(alertmanager_firing).replace('"firing"', '"resolved"'))

    response = post(client, AM, resolved, integration.key)

    assert response.status_code == 202
    assert response.json()["alerts"][0]["action"] == "resolved"
    incident = Incident.objects.get()
    assert incident.status == "resolved"
    assert Alert.objects.get().count == 2


def test_alertmanager_group_with_firing_and_resolved_alerts(
    client, integration, alertmanager_firing
):
    second = {
        **alertmanager_firing["alerts"][0],
        "fingerprint": "aaaa",
        "labels": {"alertname": "DiskFull", "severity": "warning", "instance": "db-2"},
    }
    alertmanager_firing["alerts"].append(second)
    post(client, AM, alertmanager_firing, integration.key)
    alertmanager_firing["alerts"][0]["status"] = "resolved"

    response = post(client, AM, alertmanager_firing, integration.key)

    actions = [a["action"] for a in response.json()["alerts"]]
    assert actions == ["resolved", "repeated"]
    assert dict(Alert.objects.values_list("dedup_key", "status")) == {
        "d90c7e17e12ab2c5": "resolved",
        "aaaa": "firing",
    }


def test_alertmanager_missing_fingerprint_is_400_naming_it_and_writes_nothing(
    client, integration, alertmanager_firing
):
    good = dict(alertmanager_firing["alerts"][0], fingerprint="good")
    del alertmanager_firing["alerts"][0]["fingerprint"]
    alertmanager_firing["alerts"].insert(0, good)

    response = post(client, AM, alertmanager_firing, integration.key)

    assert response.status_code == 400
    assert response.json() == {"alerts[1].fingerprint": ["This field is required."]}
    assert Alert.objects.count() == Incident.objects.count() == 0


def test_alertmanager_without_alerts_is_400(client, integration):
    response = post(client, AM, {"version": "4"}, integration.key)

    assert response.status_code == 400
    assert response.json() == {"alerts": ["This field is required (a list)."]}


# --- Generic -----------------------------------------------------------------------------

GENERIC = "/api/v1/alerts/"


def test_generic_alert_trigger_and_resolve(client, integration):
    body = {
        "summary": "Checkout 5xx above 5%",
        "severity": "error",
        "source": "grafana",
        "dedup_key": "checkout-5xx",
        "details": {"rate": 0.07},
        "links": [{"href": "https://grafana.example/d/1", "text": "Dashboard"}],
    }
    created = post(client, GENERIC, body, integration.key)
    resolved = post(
        client, GENERIC, {"dedup_key": "checkout-5xx", "status": "resolved"}, integration.key
    )

    assert created.status_code == resolved.status_code == 202
    incident = Incident.objects.get()
    assert (incident.title, incident.priority, incident.status) == (
        "Checkout 5xx above 5%",
        2,
        "resolved",
    )
    assert "https://grafana.example/d/1" in incident.description


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"severity": "error"}, {"summary": ["This field is required."]}),
        (
            {"summary": "x", "severity": "fatal"},
            {"severity": ["Must be one of critical, error, warning, info."]},
        ),
        ({"status": "resolved"}, {"dedup_key": ["This field is required."]}),
        ({"summary": "x", "severity": "info", "details": []}, {"details": ["Must be an object."]}),
        ([1, 2], {"non_field_errors": ["The body must be a JSON object."]}),
    ],
)
def test_generic_alert_invalid_fields_are_named(client, integration, body, errors):
    response = post(client, GENERIC, body, integration.key)

    assert response.status_code == 400
    assert response.json() == errors
    assert Alert.objects.count() == 0


def test_malformed_json_is_400(client, integration):
    response = post(client, GENERIC, '{"summary": ', integration.key)

    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed JSON")


# --- PagerDuty Events API v2 -------------------------------------------------------------

PD = "/api/v1/integrations/pagerduty/v2/enqueue"


def test_pagerduty_trigger_answers_202_as_pagerduty_does(client, integration, pagerduty_trigger):
    pagerduty_trigger["routing_key"] = integration.key

    response = post(client, PD, pagerduty_trigger)

    assert response.status_code == 202
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "7626410f2cf1",
    }
    incident = Incident.objects.get()
    assert (incident.title, incident.priority) == ("[FIRING:1] DiskFull2 (critical pagerduty)", 2)
    assert "http://host:9093/#/alerts?receiver=vigil-pagerduty" in incident.description


def test_pagerduty_trigger_without_dedup_key_gets_one(client, integration, pagerduty_trigger):
    pagerduty_trigger["routing_key"] = integration.key
    del pagerduty_trigger["dedup_key"]

    response = post(client, PD, pagerduty_trigger)

    key = response.json()["dedup_key"]
    assert len(key) == 32
    assert Alert.objects.get().dedup_key == key


def test_pagerduty_acknowledge_and_resolve(client, integration, pagerduty_trigger):
    pagerduty_trigger["routing_key"] = integration.key
    post(client, PD, pagerduty_trigger)
    event = {"routing_key": integration.key, "dedup_key": "7626410f2cf1"}

    acked = post(client, PD, {**event, "event_action": "acknowledge"})
    assert Incident.objects.get().status == "acknowledged"
    resolved = post(client, PD, {**event, "event_action": "resolve"})

    assert acked.status_code == resolved.status_code == 202
    assert Incident.objects.get().status == "resolved"


def test_pagerduty_resolve_of_unknown_key_is_accepted_and_dropped(client, integration):
    body = {"routing_key": integration.key, "dedup_key": "nope", "event_action": "resolve"}

    response = post(client, PD, body)

    assert response.status_code == 202
    assert response.json()["dedup_key"] == "nope"
    assert Alert.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"event_action": "explode"}, "'event_action' is missing or invalid"),
        ({"payload": None}, "'payload' is missing or not an object"),
        ({"payload": {"source": "x", "severity": "error"}}, "'payload.summary' is missing"),
        ({"payload": {"summary": "x", "severity": "error"}}, "'payload.source' is missing"),
        ({"payload": {"summary": "x", "source": "x", "severity": "sev1"}}, "'payload.severity'"),
        ({"payload": {"summary": "x" * 1025, "source": "x", "severity": "info"}}, "1024"),
        ({"dedup_key": "k" * 256}, "'dedup_key' must be"),
        ({"event_action": "resolve", "dedup_key": None}, "'dedup_key' is required"),
    ],
)
def test_pagerduty_invalid_events_get_its_400_body(
    client, integration, pagerduty_trigger, change, error
):
    body = {**pagerduty_trigger, "routing_key": integration.key, **change}

    response = post(client, PD, body)

    assert response.status_code == 400
    answer = response.json()
    assert (answer["status"], answer["message"]) == ("invalid event", "Event object is invalid")
    assert any(e.startswith(error) or error in e for e in answer["errors"]), answer
    assert Alert.objects.count() == 0


def test_pagerduty_missing_routing_key_is_400(client, pagerduty_trigger, db):
    del pagerduty_trigger["routing_key"]

    response = post(client, PD, pagerduty_trigger)

    assert response.status_code == 400
    assert response.json()["errors"] == ["'routing_key' is missing or blank"]


@pytest.mark.parametrize("path", ["/v2/enqueue", "/enqueue", "/pd/v2/enqueue/"])
def test_pagerduty_enqueue_under_any_prefix(client, integration, pagerduty_trigger, path):
    pagerduty_trigger["routing_key"] = integration.key

    response = post(client, path, pagerduty_trigger)

    assert response.status_code == 202
    assert Incident.objects.count() == 1


# --- Keys, limits ------------------------------------------------------------------------


def test_unknown_and_disabled_keys_get_the_same_401(client, integration, alertmanager_firing):
    disabled = IntegrationFactory(enabled=False)

    unknown = post(client, AM, alertmanager_firing, "0" * 32)
    off = post(client, AM, alertmanager_firing, disabled.key)
    missing = post(client, AM, alertmanager_firing)

    assert unknown.status_code == off.status_code == missing.status_code == 401
    assert unknown.content == off.content == missing.content
    assert Alert.objects.count() == 0


def _repeat(client, integration, key=None):
    body = {"summary": "x", "severity": "info", "dedup_key": "k"}
    return post(client, GENERIC, body, key or integration.key)


def test_repeat_alert_with_a_known_key_costs_one_query(
    client, integration, django_assert_num_queries
):
    first = _repeat(client, integration)
    _repeat(client, integration)  # the key's lookup is cached from here

    with django_assert_num_queries(1):
        third = _repeat(client, integration)

    number = Incident.objects.get().number
    assert third.status_code == 202
    assert first.json()["alerts"] == [{"dedup_key": "k", "action": "created", "incident": number}]
    assert third.json()["alerts"] == [{"dedup_key": "k", "action": "repeated", "incident": number}]


def test_new_alert_joining_a_storm_costs_two_queries(
    client, integration, django_assert_num_queries
):
    _repeat(client, integration)
    _repeat(client, integration)
    body = {"summary": "Latency high", "severity": "warning", "dedup_key": "other"}

    with django_assert_num_queries(2):  # no repeat to count; the storm's incident joined
        response = post(client, GENERIC, body, integration.key)

    number = Incident.objects.get().number
    assert response.json()["alerts"] == [
        {"dedup_key": "other", "action": "grouped", "incident": number}
    ]
    assert Alert.objects.get(dedup_key="other").incident.number == number


@pytest.mark.parametrize(
    "change",
    [
        lambda integration: services.integration_update(integration=integration, enabled=False),
        lambda integration: services.integration_rotate_key(integration=integration),
        lambda integration: Integration.objects.get(pk=integration.pk).delete(),
    ],
    ids=["disabled", "rotated", "deleted"],
)
def test_cached_key_stops_working_with_the_change(client, integration, change):
    _repeat(client, integration)
    _repeat(client, integration)

    change(integration)

    assert _repeat(client, integration).status_code == 401


def test_with_the_cache_unreachable_alerts_still_open_incidents_and_say_so(
    client, integration, unreachable_cache, caplog
):
    body = {"summary": "Checkout 5xx", "severity": "critical", "dedup_key": "checkout-5xx"}

    first = post(client, GENERIC, body, integration.key)
    again = post(client, GENERIC, body, integration.key)
    services.integration_update(integration=integration, enabled=False)
    disabled = post(client, GENERIC, body, integration.key)

    assert (first.status_code, again.status_code, disabled.status_code) == (202, 202, 401)
    assert Alert.objects.get().count == 2 and Incident.objects.count() == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("alerts not rate limited: the cache is unreachable" in m for m in messages)
    assert any("integration key cache not invalidated" in m for m in messages)


def test_rotated_key_works_at_once(client, integration):
    _repeat(client, integration)
    _repeat(client, integration)

    new = services.integration_rotate_key(integration=integration)

    assert _repeat(client, integration, key=new).status_code == 202


@pytest.mark.django_db(transaction=True)
def test_key_read_while_a_change_commits_is_not_served_after_it(client):
    """A request that caches the old row just before a disable commits: the commit's new
    generation must hide that entry from the next request."""
    integration = IntegrationFactory()
    seen = []

    def read_elsewhere():
        seen.append(keys.integration_for_key(integration.key))
        connection.close()

    with transaction.atomic():
        services.integration_update(integration=integration, enabled=False)
        reader = threading.Thread(target=read_elsewhere)
        reader.start()
        reader.join()  # another connection: the row is still enabled, and now cached

    assert seen == [integration]
    assert _repeat(client, integration).status_code == 401


def test_pagerduty_unknown_and_disabled_keys_get_the_same_401(client, pagerduty_trigger, db):
    disabled = IntegrationFactory(enabled=False)

    unknown = post(client, PD, {**pagerduty_trigger, "routing_key": "0" * 32})
    off = post(client, PD, {**pagerduty_trigger, "routing_key": disabled.key})

    assert unknown.status_code == off.status_code == 401
    assert unknown.content == off.content


@pytest.mark.parametrize("url", [GENERIC, AM, PD])
def test_payload_over_512_kb_is_413(client, integration, url):
    body = json.dumps({"routing_key": integration.key, "pad": "x" * (512 * 1024)})

    response = post(client, url, body, integration.key)

    assert response.status_code == 413
    assert Alert.objects.count() == 0


def test_payload_just_under_the_limit_is_read(client, integration):
    body = {"summary": "x", "severity": "info", "details": {"pad": "x" * (500 * 1024)}}

    response = post(client, GENERIC, body, integration.key)

    assert response.status_code == 202


def test_rate_limit_per_key_answers_429_with_retry_after(client, db):
    integration = IntegrationFactory(rate_limit_per_minute=3)
    other = IntegrationFactory(rate_limit_per_minute=3)
    body = {"summary": "x", "severity": "info", "dedup_key": "k"}

    answers = [post(client, GENERIC, body, integration.key).status_code for _ in range(4)]
    throttled = post(client, GENERIC, body, integration.key)

    assert answers == [202, 202, 202, 429]
    assert 1 <= int(throttled["Retry-After"]) <= 61
    assert post(client, GENERIC, body, other.key).status_code == 202
    assert Alert.objects.get(integration=integration).count == 3


def test_pagerduty_rate_limit_body(client, pagerduty_trigger, db):
    integration = IntegrationFactory(rate_limit_per_minute=1)
    body = {**pagerduty_trigger, "routing_key": integration.key}

    post(client, PD, body)
    response = post(client, PD, body)

    assert response.status_code == 429
    assert response.json()["status"] == "throttle event"
    assert int(response["Retry-After"]) >= 1


def test_get_is_not_allowed(client, db):
    assert client.get(GENERIC).status_code == 405
