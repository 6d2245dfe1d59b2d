import pytest
from django.core.exceptions import ValidationError

from incidents import services
from incidents.models import PriorityMatrixEntry
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

SERVICENOW = [
    (1, 1, 1), (1, 2, 2), (1, 3, 3),
    (2, 1, 2), (2, 2, 3), (2, 3, 4),
    (3, 1, 3), (3, 2, 4), (3, 3, 5),
]  # fmt: skip


@pytest.mark.parametrize(("impact", "urgency", "priority"), SERVICENOW)
def test_priority_comes_from_the_default_matrix(api, responder, impact, urgency, priority):
    response = api.as_user(responder).post(
        "/api/v1/incidents/", {"title": "x", "impact": impact, "urgency": urgency}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["priority"] == priority
    assert body["priority_label"].startswith(f"P{priority} ")
    assert body["is_major"] is (priority == 1)


def test_matrix_labels_name_the_sre_severities(api, responder):
    labels = [label for _, label in services.Priority.choices]
    assert labels == [
        "P1 - Critical (SEV1)",
        "P2 - High (SEV2)",
        "P3 - Moderate (SEV3)",
        "P4 - Low",
        "P5 - Planning",
    ]


def test_edited_matrix_applies_to_new_incidents(api, manager):
    cell = PriorityMatrixEntry.objects.get(impact=2, urgency=2)
    response = api.as_user(manager).patch(
        f"/api/v1/priority-matrix/{cell.pk}/", {"priority": 2}, format="json"
    )
    assert response.status_code == 200, response.json()

    assert IncidentFactory(impact=2, urgency=2).priority == 2


def test_matrix_edit_cannot_move_a_cell(api, manager):
    cell = PriorityMatrixEntry.objects.get(impact=3, urgency=3)
    api.as_user(manager).patch(
        f"/api/v1/priority-matrix/{cell.pk}/", {"impact": 1, "priority": 4}, format="json"
    )
    cell.refresh_from_db()
    assert (cell.impact, cell.urgency, cell.priority) == (3, 3, 4)


def test_override_needs_a_reason():
    with pytest.raises(ValidationError) as error:
        IncidentFactory(impact=3, urgency=3, priority=2)
    assert "priority_override_reason" in error.value.message_dict

    incident = IncidentFactory(
        impact=3, urgency=3, priority=2, priority_override_reason="CEO's demo at noon"
    )
    assert (incident.priority, incident.priority_override_reason) == (2, "CEO's demo at noon")


def test_reclassify_recomputes_and_logs_the_change():
    incident = IncidentFactory(impact=3, urgency=3)

    incident = services.incident_reclassify(incident=incident, by=None, impact=1)

    assert (incident.impact, incident.urgency, incident.priority) == (1, 3, 3)
    event = incident.timeline.get(kind="priority_changed")
    assert event.data["changes"] == {"impact": [3, 1], "priority": [5, 3]}


def test_reclassify_to_p1_promotes_to_major():
    incident = IncidentFactory(impact=2, urgency=2)

    incident = services.incident_reclassify(incident=incident, by=None, impact=1, urgency=1)

    assert (incident.priority, incident.is_major) == (1, True)
    assert incident.timeline.filter(kind="promoted").count() == 1


def test_promote_by_hand_marks_major_once(api, responder):
    incident = IncidentFactory(impact=3, urgency=3)
    url = f"/api/v1/incidents/{incident.number}/promote/"

    first = api.as_user(responder).post(url, {"reason": "Press is asking"}, format="json")
    second = api.post(url, {}, format="json")

    assert first.status_code == 200 and first.json()["is_major"] is True
    assert second.status_code == 409
    assert "already a major incident" in second.json()["detail"]
