import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_logs_in_and_out(client, responder):
    page = client.get("/accounts/login/")
    login = client.post("/accounts/login/", {"username": "ravi", "password": PASSWORD})
    logout = client.post("/accounts/logout/")

    assert page.status_code == 200 and b'name="password"' in page.content
    assert (login.status_code, login["Location"]) == (302, "/")
    assert (logout.status_code, logout["Location"]) == (302, "/accounts/login/")


def test_login_with_a_wrong_password_says_so(client, responder):
    response = client.post("/accounts/login/", {"username": "ravi", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_static_assets_are_vendored(client):
    from django.contrib.staticfiles import finders

    assert finders.find("vendor/htmx/htmx.min.js")
    assert finders.find("css/vigil.css")
