"""Demo data for postmortems and metrics: four months of incident history, two postmortems
(one published with factors and action items, one draft) and SLOs. Run after `demo`."""

import random
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from incidents.enums import Priority, ResolutionCode, Status
from incidents.models import Category, Incident, Service, Team, User
from postmortems import services, similar
from postmortems.models import ServiceLevelObjective

MARKER = "PSP answers 502 to card payments"
# (title, error codes, service slug) of the history; the numbers come from a seeded RNG.
HISTORY = [
    ("Checkout payment gateway timeouts", "PSP-502", "checkout"),
    ("Card payments declined after deploy", "PSP-402", "checkout"),
    ("API gateway 5xx spike", "HTTP-503", "api-gateway"),
    ("Rate limiter rejects healthy clients", "HTTP-429", "api-gateway"),
    ("Primary database replication lag", "PG-LAG", "postgres-primary"),
    ("Connection pool exhausted on primary", "PG-53300", "postgres-primary"),
    ("SSO logins loop back to the login page", "SAML-400", "auth"),
    ("Password reset mails delayed", "SMTP-451", "email"),
]
MINUTES_TO_ACK = {1: 6, 2: 18, 3: 90, 4: 400}
MINUTES_TO_RESOLVE = {1: 120, 2: 300, 3: 1500, 4: 4000}
SLOS = [("checkout", "99.9", 30), ("api-gateway", "99.95", 30), ("auth", "99.5", 7)]


class Command(BaseCommand):
    help = "Load demo incident history, postmortems, action items and SLOs (idempotent)."

    def handle(self, *args, **options):
        if Incident.objects.filter(title=MARKER).exists():
            self.stdout.write("Postmortem demo data is already loaded; keeping it.")
            return
        if not User.objects.filter(username="ravi").exists():
            raise CommandError("Run `manage.py demo` first: this builds on its users and services.")
        with transaction.atomic():
            self.history()
            self.postmortems()
            for slug, target, days in SLOS:
                service = Service.objects.filter(slug=slug).first()
                if service:
                    ServiceLevelObjective.objects.get_or_create(
                        service=service, defaults={"target": target, "window_days": days}
                    )
        similar.documents_rebuild()
        self.stdout.write(self.style.SUCCESS("Postmortem demo data loaded: see /metrics/."))

    def history(self) -> None:
        """Resolved incidents over the last 120 days, written as rows: they are history."""
        rng = random.Random(6)  # noqa: S311 - reproducible demo data
        now = timezone.now()
        services_by_slug = {s.slug: s for s in Service.objects.all()}
        categories = list(Category.objects.all()) or [None]
        ravi = User.objects.get(username="ravi")
        rows = []
        for i in range(90):
            title, codes, slug = HISTORY[i % len(HISTORY)]
            service = services_by_slug.get(slug)
            priority = rng.choice([1, 2, 2, 3, 3, 3, 4])
            created = now - timedelta(days=rng.uniform(3, 120))
            ack = created + timedelta(minutes=rng.expovariate(1 / MINUTES_TO_ACK[priority]))
            resolved = ack + timedelta(minutes=rng.expovariate(1 / MINUTES_TO_RESOLVE[priority]))
            rows.append(
                Incident(
                    title=title,
                    error_codes=codes,
                    description=f"{title} ({codes}).",
                    source=rng.choice(["web", "api", "alertmanager", "email"]),
                    opened_by=ravi,
                    service=service,
                    team=service.team if service else None,
                    category=rng.choice(categories),
                    priority=priority,
                    is_major=priority == Priority.P1,
                    status=Status.CLOSED,
                    acknowledged_at=ack,
                    mitigated_at=ack + (resolved - ack) * rng.uniform(0.3, 0.9),
                    resolved_at=resolved,
                    closed_at=resolved + timedelta(days=1),
                    resolution_code=ResolutionCode.FIXED,
                    resolution_notes=rng.choice(
                        ["Rolled back the deploy.", "Failed over.", "Raised the pool size."]
                    ),
                    reopen_count=1 if rng.random() < 0.05 else 0,
                    created_at=created,
                    reported_at=created,
                )
            )
        Incident.objects.bulk_create(rows)

    def postmortems(self) -> None:
        ravi, lee, sam = (User.objects.get(username=u) for u in ("ravi", "lee", "sam"))
        checkout = Service.objects.filter(slug="checkout").first()
        now = timezone.now()
        incident = Incident.objects.create(
            title=MARKER,
            error_codes="PSP-502",
            description="A third of card payments failed at checkout after a deploy.",
            service=checkout,
            team=Team.objects.filter(slug="payments").first(),
            priority=Priority.P1,
            is_major=True,
            status=Status.RESOLVED,
            created_at=now - timedelta(days=2, hours=3),
            reported_at=now - timedelta(days=2, hours=3),
            acknowledged_at=now - timedelta(days=2, hours=2, minutes=55),
            mitigated_at=now - timedelta(days=2, hours=2),
            resolved_at=now - timedelta(days=2, hours=1),
            resolution_code=ResolutionCode.FIXED,
            resolution_notes="Rolled back the card form and drained the retry queue.",
            users_affected=1800,
        )
        postmortem = services.postmortem_create(incident=incident, by=ravi)
        services.postmortem_update(
            postmortem=postmortem,
            by=ravi,
            summary="A deploy shipped a card form the payment provider rejected with 502.",
            impact_description="About 1,800 customers could not pay by card for 55 minutes.",
            customer_facing=True,
            impact_started_at=incident.created_at,
            impact_ended_at=incident.mitigated_at,
            detection="The PSP error-rate alert fired 4 minutes after the deploy.",
            went_well="The rollback took four minutes once decided.",
            went_badly="The canary only covered saved cards.",
            got_lucky="It happened outside the evening peak.",
            lessons="Contract tests against the PSP sandbox belong in the pipeline.",
        )
        services.factor_add(
            postmortem=postmortem,
            by=ravi,
            kind="technical",
            description="No contract test against the provider's sandbox.",
            is_root_cause=True,
        )
        services.factor_add(
            postmortem=postmortem,
            by=ravi,
            kind="process",
            description="The canary covered saved cards only.",
        )
        done = services.action_item_add(
            postmortem=postmortem, by=ravi, title="Canary new-card payments too", owner=sam
        )
        services.action_item_update(item=done, by=sam, status="done")
        services.action_item_add(
            postmortem=postmortem,
            by=ravi,
            title="Add a PSP sandbox contract test",
            owner=lee,
            due_date=timezone.localdate() - timedelta(days=1),
            external_url="https://tickets.example.com/PAY-142",
        )
        services.postmortem_transition(
            postmortem=postmortem, action="submit", by=ravi, reviewers=[lee]
        )
        services.postmortem_transition(postmortem=postmortem, action="publish", by=lee)
        # A draft waiting for its author, on the most recent P1 of the history.
        latest = (
            Incident.objects.filter(priority=Priority.P1, postmortem__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if latest:
            services.postmortem_create(incident=latest, by=None)
