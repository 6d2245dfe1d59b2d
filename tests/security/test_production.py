"""Production settings as a deployment gets them (SECRET_KEY set, DEBUG off), in a subprocess."""

import json
import os

from tests.test_setup import base_env, manage

PROBE = """
import json
from django.conf import settings
from django.test import Client
# A page that needs no collected static files: the headers are the same on every answer.
response = Client().get("/no-such-page/", secure=True, HTTP_HOST="vigil.example.com")
print(json.dumps({
    "status": response.status_code,
    "headers": dict(response.headers),
    "settings": {name: getattr(settings, name) for name in (
        "DEBUG", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS")},
}))
"""


def test_production_answers_with_every_security_header():
    result = manage(
        "shell",
        "-c",
        PROBE,
        env=base_env(
            SECRET_KEY="k7#v9-production-grade-secret-key-that-is-long-and-random-8z2q",
            ALLOWED_HOSTS="vigil.example.com",
            DATABASE_URL=os.environ["DATABASE_URL"],
        ),
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    headers = probe["headers"]

    assert probe["status"] == 404
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert probe["settings"] == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
    }
