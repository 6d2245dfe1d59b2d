"""What the scenarios need in the benchmark database, written in this process (Django ORM).

Everything here is idempotent, so a database seeded by an earlier run is reused.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.db import connection
from knox.models import AuthToken

from bench.views import BARE_TABLE
from incidents.enums import UserRole
from incidents.models import Incident, Service, User
from integrations import services as integration_services
from integrations.enums import IntegrationKind
from integrations.models import Integration
from statuspage import services as statuspage_services
from statuspage.models import Component

INGEST_INTEGRATIONS = 20


@dataclass
class Fixtures:
    token: str
    session: str
    incident_numbers: list[str]
    alert_keys: list[str]


def seed(incidents: int) -> int:
    """Top the database up to `incidents` seeded incidents; returns how many it holds."""
    have = Incident.objects.count()
    if have < incidents:
        call_command("seed", incidents=incidents - have, seed=have, verbosity=0)
    if connection.vendor == "postgresql":
        # What autovacuum does to bulk-inserted rows in production (this shared server runs
        # without it), also for rows an earlier run left: set the visibility map, else every
        # index-only scan reads each row from the table too (the metrics over a year of a
        # million incidents took 3.7 times as long). Quick when there is nothing to do.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {Incident._meta.db_table}")
    return max(have, incidents)


def bare_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id bigserial PRIMARY KEY, "
            "body jsonb NOT NULL, created_at timestamptz NOT NULL)"
        )
        cursor.execute(f"TRUNCATE {BARE_TABLE}")


def user(username: str, role: str = UserRole.RESPONDER) -> User:
    found, _ = User.objects.get_or_create(
        username=username, defaults={"role": role, "email": f"{username}@bench.invalid"}
    )
    return found


def session_for(account: User) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(account.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = account.get_session_auth_hash()
    store.create()
    return store.session_key


def ingest_keys() -> list[str]:
    """Generic integrations on the first services, each with a fresh key and no rate cap
    (the benchmark measures the path, not the 429)."""
    keys = []
    for service in Service.objects.order_by("pk")[:INGEST_INTEGRATIONS]:
        name = f"bench-generic-{service.slug}"[:100]
        integration = Integration.objects.filter(name=name, service=service).first()
        if integration is None:
            integration, key = integration_services.integration_create(
                name=name,
                service=service,
                kind=IntegrationKind.GENERIC,
                rate_limit_per_minute=10**7,
            )
        else:
            key = integration_services.integration_rotate_key(integration=integration)
        keys.append(key)
    return keys


def status_components() -> None:
    if Component.objects.exists():
        return
    for position, service in enumerate(Service.objects.order_by("pk")[:8]):
        statuspage_services.component_create(name=service.name, service=service, position=position)


def prepare() -> Fixtures:
    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum keeps them in production: a server running with
        # autovacuum off (this shared one) would otherwise plan with a smaller table's.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    bare_table()
    status_components()
    responder = user("bench-responder")
    _, token = AuthToken.objects.create(responder)
    numbers = [
        f"INC-{pk}"
        for pk in Incident.objects.filter(is_private=False)
        .order_by("-pk")
        .values_list("pk", flat=True)[:1000]
    ]
    return Fixtures(
        token=token,
        session=session_for(responder),
        incident_numbers=numbers,
        alert_keys=ingest_keys(),
    )
