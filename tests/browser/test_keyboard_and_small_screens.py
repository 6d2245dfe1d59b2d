"""Keyboard use (shortcuts, the `?` help, visible focus) and small screens: 320 CSS pixels
wide is both a phone and a 1280-pixel window at 400% zoom."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_shortcuts_help_and_visible_focus(page, live_server, log_in, responder, screenshot):
    incident = IncidentFactory(title="Queue backlog", by=responder)
    log_in(page, responder)

    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    screenshot("shortcut-help")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    page.keyboard.press("/")
    expect(page.locator("#home-search")).to_be_focused()
    page.keyboard.press("Escape")
    page.locator("body").click(position={"x": 1, "y": 300})

    page.keyboard.press("g")
    page.keyboard.press("i")
    page.wait_for_url(re.compile(r"/incidents/$"))
    page.keyboard.press("n")
    page.wait_for_url(re.compile(r"/incidents/new/$"))

    page.goto(f"{live_server.url}/incidents/{incident.number}/")
    page.keyboard.press("a")
    expect(page.locator(".badges")).to_contain_text("Acknowledged")

    # Tabbing shows where the focus is: an outline at least 2 pixels wide.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
    assert float(outline.removesuffix("px")) >= 2
    screenshot("focus-visible")


def test_pages_fit_a_phone_width_screen(browser, live_server, log_in, responder, screenshot):
    incident = IncidentFactory(title="A rather long title " * 4, by=responder)
    context = browser.new_context(viewport={"width": 320, "height": 640})
    phone = context.new_page()
    log_in(phone, responder)
    pages = {
        "home": "/",
        "list": "/incidents/",
        "new": "/incidents/new/",
        "status": "/status/",
        "manage-status": "/status-page/",
        "incident": f"/incidents/{incident.number}/",
    }
    wide = {}
    for name, path in pages.items():
        phone.goto(live_server.url + path)
        phone.wait_for_load_state("networkidle")  # the incident page's panels are in
        screenshot(f"phone-{name}", target=phone)
        wide[name] = phone.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    assert wide == dict.fromkeys(pages, 0)
    context.close()
