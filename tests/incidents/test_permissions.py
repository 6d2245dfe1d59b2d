import pytest
from knox.models import AuthToken

from incidents.models import Incident, Team
from tests.factories import PASSWORD, IncidentFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_gets_401(api):
    response = api.get("/api/v1/incidents/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_stakeholder_reads_but_cannot_work_incidents(api, stakeholder):
    incident = IncidentFactory()
    client = api.as_user(stakeholder)

    assert client.get(f"/api/v1/incidents/{incident.number}/").status_code == 200
    assert client.post("/api/v1/incidents/", {"title": "x"}, format="json").status_code == 403
    assert client.post(f"/api/v1/incidents/{incident.number}/acknowledge/").status_code == 403
    assert (
        client.post(
            f"/api/v1/incidents/{incident.number}/updates/",
            {"visibility": "internal", "body": "x"},
            format="json",
        ).status_code
        == 403
    )
    assert Incident.objects.get(pk=incident.pk).status == "triggered"


def test_stakeholder_reporter_confirms_close(api, stakeholder):
    incident = IncidentFactory(by=stakeholder)
    Incident.objects.filter(pk=incident.pk).update(status="resolved")

    response = api.as_user(stakeholder).post(f"/api/v1/incidents/{incident.number}/close/")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "closed"


def test_only_managers_edit_reference_data(api, responder, manager):
    payload = {"name": "Database", "slug": "database"}

    refused = api.as_user(responder).post("/api/v1/teams/", payload, format="json")
    created = api.as_user(manager).post("/api/v1/teams/", payload, format="json")

    assert refused.status_code == 403
    assert created.status_code == 201
    assert list(Team.objects.values_list("slug", flat=True)) == ["database"]


def test_private_incident_is_hidden_everywhere_from_outsiders(api, responder):
    member = UserFactory(username="member")
    team = TeamFactory(slug="security", members=[member])
    secret = IncidentFactory(title="Payroll leak", team=team, is_private=True, by=member)
    IncidentFactory(title="Public one")
    client = api.as_user(responder)

    listed = [i["title"] for i in client.get("/api/v1/incidents/").json()["results"]]
    searched = client.get("/api/v1/incidents/?q=payroll").json()["results"]
    by_number = client.get(f"/api/v1/incidents/?q={secret.number}").json()["results"]

    assert listed == ["Public one"]
    assert searched == [] and by_number == []
    assert client.get(f"/api/v1/incidents/{secret.number}/").status_code == 404
    assert client.get(f"/api/v1/incidents/{secret.number}/timeline/").status_code == 404
    assert client.post(f"/api/v1/incidents/{secret.number}/acknowledge/").status_code == 404


def test_private_incident_is_visible_to_team_role_holders_and_admins(api, admin_user):
    member, sme, outsider = UserFactory(), UserFactory(), UserFactory()
    team = TeamFactory(members=[member])
    secret = IncidentFactory(title="HR case", team=team, is_private=True)
    from incidents import services

    services.role_assign(incident=secret, kind="sme", user=sme, by=None)

    def sees(user):
        return api.as_user(user).get(f"/api/v1/incidents/{secret.number}/").status_code == 200

    assert [sees(member), sees(sme), sees(admin_user), sees(outsider)] == [True, True, True, False]


def test_private_incident_needs_a_team(api, responder):
    response = api.as_user(responder).post(
        "/api/v1/incidents/", {"title": "x", "is_private": True}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"is_private": ["A private incident needs a team."]}


def test_token_login_use_and_logout(api, responder):
    login = api.post(
        "/api/v1/auth/token/", {"username": "ravi", "password": PASSWORD}, format="json"
    )
    token = login.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    listed = api.get("/api/v1/incidents/")
    api.post("/api/v1/auth/logout/")
    after = api.get("/api/v1/incidents/")

    assert login.status_code == 200 and login.json()["expiry"]
    assert listed.status_code == 200
    assert after.status_code == 401


def test_tokens_are_stored_hashed(api, responder):
    token = api.post(
        "/api/v1/auth/token/", {"username": "ravi", "password": PASSWORD}, format="json"
    ).json()["token"]
    stored = AuthToken.objects.get(user=responder)
    assert token not in (stored.digest, stored.token_key)
    assert len(stored.digest) == 128  # sha512 hex


def test_bad_password_is_a_400_without_a_token(api, responder):
    response = api.post(
        "/api/v1/auth/token/", {"username": "ravi", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}


def test_disabled_users_token_stops_working_at_once(api, responder):
    _, token = AuthToken.objects.create(responder)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/incidents/").status_code == 200

    responder.is_active = False
    responder.save()

    assert api.get("/api/v1/incidents/").status_code == 401


def test_expired_token_is_refused(api, responder):
    from datetime import timedelta

    _, token = AuthToken.objects.create(responder, expiry=timedelta(seconds=-1))
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/incidents/").status_code == 401


def test_login_is_throttled(api, responder, settings):
    attempts = [
        api.post("/api/v1/auth/token/", {"username": "ravi", "password": "x"}, format="json")
        for _ in range(11)
    ]
    assert [r.status_code for r in attempts[:10]] == [400] * 10
    assert attempts[10].status_code == 429
    assert int(attempts[10]["Retry-After"]) > 0
