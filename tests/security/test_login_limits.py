import logging

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def web_login(client, username, password, address="10.0.0.1"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def api_login(api, username, password, address="10.0.0.1"):
    return api.post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
    )


def test_web_login_failures_per_user_are_refused_then_logged(client, responder, settings, caplog):
    settings.LOGIN_FAILURES_PER_USER = 3
    caplog.set_level(logging.WARNING, logger="vigil.security")

    failures = [web_login(client, "ravi", "wrong", f"10.0.0.{i}") for i in range(3)]
    refused = web_login(client, "ravi", PASSWORD, "10.0.0.9")  # even the right password

    assert [r.status_code for r in failures] == [200, 200, 200]
    assert refused.status_code == 429
    assert "Too many failed logins. Try again in 15 minutes." in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert [r.getMessage() for r in caplog.records if r.name == "vigil.security"] == [
        f"login failed for 'ravi' from 10.0.0.{i}" for i in range(3)
    ]


def test_api_login_failures_per_address_answer_429_with_retry_after(api, responder, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 2
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK}  # the scoped throttle stays generous

    first = api_login(api, "someone", "x")
    second = api_login(api, "other", "x")
    refused = api_login(api, "ravi", PASSWORD)
    elsewhere = api_login(api, "ravi", PASSWORD, address="10.9.9.9")

    assert [first.status_code, second.status_code] == [400, 400]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= settings.LOGIN_FAILURE_WINDOW
    assert refused.json()["detail"].startswith("Too many failed logins. Try again in 15 minutes.")
    assert elsewhere.status_code == 200 and elsewhere.json()["token"]


def test_a_successful_login_forgives_the_names_failures(client, responder, settings):
    settings.LOGIN_FAILURES_PER_USER = 2

    web_login(client, "ravi", "wrong")
    ok = web_login(client, "ravi", PASSWORD)
    client.logout()
    web_login(client, "ravi", "wrong")
    again = web_login(client, "ravi", PASSWORD)

    assert ok.status_code == 302 and again.status_code == 302


def test_with_the_cache_unreachable_logins_still_work_and_say_so(
    client, responder, unreachable_cache, caplog
):
    caplog.set_level(logging.ERROR, logger="vigil.security")

    failed = web_login(client, "ravi", "wrong")
    ok = web_login(client, "ravi", PASSWORD)

    assert (
        failed.status_code == 200 and "Please enter a correct username" in failed.content.decode()
    )
    assert ok.status_code == 302 and "_auth_user_id" in client.session
    assert any("the cache is unreachable" in r.getMessage() for r in caplog.records)


def test_odd_usernames_make_plain_cache_keys(client, db, recwarn):
    web_login(client, "ünïcode user\n{}" * 20, "wrong")

    assert not [w for w in recwarn if "CacheKeyWarning" in str(w.category)]
