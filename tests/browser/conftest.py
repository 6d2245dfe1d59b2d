"""Browser tests: real Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Playwright's sync API keeps an event loop running in the test thread for the rest of the
session; Django refuses ORM calls beside a running loop unless told that the loop serves
no requests, which is true in tests. Subprocesses that run `check --deploy` drop it.
"""

import os
import re
from pathlib import Path

import pytest

from tests.factories import PASSWORD

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.access(CHROMIUM, os.X_OK):
        raise pytest.UsageError(f"Browser tests need {CHROMIUM}: apt-get install chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def screenshot(page, request):
    """`screenshot("name")` saves the page as test-artifacts/screenshots/<test>-<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^\w-]+", "_", request.node.name)

    def take(name: str, target=None) -> Path:
        path = ARTIFACTS / f"{test}-{name}.png"
        (target or page).screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def log_in(live_server):
    """`log_in(page, user)` logs a browser page in through the real login form."""

    def go(page, user, password: str = PASSWORD):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r"^(?!.*/accounts/login/).*$"))
        return page

    return go
