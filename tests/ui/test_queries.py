"""Every page runs the same number of queries for 1 item as for 3 (of every kind it lists)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

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


def fill_desk(n, me):
    """n incidents of n teams/services/categories, each with n of every child row."""
    for i in range(n):
        member = UserFactory()
        team = TeamFactory(members=[me, member])
        RunbookFactory(steps=["a", "b"])
        incident = IncidentFactory(
            title=f"Thing {i}",
            service=ServiceFactory(team=team),
            category=CategoryFactory(parent=CategoryFactory()),
            assignee=member,
            team=team,
            by=me,
        )
        for j in range(n):
            services.update_post(incident=incident, by=member, visibility="public", body=f"u{j}")
            services.task_add(incident=incident, by=member, title=f"t{j}", assignee=me)
            services.role_assign(incident=incident, kind="sme", user=UserFactory(), by=me)
            services.attachment_add(
                incident=incident,
                by=member,
                upload=SimpleUploadedFile(f"f{j}.txt", b"x", content_type="text/plain"),
            )
    return incident


PAGES = [
    ("/", 7),
    ("/home/live/", 7),
    ("/incidents/", 8),
    ("/incidents/?status=triggered&priority=3&q=thing&sort=priority", 8),
    ("/incidents/new/", 7),
    ("/incidents/{number}/", 11),
    ("/incidents/{number}/timeline/", 4),
    ("/incidents/{number}/timeline/?kind=update_posted", 4),
    ("/incidents/priority-preview/?impact=1&urgency=2", 3),
]


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize(("url", "count"), PAGES)
def test_pages_run_constant_queries(client, responder, django_assert_num_queries, url, count, n):
    incident = fill_desk(n, responder)
    url = url.format(number=incident.number)
    client.force_login(responder)
    client.get(url)  # the first request of a session also loads the session's user
    with django_assert_num_queries(count):
        response = client.get(url)
    assert response.status_code == 200
