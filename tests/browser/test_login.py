import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_responder_logs_in_through_the_form(page, live_server, log_in, responder, screenshot):
    page.goto(f"{live_server.url}/accounts/login/")
    screenshot("login")

    log_in(page, responder)

    assert "/accounts/login/" not in page.url
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.get_by_role("button", name="Log out").is_visible()
