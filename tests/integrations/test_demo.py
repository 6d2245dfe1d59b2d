import pytest
from django.core.management import call_command

from integrations.enums import IntegrationKind
from integrations.keys import integration_for_key
from integrations.models import Integration, WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_demo_integrations_creates_working_keys_once(capsys):
    call_command("demo")
    capsys.readouterr()

    call_command("demo_integrations")
    first = capsys.readouterr().out
    call_command("demo_integrations")
    second = capsys.readouterr().out

    kinds = sorted(Integration.objects.values_list("kind", flat=True))
    assert kinds == [IntegrationKind.ALERTMANAGER, IntegrationKind.GENERIC]
    assert WebhookEndpoint.objects.count() == 1
    keys = [line.split("key ")[1] for line in first.splitlines() if ": key " in line]
    assert [integration_for_key(key).service.slug for key in keys] == ["api-gateway", "checkout"]
    assert ": key " not in second and second.count("kept") == 2
