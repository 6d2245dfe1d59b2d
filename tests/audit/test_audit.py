import pytest
from django.db import DatabaseError, connection, transaction
from knox.models import AuthToken

from audit.models import AuditEvent
from escalation.models import EscalationPolicy
from incidents.models import PriorityMatrixEntry
from tests.factories import PASSWORD, IncidentFactory
from tests.integrations.factories import IntegrationFactory

pytestmark = pytest.mark.django_db


def actions(*prefixes):
    events = AuditEvent.objects.order_by("id").values_list("actor_name", "action")
    return [e for e in events if e[1].startswith(prefixes or ("",))]


def test_logins_logouts_and_failures_are_logged_with_the_address(client, responder):
    client.post("/accounts/login/", {"username": "ravi", "password": "no"}, REMOTE_ADDR="10.1.1.1")
    client.post("/accounts/login/", {"username": "ravi", "password": PASSWORD})
    client.post("/accounts/logout/")

    assert actions("log") == [("ravi", "login_failed"), ("ravi", "login"), ("ravi", "logout")]
    assert AuditEvent.objects.get(action="login_failed").address == "10.1.1.1"


def test_matrix_change_through_the_api_names_who(api, manager):
    cell = PriorityMatrixEntry.objects.get(impact=3, urgency=3)

    api.as_user(manager).patch(f"/api/v1/priority-matrix/{cell.pk}/", {"priority": 4})

    event = AuditEvent.objects.get(action="priority_matrix.update")
    assert (event.actor, event.target_id) == (manager, str(cell.pk))


def test_tokens_roles_policies_and_keys_are_logged(api, admin_user, responder):
    api.post("/api/v1/auth/token/", {"username": "ravi", "password": PASSWORD}, format="json")
    AuthToken.objects.filter(user=responder).delete()
    responder.role = "manager"
    responder.save()
    EscalationPolicy.objects.create(name="Primary")
    IntegrationFactory(name="Prometheus")

    logged = [a for _, a in actions()]
    assert {"token.create", "token.revoke", "user.update", "escalation_policy.create"} <= set(
        logged
    )
    assert any(a.startswith("integration.") for a in logged)
    role = AuditEvent.objects.get(action="user.update")
    assert role.data == {"role": ["responder", "manager"]}


@pytest.mark.parametrize("table", ["audit_auditevent", "incidents_timelineevent"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET id = id", "DELETE FROM {table}"])
def test_the_database_refuses_to_rewrite_history(table, statement, responder):
    IncidentFactory()  # its timeline has a row
    AuditEvent.objects.create(action="login", actor=responder)

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement.format(table=table))


def test_managers_read_the_log_page_and_responders_may_not(client, manager, responder):
    AuditEvent.objects.create(action="token.create", actor=manager, actor_name="maria")
    client.force_login(responder)
    refused = client.get("/audit/")
    client.force_login(manager)
    page = client.get("/audit/", {"action": "token"})

    assert refused.status_code == 403
    assert page.status_code == 200
    assert "token.create" in page.content.decode()


@pytest.mark.parametrize("rows", [1, 3])
def test_log_page_queries_do_not_grow(client, manager, rows, django_assert_max_num_queries):
    for _ in range(rows):
        AuditEvent.objects.create(action="login", actor=manager)
    client.force_login(manager)
    with django_assert_max_num_queries(6):
        assert client.get("/audit/").status_code == 200


def test_admin_shows_the_log_read_only(client, admin_user):
    event = AuditEvent.objects.create(action="login", actor=admin_user)
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)

    listed = client.get("/admin/audit/auditevent/")
    change = client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"action": "x"})

    assert listed.status_code == 200
    assert change.status_code in (302, 403)
    assert AuditEvent.objects.get(pk=event.pk).action == "login"
