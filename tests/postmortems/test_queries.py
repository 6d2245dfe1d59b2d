"""Every list endpoint and page of the app runs as many queries for 3 items as for 1."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from postmortems import services
from tests.factories import UserFactory
from tests.postmortems.factories import postmortem_for

pytestmark = pytest.mark.django_db

URLS = [
    ("/api/v1/postmortems/", 8, b"Something broke", 3),
    ("/api/v1/action-items/", 8, b"fix ", 3),
    ("/api/v1/action-items/?overdue=false&mine=false", 8, b"fix ", 3),
    ("/postmortems/", 8, b"Something broke", 3),
    ("/action-items/?view=all", 8, b"fix ", 3),
]


def fill(n, owner):
    for i in range(n):
        postmortem = postmortem_for(by=UserFactory())
        services.factor_add(postmortem=postmortem, by=owner, kind="technical", description="x")
        services.action_item_add(
            postmortem=postmortem, by=owner, title=f"fix {i}", owner=UserFactory()
        )


def count(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response


@pytest.mark.parametrize(("url", "limit", "marker", "shown"), URLS)
def test_postmortem_lists_query_count_flat(
    client, admin_user, django_assert_max_num_queries, url, limit, marker, shown
):
    client.force_login(admin_user)
    fill(1, admin_user)
    one, _ = count(client, url)
    fill(2, admin_user)
    with django_assert_max_num_queries(limit):
        three, response = count(client, url)
    assert one == three
    assert response.content.count(marker) >= shown


def test_postmortem_detail_page_query_count_flat(client, admin_user, django_assert_max_num_queries):
    client.force_login(admin_user)
    postmortem = postmortem_for(by=admin_user)
    services.action_item_add(postmortem=postmortem, by=admin_user, title="a", owner=admin_user)
    one, _ = count(client, f"/postmortems/{postmortem.pk}/")
    for i in range(2):
        services.action_item_add(
            postmortem=postmortem, by=admin_user, title=f"b{i}", owner=UserFactory()
        )
        services.factor_add(postmortem=postmortem, by=admin_user, kind="process", description="y")
    with django_assert_max_num_queries(30):
        three, _ = count(client, f"/postmortems/{postmortem.pk}/")
    assert one + 2 >= three  # a factor list appears once, it is not per item
