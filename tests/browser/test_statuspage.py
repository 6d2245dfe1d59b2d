"""The public status page in real Chromium, during an incident and after it, light and dark;
the incident is published from the incident page's panel, as a responder does it."""

import re

import pytest
from playwright.sync_api import expect

from incidents import services as incident_services
from incidents.models import Incident
from tests.factories import IncidentFactory
from tests.statuspage.factories import ComponentFactory, GroupFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def csp_errors(page):
    """Console errors of the responder's page: a blocked inline script would show here."""
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def test_status_page_during_an_incident_and_after(
    page, browser, live_server, log_in, responder, screenshot, csp_errors
):
    core = GroupFactory(name="Core")
    api = ComponentFactory(name="Public API", group=core)
    ComponentFactory(name="Website", group=core)
    incident = IncidentFactory(title="Gateway 502s (internal: pod crashloop)", by=responder)

    log_in(page, responder)
    page.goto(f"{live_server.url}/incidents/{incident.number}/")
    panel = page.locator("#statuspage-panel")
    # Blank to the server (but not to the browser's own check): its 400 shows in the panel.
    panel.get_by_label("Public title").fill("   ")
    panel.get_by_label("Impact").select_option("major")
    panel.get_by_label("First public update").fill("Some API calls fail; we are on it.")
    panel.get_by_role("button", name="Publish to the status page").click()
    expect(panel).to_contain_text("This field is required.")
    panel.get_by_label("Public title").fill("Elevated API errors")
    panel.get_by_label("Public API").check()
    panel.get_by_label("Their status").select_option("major_outage")
    panel.get_by_role("button", name="Publish to the status page").click()
    expect(panel).to_contain_text("Published as Elevated API errors")
    screenshot("incident-published")

    visitor_context = browser.new_context()
    visitor = visitor_context.new_page()
    visitor.goto(f"{live_server.url}/status/")
    expect(visitor.locator("body")).to_contain_text("Elevated API errors")
    expect(visitor.locator("body")).to_contain_text("Some API calls fail; we are on it.")
    expect(visitor.locator("body")).to_contain_text("Major System Outage")
    expect(visitor.locator("body")).not_to_contain_text("crashloop")
    screenshot("during", target=visitor)

    dark_context = browser.new_context(color_scheme="dark")
    dark = dark_context.new_page()
    dark.goto(f"{live_server.url}/status/")
    light_bg = visitor.evaluate("getComputedStyle(document.body).backgroundColor")
    dark_bg = dark.evaluate("getComputedStyle(document.body).backgroundColor")
    assert light_bg != dark_bg
    screenshot("during-dark", target=dark)

    # A public update from the incident page, with its status page status, shows there too.
    page.get_by_label("Public update", exact=True).check()
    page.get_by_label("Text").fill("A fix is out; we are watching the error rate.")
    page.get_by_label("Status page status").select_option("monitoring")
    page.get_by_role("button", name="Post update").click()
    expect(page.locator(".update-public")).to_contain_text("A fix is out")
    visitor.reload()
    expect(visitor.locator("body")).to_contain_text(re.compile(r"Monitoring\W+A fix is out"))
    screenshot("monitoring", target=visitor)

    incident_services.incident_transition(
        incident=Incident.objects.get(pk=incident.pk),
        action="resolve",
        by=responder,
        resolution_code="fixed",
        notes="Rolled back the gateway.",
    )
    visitor.reload()
    expect(visitor.locator("body")).to_contain_text("All Systems Operational")
    visitor.get_by_role("link", name=re.compile("history", re.I)).first.click()
    expect(visitor.locator("body")).to_contain_text("Elevated API errors")
    screenshot("after-history", target=visitor)
    visitor.goto(f"{live_server.url}/status/")
    screenshot("after", target=visitor)

    api.refresh_from_db()
    assert api.status == "operational"
    # Visitors get no cookie from reading the page; no page needed an inline script.
    assert visitor_context.cookies() == []
    assert not [e for e in csp_errors if "Content Security Policy" in e]
