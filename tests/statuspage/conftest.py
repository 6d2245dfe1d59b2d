import pytest

from incidents import services as incident_services
from tests.factories import IncidentFactory, TeamFactory
from tests.statuspage.factories import ComponentFactory

SECRET = "SECRET-internal-db-password-rotated"  # must never reach a public output


@pytest.fixture
def api_component(db):
    return ComponentFactory(name="API")


@pytest.fixture
def web_component(db):
    return ComponentFactory(name="Website")


@pytest.fixture
def incident(responder):
    return IncidentFactory(
        title=f"Internal: {SECRET}", description=f"db creds {SECRET}", by=responder
    )


@pytest.fixture
def publish(api, responder):
    """`publish(incident, components=[...], impact=...)` through the real API."""

    def go(incident, components=(), impact="major", title="Elevated API errors", **extra):
        client = api.as_user(responder)
        response = client.post(
            f"/api/v1/incidents/{incident.number}/publish/",
            {
                "title": title,
                "impact": impact,
                "components": list(components),
                "body": "We are looking into errors.",
                **extra,
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        return response.json()

    return go


@pytest.fixture
def private_incident(responder):
    team = TeamFactory(members=[responder])
    return IncidentFactory(title=f"Private {SECRET}", by=responder, team=team, is_private=True)


def internal_notes(incident, by):
    """Internal and stakeholder text on an incident, which no public output may show."""
    incident_services.update_post(
        incident=incident, by=by, visibility="internal", body=f"work note {SECRET}"
    )
    incident_services.update_post(
        incident=incident, by=by, visibility="stakeholders", body=f"exec brief {SECRET}"
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What a local SMTP server (aiosmtpd, a real socket) received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        import email

        message = email.message_from_bytes(envelope.content)
        self.messages.append(message)
        return "250 OK"

    def bodies(self) -> list[str]:
        return [m.get_payload(decode=True).decode() for m in self.messages]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on localhost; Django's SMTP backend points at it."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    inbox.port = port
    yield inbox
    controller.stop()
