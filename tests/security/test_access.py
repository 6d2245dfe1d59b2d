"""Who may do what, checked on every operation the API schema lists, so none is missed.

The operations come from drf-spectacular's generator; a new endpoint joins these tests
by being in the schema. The exceptions are named here, each with its reason.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from knox.models import AuthToken

from incidents import services as incident_services
from postmortems import services as postmortem_services
from tests.factories import IncidentFactory, TeamFactory, UserFactory
from tests.integrations.factories import IntegrationFactory
from tests.postmortems.factories import resolved_incident

pytestmark = pytest.mark.django_db

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
METHODS = {"get", "post", "put", "patch", "delete"}
OPERATIONS = sorted(
    (path, method) for path, ops in SCHEMA["paths"].items() for method in ops if method in METHODS
)
WRITES = [op for op in OPERATIONS if op[1] != "get"]
READS = [op for op in OPERATIONS if op[1] == "get"]
# Anyone may try to log in.
PUBLIC = {("/api/v1/auth/token/", "post")}
# Writes a stakeholder may make: their own tokens, their own contact methods and
# notification rules, and confirming the resolution of an incident they reported.
STAKEHOLDER_WRITES = {
    ("/api/v1/auth/logout/", "post"),
    ("/api/v1/auth/logout-all/", "post"),
    ("/api/v1/incidents/{number}/{transition}/", "post"),
    *(
        (p, m)
        for p, m in WRITES
        if p.startswith(("/api/v1/contact-methods/", "/api/v1/notification-rules/"))
    ),
}
# Paths whose objects belong to one incident, or to its postmortem.
INCIDENT_SCOPED = re.compile(r"^/api/v1/(incidents/\{number\}|postmortems/\{(id|postmortem_pk)\})/")
SECRET = "XYZZY"


def fill(path: str, values: dict[str, str] | None = None) -> str:
    """The path with its parameters set: from `values`, else the schema's first allowed value
    (a transition's name), else a harmless placeholder."""
    values = {"number": "INC-999999", **(values or {})}
    operations = [op for method, op in SCHEMA["paths"][path].items() if method in METHODS]
    for parameter in (p for op in operations for p in op.get("parameters", [])):
        if parameter["in"] == "path" and "enum" in parameter["schema"]:
            values.setdefault(parameter["name"], parameter["schema"]["enum"][0])
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), "999999")), path)


def call(client, method: str, path: str):
    return getattr(client, method)(path, {}, format="json")


def test_schema_lists_the_api():
    assert len(OPERATIONS) > 80
    assert ("/api/v1/incidents/{number}/", "patch") in OPERATIONS


@pytest.mark.parametrize(("path", "method"), [op for op in OPERATIONS if op not in PUBLIC])
def test_anonymous_is_refused(api, path, method):
    response = call(api, method, fill(path))
    assert response.status_code == 401, response.content


@pytest.mark.parametrize(
    ("path", "method"), [op for op in WRITES if op not in STAKEHOLDER_WRITES | PUBLIC]
)
def test_stakeholder_cannot_write(api, stakeholder, path, method):
    response = call(api.as_user(stakeholder), method, fill(path))
    assert response.status_code == 403, response.content


@pytest.fixture
def secret(db):
    """A private incident of the security team, with something under every sub-path."""
    member = UserFactory(username="member")
    team = TeamFactory(slug="security", members=[member])
    incident = resolved_incident(
        priority=4, by=member, team=team, is_private=True, title=f"{SECRET} payroll"
    )
    incident_services.update_post(
        incident=incident, by=member, visibility="internal", body=f"{SECRET} note"
    )
    task = incident_services.task_add(incident=incident, by=member, title=f"{SECRET} task")
    role = incident_services.role_assign(incident=incident, kind="sme", user=member, by=member)
    postmortem = postmortem_services.postmortem_create(incident=incident, by=member)
    factor = postmortem_services.factor_add(
        postmortem=postmortem, by=member, kind="process", description=f"{SECRET} cause"
    )
    action = postmortem_services.action_item_add(
        postmortem=postmortem, by=member, title=f"{SECRET} action"
    )
    return {
        "incident": incident,
        "number": incident.number,
        "postmortem": postmortem.pk,
        "ids": {"tasks": task.pk, "roles": role.pk, "factors": factor.pk, "action": action.pk},
    }


