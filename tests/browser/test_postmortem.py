"""The issue's "Done when": a postmortem walked from draft to published in real Chromium,
then read on the metrics and SLO pages, whose charts Chart.js draws from the page's JSON."""

import re

import pytest
from playwright.sync_api import expect

from postmortems.models import Postmortem, ServiceLevelObjective
from tests.factories import ServiceFactory, UserFactory
from tests.postmortems.factories import resolved_incident

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_postmortem_from_draft_to_published(
    page, browser, live_server, log_in, responder, screenshot
):
    service = ServiceFactory(name="Checkout", slug="checkout")
    ServiceLevelObjective.objects.create(service=service, target="99.9", window_days=30)
    reviewer = UserFactory(username="rhea", first_name="Rhea", role="responder")
    incident = resolved_incident(
        priority=1, by=responder, title="Card payments fail", service=service
    )
    postmortem = Postmortem.objects.get(incident=incident)  # drafted when it resolved

    log_in(page, responder)
    page.get_by_role("link", name="Postmortems").first.click()
    page.get_by_role("link", name=postmortem.title).click()
    expect(page.get_by_test_id("state")).to_have_text("Draft")
    expect(page.locator("#pm-error-budget")).to_contain_text("of the error budget of Checkout")
    screenshot("draft")

    # The blameless check warns about a culprit, and is satisfied once the text is fixed.
    page.get_by_label("Summary").fill("A careless deploy by ravi broke the card form.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".pm-warnings")).to_contain_text("careless")
    screenshot("blame-warning")
    page.get_by_label("Summary").fill(
        "A deploy shipped a card form that the payment provider rejected; no check caught it."
    )
    page.get_by_label("What went well").fill("The rollback took four minutes.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".pm-aside")).to_contain_text("No blame words")

    page.get_by_label("Kind").select_option("technical")
    page.get_by_label("Description").fill("No contract test against the provider's sandbox.")
    page.get_by_label("This is a root cause").check()
    page.get_by_role("button", name="Add factor").click()
    expect(page.locator(".pm-factors")).to_contain_text("(root cause)")
    # By name: the action form's fields share their ids with the postmortem form's.
    page.locator(".pm-action-form [name=title]").fill("Add a provider contract test")
    page.locator(".pm-action-form [name=owner]").select_option(label=responder.username)
    page.get_by_role("button", name="Add action item").click()
    expect(page.locator("main")).to_contain_text("Add a provider contract test")

    page.get_by_label("rhea").check()
    page.get_by_role("button", name="Send for review").click()
    expect(page.get_by_test_id("state")).to_have_text("In review")
    screenshot("in-review")

    # The reviewer publishes it in their own session: it becomes a read-only document.
    other = browser.new_context().new_page()
    log_in(other, reviewer)
    other.goto(f"{live_server.url}/postmortems/{postmortem.pk}/")
    other.get_by_role("button", name="Publish").click()
    expect(other.get_by_test_id("state")).to_have_text("Published")
    expect(other.locator(".pm-document")).to_contain_text("The rollback took four minutes.")
    expect(other.locator("#pm-error-budget")).to_contain_text("Burn chart")
    expect(other.get_by_role("button", name="Save draft")).to_have_count(0)
    screenshot("published", other)

    # The numbers: the dashboard and the service's SLO page draw their charts.
    page.get_by_role("link", name="Metrics").first.click()
    expect(page.locator("#metric-rates")).to_contain_text("Postmortems published")
    expect(page.locator("#metric-rates")).to_contain_text("100% (1 of 1 major incidents)")
    page.wait_for_function("document.querySelector('canvas[data-chart]').chart !== undefined")
    screenshot("metrics")
    page.get_by_role("link", name="Checkout").first.click()
    page.wait_for_url(re.compile(r"/services/checkout/slo/$"))
    page.wait_for_function("document.querySelector('canvas[data-chart=burn]').chart")
    expect(page.locator("#slo-facts")).to_contain_text("Consumed")
    screenshot("slo")
