import pytest

from tests.factories import UserFactory


@pytest.fixture
def reviewer(db):
    return UserFactory(role="responder", username="rhea", first_name="Rhea")
