"""The Django admin in real Chromium: styled (its own static files, through WhiteNoise)
and working under the Content-Security-Policy, with no blocked script or style."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_is_styled_and_nothing_is_blocked(page, live_server, log_in, admin_user, screenshot):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    log_in(page, admin_user)

    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_have_text("Vigil administration")
    # The admin's stylesheet applied: its header has a coloured background, not the default.
    header = page.evaluate("getComputedStyle(document.querySelector('#header')).backgroundColor")
    assert header not in ("rgba(0, 0, 0, 0)", "transparent")
    screenshot("admin-index")

    page.goto(f"{live_server.url}/admin/statuspage/maintenance/add/")
    expect(page.locator("#maintenance_form")).to_be_visible()
    page.get_by_role("link", name="Today").first.click()  # the date widget's script runs
    assert page.locator("#id_scheduled_for_0").input_value()
    screenshot("admin-maintenance-form")
    assert blocked == []