def secret_path(path: str, secret: dict) -> str:
    child = re.search(r"/(\w+)/\{id\}/", path)
    child_id = secret["ids"].get(child.group(1)) if child else None
    values = {"number": secret["number"], "postmortem_pk": secret["postmortem"]}
    values["id"] = secret["postmortem"] if path.startswith("/api/v1/postmortems/{id}") else child_id
    return fill(path, values)


@pytest.mark.parametrize(
    ("path", "method"), [op for op in OPERATIONS if INCIDENT_SCOPED.match(op[0])]
)
def test_private_incident_is_a_404_to_outsiders(api, responder, secret, path, method):
    events = secret["incident"].timeline.count()

    response = call(api.as_user(responder), method, secret_path(path, secret))

    assert response.status_code == 404, response.content
    assert secret["incident"].timeline.count() == events


@pytest.mark.parametrize(("path", "method"), [op for op in READS if "{" not in op[0]])
def test_lists_hold_nothing_private(api, responder, secret, path, method):
    response = api.as_user(responder).get(path)

    assert response.status_code in (200, 403), response.content
    assert SECRET not in response.content.decode()
    assert f'"{secret["number"]}"' not in response.content.decode()


def page_paths(resolver=None, prefix=""):
    """Every page URL that takes no argument (the API is covered above)."""
    for entry in (resolver or get_resolver()).url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from page_paths(entry, pattern)
        elif (
            isinstance(entry, URLPattern)
            and not re.search(r"[<(\[]", pattern)
            and not pattern.startswith(("api/", "admin/", "accounts/logout"))
        ):
            yield "/" + pattern.lstrip("^").rstrip("$")


@pytest.mark.parametrize("path", sorted(set(page_paths())))
def test_pages_hold_nothing_private(client, responder, secret, path):
    client.force_login(responder)
    response = client.get(path, {"q": "payroll"})

    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code < 500
    assert SECRET.encode() not in body


def test_private_incident_search_and_counts_from_outsider(api, responder, secret):
    IncidentFactory(title="Public one")
    client = api.as_user(responder)

    searched = client.get("/api/v1/incidents/", {"q": SECRET}).json()["results"]
    everything = client.get("/api/v1/incidents/").json()["results"]

    assert searched == []
    assert [i["title"] for i in everything] == ["Public one"]


def test_member_sees_what_outsiders_do_not(api, secret):
    member = secret["incident"].team.members.get()
    client = api.as_user(member)

    assert client.get(f"/api/v1/incidents/{secret['number']}/").status_code == 200
    assert client.get(f"/api/v1/postmortems/{secret['postmortem']}/").status_code == 200


def test_integration_key_cannot_read_incidents(api):
    integration = IntegrationFactory()
    IncidentFactory()

    for scheme in ("Bearer", "Token"):
        api.credentials(HTTP_AUTHORIZATION=f"{scheme} {integration.key}")
        assert api.get("/api/v1/incidents/").status_code == 401


def test_disabled_user_is_out_at_once_by_token_and_session(api, client, responder):
    _, token = AuthToken.objects.create(responder)
    client.force_login(responder)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/incidents/").status_code == 200
    assert client.get("/").status_code == 200

    responder.is_active = False
    responder.save(update_fields=["is_active"])

    assert api.get("/api/v1/incidents/").status_code == 401
    assert client.get("/api/v1/incidents/").status_code in (401, 403)
    assert client.get("/").status_code == 302  # to the login page


def test_request_schemas_carry_no_read_only_field():
    """With COMPONENT_SPLIT_REQUEST, a field the API will not write is never offered."""
    offered = {
        (name, field)
        for name, component in SCHEMA["components"]["schemas"].items()
        if name.endswith("Request")
        for field, spec in component.get("properties", {}).items()
        if spec.get("readOnly")
    }
    assert offered == set()
