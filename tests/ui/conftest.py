import pytest

from tests.factories import IncidentFactory, ServiceFactory, TeamFactory, UserFactory


@pytest.fixture
def team(responder):
    return TeamFactory(name="Platform", slug="platform", members=[responder])


@pytest.fixture
def service(team):
    return ServiceFactory(name="Checkout", slug="checkout", team=team)


@pytest.fixture
def incident(responder, service):
    return IncidentFactory(title="Checkout is down", service=service, by=responder)


@pytest.fixture
def signed_in(client, responder):
    client.force_login(responder)
    return client


@pytest.fixture
def other_user(db):
    return UserFactory(username="sam", first_name="Sam", last_name="Oncall")
