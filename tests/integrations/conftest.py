import copy

import pytest

from tests.integrations.factories import IntegrationFactory

# Captured from Debian's prometheus-alertmanager 0.25 (shared/reference/ingestion.md).
ALERTMANAGER_FIRING = {
    "receiver": "vigil-webhook",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-1"},
            "annotations": {"summary": "disk", "description": "Disk is 99% full"},
            "startsAt": "2026-11-23T06:06:36Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": "d90c7e17e12ab2c5",
        }
    ],
    "groupLabels": {"alertname": "DiskFull"},
    "commonLabels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-1"},
    "commonAnnotations": {"summary": "disk"},
    "externalURL": "http://host:9093",
    "version": "4",
    "groupKey": '{}:{alertname="DiskFull"}',
    "truncatedAlerts": 0,
}

PAGERDUTY_TRIGGER = {
    "routing_key": "<key>",
    "dedup_key": "7626410f2cf1",
    "event_action": "trigger",
    "payload": {
        "summary": "[FIRING:1] DiskFull2 (critical pagerduty)",
        "source": "Alertmanager",
        "severity": "error",
        "custom_details": {
            "firing": "Labels:\n - alertname = DiskFull2\n",
            "num_firing": "1",
            "num_resolved": "0",
            "resolved": "",
        },
    },
    "client": "Alertmanager",
    "client_url": "http://host:9093/#/alerts?receiver=vigil-pagerduty",
}


@pytest.fixture
def alertmanager_firing():
    return copy.deepcopy(ALERTMANAGER_FIRING)


@pytest.fixture
def alertmanager_resolved():
    body = copy.deepcopy(ALERTMANAGER_FIRING)
    body["status"] = "resolved"
    body["alerts"][0]["status"] = "resolved"
    body["alerts"][0]["endsAt"] = "2026-11-23T06:16:36Z"
    return body


@pytest.fixture
def pagerduty_trigger():
    return copy.deepcopy(PAGERDUTY_TRIGGER)


@pytest.fixture
def integration(db):
    return IntegrationFactory(name="Prometheus", service__name="Checkout")
