"""The issue's "Done when": one incident walked from triage to close in real Chromium,
while a second browser session watches its timeline grow without reloading."""

import re

import pytest
from playwright.sync_api import expect

from incidents.models import Incident
from tests.factories import RunbookFactory, ServiceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(responder):
    sam = UserFactory(username="sam", first_name="Sam", last_name="Oncall")
    team = TeamFactory(name="Payments", slug="payments", members=[responder, sam])
    service = ServiceFactory(name="Checkout", slug="checkout", team=team)
    runbook = RunbookFactory(
        name="Checkout outage", steps=["Check the PSP status page", "Roll back"]
    )
    runbook.services.add(service)
    return {"sam": sam, "team": team, "service": service}


def test_a_whole_incident_from_triage_to_close(
    page, browser, live_server, log_in, responder, desk, screenshot, settings
):
    settings.UI_POLL_SECONDS = 1
    log_in(page, responder)
    screenshot("home")

    # Log it, watching the matrix give the priority as impact and urgency change.
    page.get_by_role("link", name="New incident").first.click()
    page.get_by_label("Title").fill("Card payments fail at checkout")
    page.get_by_label("Description").fill("The PSP answers 502 for a third of payments.")
    page.get_by_label("Service").select_option("checkout")
    preview = page.get_by_test_id("priority-preview")
    expect(preview).to_have_text("P3")
    page.get_by_label("Urgency").select_option("1")
    expect(preview).to_have_text("P2")
    expect(page.locator("#priority-preview")).to_contain_text("P2 - High (SEV2)")
    screenshot("new-incident")
    page.get_by_role("button", name="Log incident").click()
    page.wait_for_url(re.compile(r"/incidents/INC-\d+/$"))
    incident = Incident.objects.get()
    expect(page.locator("h1")).to_contain_text("Card payments fail at checkout")

    # A colleague opens the same incident in another browser session and keeps watching.
    watcher = browser.new_context().new_page()
    log_in(watcher, desk["sam"])
    watcher.goto(f"{live_server.url}/incidents/{incident.number}/")
    watcher.evaluate("window.stillTheSamePage = true")
    watcher_timeline = watcher.locator("#timeline-items")
    expect(watcher_timeline).to_contain_text("Runbook “Checkout outage” applied")

    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".badges")).to_contain_text("Acknowledged")

    page.get_by_role("combobox", name="Role").select_option("commander")
    page.get_by_role("combobox", name="Person").select_option("sam")
    page.get_by_role("button", name="Set role").click()
    expect(page.locator("#roles")).to_contain_text("Incident commander: Sam Oncall")

    page.get_by_label("Internal work note").check()
    page.get_by_label("Text").fill("Rolling back the PSP client to 4.2.")
    page.get_by_role("button", name="Post update").click()
    page.get_by_label("Public update", exact=True).check()
    page.get_by_label("Text").fill("Some card payments fail; we are on it.")
    page.get_by_role("button", name="Post update").click()
    expect(page.locator(".update-public")).to_contain_text("Some card payments fail")
    expect(page.locator(".update-internal")).to_contain_text("Rolling back the PSP client")

    task = page.get_by_label("Check the PSP status page")
    task.check()
    expect(page.locator("#tasks li.done")).to_contain_text("Check the PSP status page")
    assert incident.tasks.get(title="Check the PSP status page").done

    page.get_by_role("button", name="Mitigate").click()
    expect(page.locator(".badges")).to_contain_text("Mitigated")
    screenshot("incident-mitigated")

    page.get_by_role("button", name="Resolve…").click()
    dialog = page.get_by_role("dialog", name=f"Resolve {incident.number}")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Resolution code").select_option("fixed")
    dialog.get_by_label("Resolution notes").fill("Rolled back the PSP client; payments pass.")
    screenshot("resolve-dialog")
    dialog.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.locator(".badges")).to_contain_text("Resolved")

    page.get_by_role("button", name="Confirm and close").click()
    expect(page.locator(".badges")).to_contain_text("Closed")
    screenshot("incident-closed")

    incident.refresh_from_db()
    assert (incident.status, incident.resolution_code) == ("closed", "fixed")
    assert incident.roles.get().user == desk["sam"]
    # The watcher's timeline grew with every step, and their page never reloaded.
    expect(watcher_timeline).to_contain_text("Close: now Closed", timeout=10_000)
    for step in ["Acknowledge: now Acknowledged", "Incident commander: sam", "Mitigate: now"]:
        expect(watcher_timeline).to_contain_text(step)
    assert watcher.evaluate("window.stillTheSamePage") is True
    screenshot("watcher", target=watcher)

    page.goto(f"{live_server.url}/incidents/?status=closed")
    expect(page.locator("table.incidents")).to_contain_text("Card payments fail at checkout")
    screenshot("list")


def test_bad_input_shows_beside_the_field_and_changes_nothing(
    page, live_server, log_in, responder, desk, screenshot
):
    log_in(page, responder)
    page.goto(f"{live_server.url}/incidents/new/")
    page.get_by_label("Reporter email").fill("not an email")
    page.get_by_role("button", name="Log incident").click()

    expect(page.locator("#id_title_error")).to_have_text("This field is required.")
    expect(page.locator("#id_reporter_email_error")).to_have_text("Enter a valid email address.")
    expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    screenshot("new-incident-errors")
    assert Incident.objects.count() == 0

    page.get_by_label("Title").fill("Refunds stuck")
    page.get_by_label("Reporter email").fill("")
    page.get_by_role("button", name="Log incident").click()
    page.wait_for_url(re.compile(r"/incidents/INC-\d+/$"))
    page.get_by_role("button", name="Resolve…").click()
    dialog = page.get_by_role("dialog", name=re.compile("^Resolve INC-"))
    dialog.get_by_role("button", name="Resolve", exact=True).click()

    dialog = page.get_by_role("dialog", name=re.compile("^Resolve INC-"))
    expect(dialog).to_be_visible()
    expect(dialog.locator("#id_resolve-notes_error")).to_have_text("This field is required.")
    screenshot("resolve-errors")
    assert Incident.objects.get().status == "triggered"
