from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from incidents import services
from incidents.enums import UserRole
from incidents.models import Category, Incident, Runbook, RunbookStep, Service, Team, User

PASSWORD = "vigil-demo"  # noqa: S105 - printed to the user on purpose; demo only
USERS = [
    ("admin", "Ada", "Admin", UserRole.ADMIN),
    ("maria", "Maria", "Manager", UserRole.MANAGER),
    ("ravi", "Ravi", "Responder", UserRole.RESPONDER),
    ("sam", "Sam", "Oncall", UserRole.RESPONDER),
    ("lee", "Lee", "Engineer", UserRole.RESPONDER),
    ("stella", "Stella", "Stakeholder", UserRole.STAKEHOLDER),
]


class Command(BaseCommand):
    help = "Load demo users, teams, services, categories, runbooks and incidents (idempotent)."

    def handle(self, *args, **options):
        if User.objects.filter(username="admin").exists():
            self.stdout.write("Demo data is already loaded; keeping it.")
        else:
            with transaction.atomic():
                self.seed()
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(f"Demo logins (password for all: {PASSWORD}):")
        for username, first, last, role in USERS:
            self.stdout.write(f"  {username:<8} {role.label:<12} {first} {last}")

    def seed(self) -> None:
        users = {}
        for username, first, last, role in USERS:
            user = User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@example.com",
                role=role,
                is_staff=role in (UserRole.ADMIN, UserRole.MANAGER),
                is_superuser=role == UserRole.ADMIN,
            )
            user.set_password(PASSWORD)
            user.save()
            users[username] = user

        platform = Team.objects.create(name="Platform", slug="platform", manager=users["maria"])
        platform.members.set([users["ravi"], users["sam"]])
        payments = Team.objects.create(name="Payments", slug="payments", manager=users["maria"])
        payments.members.set([users["lee"], users["sam"]])
        desk = Team.objects.create(name="Service Desk", slug="service-desk")
        desk.members.set([users["ravi"], users["lee"]])

        def service(name, slug, team, description):
            return Service.objects.create(name=name, slug=slug, team=team, description=description)

        checkout = service("Checkout", "checkout", payments, "Cart, payment and order placement.")
        gateway = service("API Gateway", "api-gateway", platform, "Public edge for every API.")
        database = service("Primary database", "postgres-primary", platform, "PostgreSQL.")
        auth = service("Sign-in", "auth", platform, "Login, SSO and sessions.")
        email = service("Email", "email", desk, "Outbound mail and the shared mailbox.")

        def category(name, slug, parent=None):
            return Category.objects.create(name=name, slug=slug, parent=parent)

        software = category("Software", "software")
        category("Bug", "software-bug", software)
        deployment = category("Deployment", "software-deployment", software)
        category("Hardware", "hardware")
        network = category("Network", "network")
        security = category("Security", "security")
        request = category("Service request", "service-request")
        database_category = category("Database", "database")

        def runbook(name, steps, services=(), categories=()):
            book = Runbook.objects.create(name=name)
            book.services.set(services)
            book.categories.set(categories)
            RunbookStep.objects.bulk_create(
                RunbookStep(runbook=book, position=i, title=title) for i, title in enumerate(steps)
            )

        runbook(
            "Database failover",
            ["Check replication lag", "Promote the replica", "Repoint the connection pooler",
             "Verify writes from the application"],
            services=[database], categories=[database_category],
        )  # fmt: skip
        runbook(
            "Checkout outage",
            ["Check the payment provider's status page", "Look at error rates by endpoint",
             "Roll back the last deploy if it correlates"],
            services=[checkout],
        )  # fmt: skip
        runbook(
            "Security incident",
            ["Preserve logs and evidence", "Rotate exposed credentials", "Inform the CISO"],
            categories=[security],
        )  # fmt: skip

        ravi, sam, lee, maria = users["ravi"], users["sam"], users["lee"], users["maria"]
        now = timezone.now()

        def incident(title, hours_ago, *, by=ravi, **fields):
            created = services.incident_create(by=by, title=title, **fields)
            Incident.objects.filter(pk=created.pk).update(
                created_at=now - timedelta(hours=hours_ago),
                reported_at=now - timedelta(hours=hours_ago),
            )
            return created

        def step(inc, action, by=ravi, **params):
            return services.incident_transition(incident=inc, action=action, by=by, **params)

        incident("Checkout returns 502 for some card payments", 0.2, service=checkout,
                 category=software, impact=2, urgency=1,
                 description="Spike of 502s on /pay.")  # fmt: skip
        incident("Password reset emails are delayed", 1, service=email, impact=3, urgency=2)

        inc = incident("API gateway latency above SLO", 3, service=gateway, category=network,
                       impact=2, urgency=2, assignee=sam)  # fmt: skip
        step(inc, "acknowledge", by=sam)

        inc = incident("Primary database is down", 2, service=database,
                       category=database_category, impact=1, urgency=1,
                       users_affected=120000,
                       war_room_url="https://meet.example.com/db")  # fmt: skip
        services.role_assign(incident=inc, kind="commander", user=maria, by=maria)
        services.role_assign(incident=inc, kind="communications", user=lee, by=maria)
        step(inc, "acknowledge", by=sam)
        step(inc, "investigate", by=sam)
        services.update_post(incident=inc, by=sam, visibility="internal",
                             body="Replica lag is 4s; preparing failover.")  # fmt: skip
        services.update_post(incident=inc, by=lee, visibility="public",
                             body="We are investigating failures to save orders.")  # fmt: skip

        inc = incident("Login fails for SSO users", 6, service=auth, category=software,
                       impact=2, urgency=1)  # fmt: skip
        step(inc, "investigate")
        step(inc, "mitigate")

        inc = incident("VPN tunnel to the warehouse flaps", 30, category=network, impact=3,
                       urgency=3, team=desk)  # fmt: skip
        step(inc, "acknowledge")
        step(inc, "hold", reason="awaiting_vendor")

        inc = incident("Deploy 2026.11.3 broke image uploads", 50, service=gateway,
                       category=deployment, impact=2, urgency=2)  # fmt: skip
        step(inc, "acknowledge")
        step(inc, "resolve", resolution_code="fixed", notes="Rolled back to 2026.11.2.")

        inc = incident("Refunds stuck in pending", 80, service=checkout, impact=2, urgency=2,
                       by=lee)  # fmt: skip
        step(inc, "acknowledge", by=lee)
        step(inc, "mitigate", by=lee)
        step(inc, "resolve", by=lee, resolution_code="workaround",
             notes="Refunds re-queued by hand; fix scheduled.")  # fmt: skip
        step(inc, "close", by=lee)

        inc = incident("Suspicious logins from one address range", 100, service=auth,
                       category=security, impact=1, urgency=2, is_private=True,
                       team=platform)  # fmt: skip
        step(inc, "acknowledge", by=sam)
        step(inc, "investigate", by=sam)

        first = incident("Disk full on build server", 120, category=software, impact=3, urgency=2)
        duplicate = incident("Builds fail with ENOSPC", 119, category=software, impact=3, urgency=2)
        step(duplicate, "cancel", reason="duplicate", duplicate_of=first)
        step(first, "resolve", resolution_code="fixed", notes="Old artifacts pruned.")
        step(first, "reopen", notes="Filled up again overnight.")

        inc = incident("Monitoring alert: disk 95% on cache-3", 140, category=software,
                       impact=3, urgency=3, source="api")  # fmt: skip
        step(inc, "cancel", reason="false_alarm", notes="Threshold misconfigured.")

        incident("New laptop for the on-call engineer", 10, category=request, impact=3,
                 urgency=3, team=desk)  # fmt: skip
