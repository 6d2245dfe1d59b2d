"""Error budgets of availability SLOs, against numbers computed by hand.

Now is 2026-03-01 00:00 UTC.

Service A, 99.9% over 30 days: window 01-30 00:00 -> 03-01 00:00 = 2,592,000 s,
budget 0.1% = 2,592 s. Component C1 (major counts 1.0, partial 0.3):
    01-29 23:50 major -> 01-30 00:10 operational   600 s in the window   600
    02-10 10:00 major -> 02-10 10:10 operational                         600
    02-20 12:00 partial -> 13:00 operational        3600 x 0.3          1080
Component C2: 02-10 10:05 partial -> 10:20 operational; worst of both at each moment:
    10:05-10:10 is already major on C1, 10:10-10:20 partial: 600 x 0.3   180
    total 2,460 s = 94.91% of the budget, 5.09% left, availability 99.9051%.

Service B, no components, 99.5% over 7 days: window 02-22 -> 03-01 = 604,800 s,
budget 0.5% = 3,024 s. Impact windows (P1 as major, P2 as partial):
    P1 02-25 10:00 -> mitigated 10:30                                   1800
    P2 02-25 10:20 -> mitigated 10:50: 10:30-10:50 not under the P1      360
    P2 postmortem impact 02-26 07:50 -> 08:40: 3000 x 0.3                900
    P3 and a P1 before the window: not counted
    total 3,060 s = 101.19% of the budget: overspent, -1.19% left.
"""

from datetime import UTC, datetime

import pytest
import time_machine

from incidents.enums import Status
from incidents.models import Incident
from postmortems import slo
from postmortems.models import Postmortem, ServiceLevelObjective
from statuspage.models import Component, ComponentStatusChange
from tests.factories import ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-{text}").replace(tzinfo=UTC)


@pytest.fixture
def service_a():
    service = ServiceFactory(name="A", slug="a")
    c1 = Component.objects.create(name="C1", service=service, created_at=at("01-01T00:00"))
    c2 = Component.objects.create(name="C2", service=service, created_at=at("01-01T00:00"))
    for component, changes in (
        (
            c1,
            [
                ("01-01T00:00", "operational"),
                ("01-29T23:50", "major_outage"),
                ("01-30T00:10", "operational"),
                ("02-10T10:00", "major_outage"),
                ("02-10T10:10", "operational"),
                ("02-20T12:00", "partial_outage"),
                ("02-20T13:00", "operational"),
            ],
        ),
        (c2, [("02-10T10:05", "partial_outage"), ("02-10T10:20", "operational")]),
    ):
        for when, status in changes:
            ComponentStatusChange.objects.create(component=component, status=status, at=at(when))
    ServiceLevelObjective.objects.create(service=service, target="99.9", window_days=30)
    return service


@pytest.fixture
def service_b():
    service = ServiceFactory(name="B", slug="b")

    def incident(priority, created, mitigated, **extra):
        return Incident.objects.create(
            title=f"P{priority} at {created}",
            priority=priority,
            service=service,
            status=Status.RESOLVED,
            created_at=at(created),
            mitigated_at=at(mitigated),
            resolved_at=at(mitigated),
            **extra,
        )

    incident(1, "02-25T10:00", "02-25T10:30")
    incident(2, "02-25T10:20", "02-25T10:50")
    p2 = incident(2, "02-26T08:00", "02-26T09:30")
    Postmortem.objects.create(
        incident=p2,
        title="p2",
        impact_started_at=at("02-26T07:50"),
        impact_ended_at=at("02-26T08:40"),
    )
    incident(3, "02-27T10:00", "02-27T20:00")
    incident(1, "02-20T10:00", "02-20T20:00")
    ServiceLevelObjective.objects.create(service=service, target="99.5", window_days=7)
    return service


def test_error_budget_from_components(service_a):
    budget = slo.error_budget(service_a.slo, now=NOW)

    assert budget.source == "components"
    assert (budget.budget_seconds, budget.downtime_seconds) == (pytest.approx(2592), 2460)
    assert (budget.consumed_percent, budget.left_percent) == (94.91, 5.09)
    assert budget.availability_percent == 99.9051


def test_burn_chart_is_cumulative_by_day(service_a):
    burn = dict(slo.error_budget(service_a.slo, now=NOW).burn)

    assert len(burn) == 30
    assert burn[datetime(2026, 1, 30).date()] == round(100 * 600 / 2592, 2)
    assert burn[datetime(2026, 2, 9).date()] == 23.15
    assert burn[datetime(2026, 2, 10).date()] == round(100 * 1380 / 2592, 2)
    assert burn[datetime(2026, 2, 28).date()] == 94.91


def test_error_budget_from_p1_p2_incidents(service_b):
    budget = slo.error_budget(service_b.slo, now=NOW)

    assert budget.source == "incidents"
    assert (budget.budget_seconds, budget.downtime_seconds) == (pytest.approx(3024), 3060)
    assert (budget.consumed_percent, budget.left_percent) == (101.19, -1.19)


def test_error_budgets_constant_queries(service_a, service_b, django_assert_max_num_queries):
    slos = slo.slos_in_scope()
    with django_assert_max_num_queries(5):
        budgets = slo.error_budgets(slos, now=NOW)

    assert [b.slo.service.name for b in budgets] == ["A", "B"]


def test_postmortem_impact_shows_the_incident_share(service_b):
    postmortem = Postmortem.objects.get(title="p2")

    impact = slo.postmortem_impact(postmortem)

    # 900 s of the 3,024 s budget; at 08:40 on 02-26 the window (02-19 08:40 ->) held the
    # P1 (1800), the first P2 (360) and this one (900) and the P1 of 02-20 (10h: 36,000).
    assert impact["share_percent"] == round(100 * 900 / 3024, 2)
    assert impact["budget"].end == at("02-26T08:40")
    assert impact["budget"].downtime_seconds == 1800 + 360 + 900 + 36000


@time_machine.travel(NOW, tick=False)
def test_slo_pages_and_api(client, api, service_a, service_b, django_assert_max_num_queries):
    user = UserFactory(role="responder", username="sre")
    client.force_login(user)

    with django_assert_max_num_queries(12):
        listing = client.get("/slos/").content.decode()
    detail = client.get("/services/a/slo/").content.decode()
    body = api.as_user(user).get("/api/v1/metrics/slos/?service=b").json()

    assert "94.91%" in listing and "-1.19%" in listing
    assert "5.09%" in detail and 'id="slo-data"' in detail and "postmortems/slo.js" in detail
    assert [(b["service"], b["consumed_percent"], b["source"]) for b in body] == [
        ("b", 101.19, "incidents")
    ]
    assert client.get("/services/nope/slo/").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_postmortem_page_impact_section_shows_budget(client, service_b):
    client.force_login(UserFactory(role="responder", username="sre"))
    postmortem = Postmortem.objects.get(title="p2")

    html = client.get(f"/postmortems/{postmortem.pk}/").content.decode()

    assert "this incident used 29.76% of the error budget of B (99.5% over 7 days)" in html
    markdown = client.get(f"/postmortems/{postmortem.pk}/export.md").content.decode()
    assert "- Error budget: this incident used 29.76% of the error budget of B" in markdown
