"""The on-call and paging REST API under /api/v1/."""

from datetime import date, timedelta

import pytest

from escalation import services
from escalation.models import EscalationPolicy, EscalationRun, Schedule
from tests.escalation.conftest import START
from tests.escalation.factories import ScheduleFactory, policy, rotation
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db

WEEKDAYS_9_TO_5 = {"days": [0, 1, 2, 3, 4], "start_time": "09:00", "end_time": "17:00"}


def schedules(n, users):
    for i in range(n):
        schedule = ScheduleFactory(name=f"Primary {i}")
        rotation(schedule, users, turn_unit="days")
        services.override_create(
            schedule=schedule, user=users[0], start=START, end=START + timedelta(hours=2), by=None
        )


def test_manager_creates_a_schedule_with_layers(api, manager, alice, bob, team):
    body = {
        "name": "Payments primary",
        "team": "payments",
        "time_zone": "Europe/Berlin",
        "layers": [
            {
                "users": ["alice", "bob"],
                "start_date": "2026-01-05",
                "handoff_time": "09:00",
                "turn_unit": "days",
                "restrictions": [WEEKDAYS_9_TO_5],
            }
        ],
    }

    response = api.as_user(manager).post("/api/v1/schedules/", body, format="json")

    assert response.status_code == 201, response.json()
    layer = response.json()["layers"][0]
    assert (layer["name"], layer["users"], layer["time_zone"], layer["turn_length"]) == (
        "Layer 1",
        ["alice", "bob"],
        "Europe/Berlin",
        1,
    )
    assert layer["restrictions"] == [
        {"days": [0, 1, 2, 3, 4], "start_time": "09:00:00", "end_time": "17:00:00"}
    ]
    schedule = Schedule.objects.get(name="Payments primary")
    assert [m.user.username for m in schedule.layers.get().members.all()] == ["alice", "bob"]


def test_schedule_layers_are_replaced_on_update(api, manager, alice, bob):
    schedule = ScheduleFactory(name="Primary")
    rotation(schedule, [alice])
    layer = {"users": ["bob"], "start_date": "2026-01-05", "handoff_time": "09:00"}

    response = api.as_user(manager).patch(
        f"/api/v1/schedules/{schedule.pk}/", {"layers": [layer]}, format="json"
    )

    assert response.status_code == 200
    assert [lay["users"] for lay in response.json()["layers"]] == [["bob"]]


def test_schedule_bad_input_names_the_field(api, manager):
    response = api.as_user(manager).post(
        "/api/v1/schedules/", {"name": "X", "time_zone": "Mars/Olympus"}, format="json"
    )
    assert response.status_code == 400
    assert "time_zone" in response.json()


def test_responders_read_schedules_but_only_managers_write(api, responder, stakeholder):
    ScheduleFactory(name="Primary")
    assert api.as_user(responder).get("/api/v1/schedules/").status_code == 200
    assert api.post("/api/v1/schedules/", {"name": "Mine"}, format="json").status_code == 403
    assert api.as_user(stakeholder).get("/api/v1/schedules/").status_code == 403


@pytest.mark.parametrize("n", [1, 3])
def test_schedule_list_query_count_is_constant(
    n, api, responder, alice, bob, django_assert_num_queries
):
    schedules(n, [alice, bob])
    api.as_user(responder)
    # session + user, schedules with teams, layers, members with users, restrictions, overrides
    with django_assert_num_queries(7):
        response = api.get("/api/v1/schedules/")
    assert len(response.json()["results"]) == n


def test_responder_adds_an_override_and_the_end_must_follow_the_start(api, responder, alice):
    schedule = ScheduleFactory(name="Primary")
    url = f"/api/v1/schedules/{schedule.pk}/overrides/"
    api.as_user(responder)

    bad = api.post(url, {"user": "alice", "start": START, "end": START}, format="json")
    good = api.post(
        url, {"user": "alice", "start": START, "end": START + timedelta(hours=1)}, format="json"
    )

    assert (bad.status_code, list(bad.json())) == (400, ["end"])
    assert good.status_code == 201
    assert (good.json()["user"], good.json()["created_by"]) == ("alice", "ravi")
    assert api.get("/api/v1/schedules/999/overrides/").status_code == 404


