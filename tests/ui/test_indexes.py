"""The incident list's filters, sort and text search can each read an index (migration
0004): PostgreSQL is told to avoid scanning the table, and the plan must name the index.
(On a small test table it would rightly scan; on 100,000 incidents it picks these.)"""

import pytest
from django.db import connection
from django.test import RequestFactory

from incidents.filters import IncidentFilter
from incidents.models import Incident
from incidents.views import SORTS
from tests.factories import IncidentFactory, ServiceFactory, TeamFactory

pytestmark = pytest.mark.django_db


def plan(user, data: dict, sort: str = "-id") -> str:
    request = RequestFactory().get("/incidents/", data)
    request.user = user
    qs = IncidentFilter(data, queryset=Incident.objects.visible_to(user), request=request).qs
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if "q" in data:  # else the primary key, read backwards, is also "not a seq scan"
            cursor.execute("SET LOCAL enable_indexscan = off")
        else:  # a filter's page comes in order from its index, whatever the statistics
            cursor.execute("SET LOCAL enable_sort = off")
        return qs.order_by(*SORTS[sort][1])[:50].explain()


@pytest.mark.parametrize(
    ("data", "index"),
    [
        ({"q": "timeout"}, "incident_title_trgm"),
        ({"q": "timeout"}, "incident_description_trgm"),
        ({"q": "timeout"}, "incident_error_codes_trgm"),
        ({"service": "checkout"}, "incident_service_recent"),
        ({"team": "platform"}, "incident_team_recent"),
        ({"assignee": "ravi"}, "incident_assignee_recent"),
        ({"major": "true"}, "incident_major_recent"),
        ({"status": "triggered"}, "incident_status_recent"),
    ],
)
def test_list_filters_and_search_use_their_index(admin_user, responder, data, index):
    team = TeamFactory(slug="platform", members=[responder])
    IncidentFactory(service=ServiceFactory(slug="checkout", team=team), by=responder)
    assert index in plan(admin_user, data)
