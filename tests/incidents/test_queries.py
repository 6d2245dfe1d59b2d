"""Every list endpoint runs the same number of queries for 1 item as for 3."""

import pytest

from incidents import services
from tests.factories import (
    CategoryFactory,
    IncidentFactory,
    RunbookFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def fill_incident(incident, n):
    for i in range(n):
        user = UserFactory()
        services.update_post(incident=incident, by=user, visibility="internal", body=f"note {i}")
        services.task_add(incident=incident, by=user, title=f"task {i}", assignee=user)
        services.role_assign(incident=incident, kind="sme", user=user, by=user)


def fill_incidents(n):
    team = TeamFactory()
    for _ in range(n):
        member = UserFactory()
        team.members.add(member)
        IncidentFactory(
            service=ServiceFactory(team=team),
            category=CategoryFactory(parent=CategoryFactory()),
            assignee=member,
            team=team,
        )


def fill_reference(n):
    for _ in range(n):
        TeamFactory(manager=UserFactory(), members=[UserFactory(), UserFactory()])
        ServiceFactory(team=TeamFactory())
        CategoryFactory(parent=CategoryFactory())
        book = RunbookFactory(steps=["a", "b"])
        book.services.add(ServiceFactory())
        book.categories.add(CategoryFactory())


def queries_for(api, django_assert_num_queries, url, count):
    api.get(url)  # warm up: session and user caches are part of the first request only
    with django_assert_num_queries(count) as captured:
        response = api.get(url)
    assert response.status_code == 200
    return captured


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize(
    ("url", "fill", "count"),
    [
        ("/api/v1/incidents/", fill_incidents, 3),
        ("/api/v1/teams/", fill_reference, 4),
        ("/api/v1/services/", fill_reference, 3),
        ("/api/v1/categories/", fill_reference, 3),
        ("/api/v1/runbooks/", fill_reference, 6),
        ("/api/v1/users/", fill_reference, 3),
        ("/api/v1/priority-matrix/", fill_reference, 3),
    ],
)
def test_top_level_lists_run_constant_queries(
    api, admin_user, django_assert_num_queries, url, fill, count, n
):
    fill(n)
    api.as_user(admin_user)
    queries_for(api, django_assert_num_queries, url, count)


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize(
    ("path", "count"),
    [("timeline/", 4), ("updates/", 4), ("tasks/", 4), ("roles/", 4), ("attachments/", 4)],
)
def test_incident_lists_run_constant_queries(
    api, responder, django_assert_num_queries, path, count, n
):
    incident = IncidentFactory()
    fill_incident(incident, n)
    api.as_user(responder)
    queries_for(
        api, django_assert_num_queries, f"/api/v1/incidents/{incident.number}/{path}", count
    )


@pytest.mark.parametrize("n", [1, 3])
def test_incident_detail_runs_constant_queries(api, responder, django_assert_num_queries, n):
    incident = IncidentFactory()
    fill_incident(incident, n)
    api.as_user(responder)
    queries_for(api, django_assert_num_queries, f"/api/v1/incidents/{incident.number}/", 3)
