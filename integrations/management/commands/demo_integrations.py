from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from incidents.models import Service
from integrations import outbound, services
from integrations.enums import IntegrationKind
from integrations.models import Integration, WebhookEndpoint

# (service slug of the demo, integration name, kind)
INTEGRATIONS = [
    ("api-gateway", "Prometheus (demo)", IntegrationKind.ALERTMANAGER),
    ("checkout", "Checkout monitor (demo)", IntegrationKind.GENERIC),
]
WEBHOOK_NAME = "Demo receiver"
# Nothing listens here until you start a receiver; failed deliveries show in the log.
WEBHOOK_URL = "http://127.0.0.1:8765/vigil-events"


class Command(BaseCommand):
    help = "Demo integrations (Alertmanager, generic) and a webhook subscription (idempotent)."

    def handle(self, *args, **options):
        base = settings.BASE_URL
        with transaction.atomic():
            for slug, name, kind in INTEGRATIONS:
                service = Service.objects.filter(slug=slug).first()
                if service is None:
                    self.stdout.write(f"No demo service {slug!r}: run `manage.py demo` first.")
                    continue
                if Integration.objects.filter(name=name, service=service).exists():
                    self.stdout.write(f"{name}: kept (rotate its key on {base}/integrations/).")
                    continue
                _, key = services.integration_create(name=name, service=service, kind=kind)
                self.stdout.write(self.style.SUCCESS(f"{name} on {service.name}: key {key}"))
                path = "/api/v1/integrations/alertmanager/"
                if kind == IntegrationKind.GENERIC:
                    path = "/api/v1/alerts/"
                self.stdout.write(f"  POST {base}{path} with 'Authorization: Bearer {key}'")
            endpoint = WebhookEndpoint.objects.filter(name=WEBHOOK_NAME).first()
            if endpoint is None:
                endpoint = outbound.webhook_endpoint_create(
                    name=WEBHOOK_NAME,
                    url=WEBHOOK_URL,
                    event_types=["incident.triggered", "incident.resolved"],
                )
        self.stdout.write(
            f"Webhook {endpoint.name} -> {endpoint.url} ({', '.join(endpoint.event_types)}); "
            f"signing secret {endpoint.secret} (also at GET /api/v1/webhooks/{endpoint.pk}/)."
        )