@pytest.mark.parametrize("n", [1, 3])
def test_oncall_names_who_is_on_call_now_per_schedule(
    n, clock, api, responder, alice, bob, django_assert_num_queries
):
    schedules(n, [bob, alice])
    api.as_user(responder)

    with django_assert_num_queries(7):
        response = api.get("/api/v1/oncall/")

    assert response.status_code == 200
    assert response.json()[0] == {
        "schedule": Schedule.objects.get(name="Primary 0").pk,
        "schedule_name": "Primary 0",
        "user": "bob",  # the override
        "source": "override",
        "since": "2026-01-07T10:00:00Z",
        "until": "2026-01-07T12:00:00Z",
        "next_user": "bob",  # then the rotation has him too
    }
    assert len(response.json()) == n


def test_oncall_at_a_time_and_bad_time(clock, api, responder, alice, bob):
    schedule = ScheduleFactory(name="Primary")
    rotation(schedule, [alice, bob], turn_unit="days", start_date=date(2026, 1, 5))
    api.as_user(responder)

    response = api.get("/api/v1/oncall/", {"at": "2026-01-08T10:00:00Z"})
    bad = api.get("/api/v1/oncall/", {"at": "tomorrow-ish"})

    assert [(row["user"], row["source"]) for row in response.json()] == [("bob", "Layer 1")]
    assert (bad.status_code, list(bad.json())) == (400, ["at"])


def test_manager_creates_a_policy_with_levels_of_targets(api, manager, team, alice):
    schedule = ScheduleFactory(name="Primary")
    body = {
        "name": "Payments",
        "team": "payments",
        "is_team_default": True,
        "repeat": 2,
        "levels": [
            {"delay_minutes": 5, "targets": [{"schedule": schedule.pk}]},
            {"delay_minutes": 10, "targets": [{"user": "alice"}, {"team": "payments"}]},
        ],
    }

    response = api.as_user(manager).post("/api/v1/escalation-policies/", body, format="json")

    assert response.status_code == 201, response.json()
    assert [
        [(t["kind"], t["user"] or t["schedule"] or t["team"]) for t in level["targets"]]
        for level in response.json()["levels"]
    ] == [[("schedule", schedule.pk)], [("user", "alice"), ("team", "payments")]]
    assert EscalationPolicy.objects.get().levels.count() == 2


def test_policy_target_must_name_exactly_one_thing(api, manager, alice, team):
    body = {"name": "P", "levels": [{"targets": [{"user": "alice", "team": "payments"}]}]}
    response = api.as_user(manager).post("/api/v1/escalation-policies/", body, format="json")
    assert response.status_code == 400
    assert "levels" in response.json()


def test_responders_cannot_write_policies(api, responder):
    response = api.as_user(responder).post(
        "/api/v1/escalation-policies/", {"name": "P"}, format="json"
    )
    assert response.status_code == 403


@pytest.mark.parametrize("n", [1, 3])
def test_policy_list_query_count_is_constant(
    n, api, responder, team, alice, django_assert_num_queries
):
    for i in range(n):
        policy(name=f"P{i}", team=team, levels=[{"targets": [alice, team]}, {"targets": [alice]}])
    api.as_user(responder)
    # session + user, policies with teams, levels, targets with users and teams
    with django_assert_num_queries(5):
        response = api.get("/api/v1/escalation-policies/")
    assert len(response.json()["results"]) == n


def test_users_manage_only_their_own_contact_methods_and_rules(api, stakeholder, alice):
    theirs = services.contact_method_create(user=alice, kind="email", address="a@example.com")
    api.as_user(stakeholder)

    created = api.post(
        "/api/v1/contact-methods/",
        {"kind": "webhook", "address": "https://hooks.example.com/x"},
        format="json",
    )
    bad = api.post(
        "/api/v1/contact-methods/", {"kind": "email", "address": "not-an-email"}, format="json"
    )
    rule = api.post(
        "/api/v1/notification-rules/",
        {"contact_method": created.json()["id"], "delay_minutes": 2},
        format="json",
    )
    foreign = api.post("/api/v1/notification-rules/", {"contact_method": theirs.pk}, format="json")

    assert created.status_code == 201
    assert (bad.status_code, list(bad.json())) == (400, ["address"])
    assert (rule.status_code, rule.json()["delay_minutes"]) == (201, 2)
    assert (foreign.status_code, list(foreign.json())) == (400, ["contact_method"])
    listed = api.get("/api/v1/contact-methods/").json()["results"]
    assert [m["address"] for m in listed] == ["https://hooks.example.com/x"]
    assert api.get(f"/api/v1/contact-methods/{theirs.pk}/").status_code == 404


