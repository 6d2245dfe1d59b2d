"""The issue's "Done when" for the browser: a manager sets up a schedule, a policy and a
contact method in real Chromium, sees who is on call now, and sees the paging state (and
Escalate now) on the incident page."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from escalation.services import runs_fire_due
from incidents.models import Incident
from tests.factories import ServiceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_set_up_on_call_and_watch_an_incident_page(page, live_server, log_in, manager, screenshot):
    alice = UserFactory(username="alice", first_name="Alice", last_name="Ng")
    team = TeamFactory(name="Payments", slug="payments", members=[manager, alice])
    ServiceFactory(name="Checkout", slug="checkout", team=team)
    log_in(page, manager)

    # A schedule with one daily rotation starting today at midnight: maria, then alice.
    page.get_by_role("link", name="On call", exact=True).click()
    page.get_by_role("link", name="New schedule").click()
    page.locator("#id_name").fill("Payments primary")
    page.locator("#id_team").select_option(label="Payments")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.locator("h1")).to_have_text("Payments primary")
    page.get_by_role("link", name="Add a layer").click()
    page.get_by_label("Rotation").fill("maria, alice")
    page.get_by_label("Turn length").fill("1")
    page.get_by_label("Unit").select_option("days")
    page.get_by_label("First turn starts on").fill(timezone.localdate().isoformat())
    page.get_by_label("Handoff time").fill("00:00")
    page.get_by_role("button", name="Save layer").click()
    expect(page.get_by_test_id("current")).to_contain_text("maria (Layer 1) until")
    screenshot("schedule")

    # A policy: the schedule first, then the whole team after five minutes.
    page.get_by_role("link", name="Policies", exact=True).click()
    page.get_by_role("link", name="New policy").click()
    page.locator("#id_name").fill("Payments")
    page.locator("#id_team").select_option(label="Payments")
    page.get_by_label("The team's default policy").check()
    page.get_by_role("button", name="Save policy").click()
    page.get_by_role("link", name="Add a level").click()
    page.get_by_label("Escalate after (minutes)").fill("5")
    page.get_by_label("Payments primary").check()
    page.get_by_role("button", name="Save level").click()
    page.get_by_role("link", name="Add a level").click()
    page.get_by_label("Payments", exact=True).check()
    page.get_by_role("button", name="Save level").click()
    expect(page.get_by_test_id("level-1")).to_contain_text("schedule Payments primary")
    expect(page.get_by_test_id("level-2")).to_contain_text("team Payments")
    screenshot("policy")

    # A Slack-compatible webhook, used at once when paged.
    page.get_by_role("link", name="My notifications").click()
    page.get_by_label("Kind").select_option("slack")
    page.get_by_label("Address").fill("https://hooks.example.com/services/T1/B2")
    page.get_by_role("button", name="Add contact method").click()
    page.get_by_label("After (minutes)").fill("0")
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_test_id("rules")).to_contain_text("Slack-compatible webhook")
    screenshot("my-notifications")

    page.get_by_role("link", name="On call", exact=True).click()
    row = page.locator("tr", has_text="Payments primary")
    expect(row.locator(".who")).to_have_text("maria you")  # the manager is on call now
    expect(row).to_contain_text("Alice Ng")
    screenshot("oncall-now")

    # An incident on Checkout pages the schedule's maria; the panel says so.
    page.get_by_role("link", name="Incidents", exact=True).click()
    page.get_by_role("link", name="New incident").first.click()
    page.get_by_label("Title").fill("Checkout times out")
    page.get_by_label("Service").select_option("checkout")
    page.get_by_role("button", name="Log incident").click()
    page.wait_for_url(re.compile(r"/incidents/INC-\d+/$"))
    incident = Incident.objects.get()
    assert runs_fire_due() == 1  # the beat sweeper's work, done here without a worker
    page.reload()
    paging = page.locator("#paging-panel")
    expect(paging.get_by_test_id("paged")).to_contain_text(
        "maria (level 1, via schedule Payments primary)"
    )
    expect(paging.get_by_test_id("next-level")).to_contain_text("Level 2 at")
    expect(paging.get_by_test_id("sla")).to_contain_text("Time to acknowledge:")
    expect(paging.get_by_test_id("update-due")).to_contain_text("Next stakeholder update due")
    screenshot("incident-paging")

    due_in_five_minutes = paging.get_by_test_id("next-level").inner_text()
    paging.get_by_role("button", name="Escalate now").click()
    expect(paging.get_by_test_id("next-level")).not_to_have_text(due_in_five_minutes)
    assert incident.timeline.filter(kind="escalated").count() == 1
    runs_fire_due()
    page.reload()
    expect(page.locator("#paging-panel").get_by_test_id("paged")).to_contain_text(
        "alice (level 2, via team Payments)"
    )
    page.get_by_role("button", name="Acknowledge").first.click()
    expect(page.locator("#paging-panel").get_by_test_id("paging-state")).to_contain_text(
        "Acknowledged"
    )
    screenshot("incident-acknowledged")
