"""Escalation policies and "My notifications" in the browser."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalation.models import (
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    NotificationRule,
    ServiceOnCall,
)
from tests.escalation.factories import ScheduleFactory, policy
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def count(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_manager_builds_a_policy_with_levels(client, manager, team, alice, bob):
    schedule = ScheduleFactory(name="Primary")
    client.force_login(manager)

    created = client.post(
        "/policies/new/",
        {
            "name": "Payments",
            "team": team.pk,
            "is_team_default": "on",
            "repeat": "2",
            "time_zone": "Europe/Paris",
            "business_days": ["0", "1", "2", "3", "4"],
            "business_start": "09:00",
            "business_end": "18:00",
        },
    )
    p = EscalationPolicy.objects.get()
    url = f"/policies/{p.pk}/"
    client.post(
        f"{url}levels/new/",
        {"delay_minutes": "10", "hours": "business", "users": [alice.pk]},
    )
    client.post(
        f"{url}levels/new/",
        {"delay_minutes": "15", "hours": "after_hours", "schedules": [schedule.pk]},
    )
    client.post(f"{url}levels/new/", {"delay_minutes": "30", "hours": "always", "teams": [team.pk]})

    assert created.status_code == 302 and created["Location"] == url
    assert (p.team, p.is_team_default, p.repeat, p.business_days) == (
        team,
        True,
        2,
        [0, 1, 2, 3, 4],
    )
    assert [
        (lv.position, lv.delay_minutes, lv.hours, [str(t) for t in lv.targets.all()])
        for lv in p.levels.all()
    ] == [
        (0, 10, "business", ["user alice"]),
        (1, 15, "after_hours", ["schedule Primary"]),
        (2, 30, "always", ["team Payments"]),
    ]
    html = client.get(url).content.decode()
    assert "Business hours only" in html and "schedule Primary" in html


def test_level_edit_and_delete(client, manager, alice, bob):
    p = policy(levels=[{"targets": [alice]}, {"targets": [bob]}])
    first = p.levels.get(position=0)
    client.force_login(manager)

    client.post(
        f"/policies/{p.pk}/levels/{first.pk}/",
        {"delay_minutes": "5", "hours": "always", "users": [bob.pk]},
    )
    client.post(f"/policies/{p.pk}/levels/{p.levels.get(position=1).pk}/delete/")

    assert [(lv.delay_minutes, str(lv.targets.get())) for lv in EscalationLevel.objects.all()] == [
        (5, "user bob")
    ]


def test_a_level_pages_someone(client, manager):
    p = policy()
    client.force_login(manager)
    response = client.post(
        f"/policies/{p.pk}/levels/new/", {"delay_minutes": "5", "hours": "always"}
    )
    assert response.status_code == 400
    assert b"Choose at least one user, schedule or team to page." in response.content
    bad = client.post(f"/policies/{p.pk}/levels/new/", {"delay_minutes": "-1", "hours": "always"})
    assert bad.status_code == 400 and b"id_delay_minutes_error" in bad.content


def test_responders_read_policies_and_managers_write(client, responder, alice):
    p = policy(levels=[{"targets": [alice]}])
    service = ServiceFactory()
    client.force_login(responder)
    page = client.get(f"/policies/{p.pk}/")
    assert page.status_code == 200 and b"Save policy" not in page.content
    assert (
        client.post(
            f"/policies/{p.pk}/", {"name": "x", "repeat": "0", "time_zone": "UTC"}
        ).status_code
        == 403
    )
    assert client.get("/policies/new/").status_code == 403
    assert client.post(f"/policies/services/{service.slug}/", {"policy": p.pk}).status_code == 403
    assert client.get("/policies/424242/").status_code == 404


def test_manager_sets_a_services_policy_and_support_hours(client, manager, alice):
    p = policy(name="Checkout", levels=[{"targets": [alice]}])
    service = ServiceFactory(name="Checkout API", slug="checkout")
    client.force_login(manager)

    response = client.post(
        "/policies/services/checkout/",
        {
            "policy": p.pk,
            "time_zone": "Europe/London",
            "support_days": ["0", "1", "2", "3", "4"],
            "support_start": "09:00",
            "support_end": "17:00",
        },
    )
    half = client.post(
        "/policies/services/checkout/", {"time_zone": "UTC", "support_start": "09:00"}
    )

    assert response.status_code == 302
    oncall = ServiceOnCall.objects.get(service=service)
    assert (oncall.policy, oncall.time_zone, oncall.support_days) == (
        p,
        "Europe/London",
        [0, 1, 2, 3, 4],
    )
    assert half.status_code == 400 and b"id_support_end_error" in half.content
    assert client.get("/policies/services/nope/").status_code == 404
    html = client.get("/policies/").content.decode()
    assert "<td>Checkout</td>\n      <td>09:00\u201317:00 Europe/London</td>" in html
    form = client.get("/policies/services/checkout/").content.decode()
    assert 'value="17:00"' in form


def test_policies_page_runs_constant_queries(
    client, responder, alice, bob, django_assert_max_num_queries
):
    schedule = ScheduleFactory()
    client.force_login(responder)
    policy(name="P0", levels=[{"targets": [alice, schedule]}])
    ServiceFactory()
    one, _ = count(client, "/policies/")
    for i in (1, 2):
        policy(name=f"P{i}", levels=[{"targets": [bob]}, {"targets": [schedule, alice]}])
        ServiceFactory()
    three, html = count(client, "/policies/")
    assert one == three and html.count("/policies/") > 3
    _, _ = count(client, f"/policies/{EscalationPolicy.objects.first().pk}/")
    with django_assert_max_num_queries(one):
        client.get("/policies/")


def test_my_notifications_adds_methods_and_rules(client, responder, django_assert_max_num_queries):
    client.force_login(responder)

    client.post("/me/notifications/", {"kind": "email", "address": "ravi@example.com"})
    client.post(
        "/me/notifications/",
        {"kind": "slack", "address": "https://hooks.example.com/T1/B2", "label": "team chat"},
    )
    bad = client.post("/me/notifications/", {"kind": "webhook", "address": "not a url"})
    email, slack = ContactMethod.objects.filter(user=responder).order_by("id")
    client.post("/me/notifications/", {"contact_method": email.pk, "delay_minutes": "0"})
    client.post("/me/notifications/", {"contact_method": slack.pk, "delay_minutes": "2"})

    assert bad.status_code == 400 and b"id_address_error" in bad.content
    assert list(NotificationRule.objects.values_list("contact_method__kind", "delay_minutes")) == [
        ("email", 0),
        ("slack", 2),
    ]
    with django_assert_max_num_queries(8):
        html = client.get("/me/notifications/").content.decode()
    assert "Slack-compatible webhook https://hooks.example.com/T1/B2: after 2 min" in html


def test_my_notifications_touch_only_my_own(client, responder, alice):
    other = ContactMethod.objects.create(user=alice, kind="email", address="alice@example.com")
    client.force_login(responder)
    stolen_rule = client.post(
        "/me/notifications/", {"contact_method": other.pk, "delay_minutes": "0"}
    )
    removed = client.post(f"/me/notifications/methods/{other.pk}/delete/")
    assert stolen_rule.status_code == 400 and b"id_contact_method_error" in stolen_rule.content
    assert removed.status_code == 404
    assert ContactMethod.objects.filter(pk=other.pk).exists()