@pytest.mark.parametrize("n", [1, 3])
def test_contact_method_list_query_count_is_constant(n, api, alice, django_assert_num_queries):
    for i in range(n):
        services.contact_method_create(user=alice, kind="email", address=f"a{i}@example.com")
    api.as_user(alice)
    with django_assert_num_queries(3):
        response = api.get("/api/v1/contact-methods/")
    assert len(response.json()["results"]) == n


@pytest.fixture
def paged_policy(team, alice, carol):
    return policy(
        name="Payments",
        team=team,
        is_team_default=True,
        levels=[{"targets": [alice], "delay_minutes": 5}, {"targets": [carol]}],
    )


def test_page_action_starts_paging(clock, api, responder, team, paged_policy):
    incident = IncidentFactory(team=team)

    response = api.as_user(responder).post(f"/api/v1/incidents/{incident.number}/page/")

    assert response.status_code == 201
    body = response.json()
    assert (body["incident"], body["policy"], body["state"], body["next_level"]) == (
        incident.number,
        "Payments",
        "active",
        1,
    )
    assert EscalationRun.objects.filter(incident=incident, state="active").count() == 1
    assert incident.timeline.filter(kind="paging_started").order_by("id").last().data[
        "message"
    ] == ("Paging started with policy Payments (paged by ravi).")


def test_page_action_refuses_what_cannot_be_paged(clock, api, responder, stakeholder, team):
    unpaged = IncidentFactory(team=team)  # no policy anywhere
    api.as_user(responder)

    assert api.post(f"/api/v1/incidents/{unpaged.number}/page/").status_code == 409
    assert api.post("/api/v1/incidents/INC-99999/page/").status_code == 404
    api.as_user(stakeholder)
    assert api.post(f"/api/v1/incidents/{unpaged.number}/page/").status_code == 403


def test_escalate_action_jumps_to_the_next_or_a_chosen_level(
    clock, api, responder, team, paged_policy
):
    incident = IncidentFactory(team=team)
    services.runs_fire_due()
    api.as_user(responder)
    url = f"/api/v1/incidents/{incident.number}/escalate/"

    out_of_range = api.post(url, {"level": 3}, format="json")
    chosen = api.post(url, {"level": 1}, format="json")

    assert (out_of_range.status_code, list(out_of_range.json())) == (400, ["level"])
    assert (chosen.status_code, chosen.json()["next_level"]) == (200, 1)
    assert chosen.json()["next_at"] == "2026-01-07T10:00:00Z"


def test_escalate_action_is_409_when_nothing_is_paging(clock, api, responder, team, alice):
    incident = IncidentFactory(team=team)
    response = api.as_user(responder).post(f"/api/v1/incidents/{incident.number}/escalate/")
    assert response.status_code == 409


def test_api_schema_documents_the_escalation_endpoints(api, admin_user):
    response = api.as_user(admin_user).get("/api/schema/", {"format": "json"})
    paths = response.json()["paths"]
    for path in (
        "/api/v1/schedules/",
        "/api/v1/schedules/{schedule_pk}/overrides/",
        "/api/v1/escalation-policies/",
        "/api/v1/contact-methods/",
        "/api/v1/notification-rules/",
        "/api/v1/oncall/",
        "/api/v1/incidents/{number}/page/",
        "/api/v1/incidents/{number}/escalate/",
    ):
        assert path in paths


def test_unknown_user_in_a_rotation_is_a_400(api, manager):
    layer = {"users": ["ghost"], "start_date": "2026-01-05", "handoff_time": "09:00"}
    response = api.as_user(manager).post(
        "/api/v1/schedules/", {"name": "X", "layers": [layer]}, format="json"
    )
    assert response.status_code == 400
    assert "layers" in response.json()
    assert UserFactory._meta.model.objects.filter(username="ghost").count() == 0
