"""No inline script anywhere: the Content-Security-Policy refuses it, and no template needs it."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
APPS = ["incidents", "escalation", "postmortems", "statuspage", "integrations"]
TEMPLATES = sorted(
    path
    for folder in [ROOT / "templates", *(ROOT / app / "templates" for app in APPS)]
    for path in folder.rglob("*.html")
)
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "script"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style", re.I), "style element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\shx-on", re.I), "hx-on attribute"),
]


def test_templates_hold_no_inline_script_or_style():
    assert len(TEMPLATES) > 30
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in TEMPLATES
        for pattern, what in INLINE
        if pattern.search(path.read_text())
    ]
    assert not found


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.parametrize(
    "path", ["/", "/incidents/", "/accounts/profile/", "/admin/", "/status/", "/status-page/"]
)
def test_every_page_refuses_inline_script(client, admin_user, path):
    IncidentFactory(by=admin_user)
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    response = client.get(path)
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"


def test_login_page_has_the_policy_too(client):
    assert "script-src 'self'" in client.get("/accounts/login/")["Content-Security-Policy"]


def test_api_docs_load_their_script_from_a_url_not_inline(client, responder):
    client.force_login(responder)
    response = client.get("/api/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert not re.search(r"<script>\s*\S", html)
    assert "/api/docs/?script=" in html or "api/docs/?script" in html
    # Swagger UI styles itself inline; its scripts stay under the strict policy.
    policy = _policy(response)
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert client.get("/api/docs/?script=").status_code == 200


def test_admin_static_is_served_by_whitenoise(client, admin_user, settings, tmp_path):
    """The admin keeps its own stylesheet: after collectstatic (as the Dockerfile runs it),
    WhiteNoise serves it with no web server in front."""
    settings.STATIC_ROOT = str(tmp_path / "static")
    call_command("collectstatic", "--noinput", verbosity=0)
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    html = client.get("/admin/").content.decode()
    css = re.search(r'href="([^"]*admin/css/base[^"]*\.css)"', html).group(1)
    response = client.get(css)
    assert response.status_code == 200
    assert b"body" in b"".join(response.streaming_content)
