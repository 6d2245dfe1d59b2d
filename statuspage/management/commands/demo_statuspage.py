from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from incidents import services as incident_services
from incidents.models import Incident, Service, User
from statuspage import services, uptime
from statuspage.enums import ComponentStatus
from statuspage.models import Component

# (group, [(component, demo service slug or None, description)])
LAYOUT = [
    (
        "Customer-facing",
        [
            ("Website", None, "www and the marketing pages."),
            ("Checkout", "checkout", "Cart, payment and order placement."),
            ("Sign-in", "auth", "Login, SSO and sessions."),
        ],
    ),
    (
        "Platform",
        [
            ("Public API", "api-gateway", "Every API, through the gateway."),
            ("Email delivery", "email", "Receipts, notifications and password mails."),
            ("Database", "postgres-primary", "Where everything is stored."),
        ],
    ),
]


class Command(BaseCommand):
    help = "Load a demo status page: settings, groups, components, maintenance, history."

    def handle(self, *args, **options):
        if Component.objects.exists():
            self.stdout.write("Status page demo data is already loaded; keeping it.")
        else:
            with transaction.atomic():
                self.seed()
            # Uptime bars come from the daily rollup the beat task keeps fresh.
            uptime.uptime_rollup(days=90)
            self.stdout.write(self.style.SUCCESS("Status page demo data loaded."))
        self.stdout.write("  Public page: /status/   JSON: /status/api/v2/summary.json")
        self.stdout.write("  Manage components and maintenance: /status-page/")

    def seed(self) -> None:
        now = timezone.now()
        page = services.page_settings()
        page.name = "Vigil Demo Status"
        page.support_url = "https://example.com/support"
        services.page_settings_save(page=page)

        services_by_slug = {s.slug: s for s in Service.objects.all()}
        components = {}
        for group_position, (group_name, items) in enumerate(LAYOUT):
            group = services.group_save(name=group_name, position=group_position)
            for position, (name, slug, description) in enumerate(items):
                components[name] = services.component_create(
                    name=name,
                    group=group,
                    service=services_by_slug.get(slug),
                    description=description,
                    position=position,
                )
                # History starts 90 days back, so the uptime bars have days to show.
                components[name].changes.update(at=now - timedelta(days=90))
        Component.objects.update(created_at=now - timedelta(days=90))
        self.past_outage(components["Checkout"], days_ago=12, hours=2)
        self.past_outage(components["Email delivery"], days_ago=40, hours=5)

        services.maintenance_create(
            name="Database upgrade to PostgreSQL 17",
            scheduled_for=now + timedelta(days=2),
            scheduled_until=now + timedelta(days=2, hours=2),
            components=[components["Database"], components["Public API"]],
            body="Writes pause for up to ten minutes during the window.",
        )
        self.resolved_incident(components["Sign-in"])

    def past_outage(self, component: Component, *, days_ago: int, hours: int) -> None:
        start = timezone.now() - timedelta(days=days_ago)
        services.component_set_status(
            component=component,
            status=ComponentStatus.PARTIAL_OUTAGE,
            reason="demo history",
            at=start,
        )
        services.component_set_status(
            component=component,
            status=ComponentStatus.OPERATIONAL,
            reason="demo history",
            at=start + timedelta(hours=hours),
        )

    def resolved_incident(self, component: Component) -> None:
        """A public incident, published and resolved through the services as a responder
        would, so the history page and feeds have one."""
        responder = User.objects.filter(is_active=True).order_by("pk").first()
        incident = incident_services.incident_create(
            by=responder,
            title="Sign-in slow for SSO users",
            description="The identity provider's token endpoint answered in 8 seconds.",
        )
        services.public_incident_publish(
            incident=incident,
            by=responder,
            title="Slow sign-in for single sign-on users",
            impact="minor",
            body="Some users signing in with SSO wait several seconds. We are looking into it.",
            components=[{"component": component.pk, "status": "degraded_performance"}],
        )
        incident_services.update_post(
            incident=incident,
            by=responder,
            visibility="public",
            status="monitoring",
            body="Our identity provider fixed its token endpoint; we are watching sign-ins.",
        )
        incident_services.incident_transition(
            incident=Incident.objects.get(pk=incident.pk),
            action="resolve",
            by=responder,
            resolution_code="external",
            notes="The identity provider fixed its token endpoint.",
        )
