import json

import pytest
from django.core.exceptions import ValidationError

from incidents.models import Incident, Service
from integrations import automation
from integrations.models import AutomationCall
from tests.factories import (
    CategoryFactory,
    IncidentFactory,
    RunbookFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)
from tests.integrations.receiver import LocalReceiver


def rule(actions, **kw):
    kw.setdefault("event_types", ["incident.triggered"])
    return automation.automation_rule_create(name=kw.pop("name", "Major"), actions=actions, **kw)


def runs(incident):
    return list(incident.timeline.filter(kind="automation_run").order_by("id"))


def test_rule_for_p2_and_above_sets_team_role_runbook_and_task(db):
    team = TeamFactory(slug="dba", name="DBA")
    lee = UserFactory(username="lee")
    RunbookFactory(name="DB outage", steps=["Check replication", "Fail over"])
    rule(
        [
            {"type": "set_team", "team": "dba"},
            {"type": "assign_role", "role": "commander", "user": "lee"},
            {"type": "apply_runbook", "runbook": "DB outage"},
            {"type": "add_task", "title": "Tell support about $number ($priority)"},
        ],
        max_priority=2,
    )

    incident = IncidentFactory(title="DB down", impact=1, urgency=2)  # P2
    IncidentFactory(title="minor", impact=3, urgency=3)  # P5: no match

    incident.refresh_from_db()
    assert incident.team == team
    assert incident.roles.get().user == lee
    assert list(incident.tasks.values_list("title", flat=True)) == [
        "Check replication",
        "Fail over",
        f"Tell support about {incident.number} (P2)",
    ]
    (run,) = runs(incident)
    assert run.actor_name == "Automation: Major"
    assert [a["result"] for a in run.data["actions"]] == [
        "team DBA",
        "commander lee",
        "runbook DB outage (2 tasks)",
        f"task Tell support about {incident.number} (P2)",
    ]
    assert Incident.objects.get(title="minor").timeline.filter(kind="automation_run").count() == 0


@pytest.mark.parametrize(
    ("conditions", "matches"),
    [
        ({"service_name": "Checkout"}, True),
        ({"service_name": "Search"}, False),
        ({"source": "Prometheus"}, True),
        ({"source": "web"}, False),
        ({"category": True}, True),
    ],
)
def test_rule_conditions(db, conditions, matches):
    checkout = ServiceFactory(name="Checkout")
    ServiceFactory(name="Search")
    category = CategoryFactory()
    kw = {}
    if "service_name" in conditions:
        kw["service"] = Service.objects.get(name=conditions["service_name"])
    if "source" in conditions:
        kw["source"] = conditions["source"]
    if "category" in conditions:
        kw["category"] = category
    rule([{"type": "add_task", "title": "look"}], **kw)

    incident = IncidentFactory(service=checkout, category=category, source="Prometheus")

    assert bool(runs(incident)) is matches


def test_failed_action_is_on_the_timeline_and_the_others_still_run(db):
    rule([{"type": "set_team", "team": "nope"}, {"type": "add_task", "title": "still here"}])

    incident = IncidentFactory()

    (run,) = runs(incident)
    assert run.data["actions"][0]["result"] == "failed: no such team"
    assert run.data["actions"][1]["result"] == "task still here"


def test_templated_webhook_stores_the_answer_on_the_incident(db):
    answer = {"key": "OPS-42", "self": "https://jira.example/browse/OPS-42"}
    with LocalReceiver(status=201, answer=answer) as receiver:
        rule(
            [
                {
                    "type": "webhook",
                    "url": receiver.url,
                    "body": '{"fields": {"summary": "$number $title", "priority": "$priority"}}',
                    "store": "war_room_url",
                    "pick": "self",
                }
            ]
        )
        incident = IncidentFactory(title='Quote " and \\ in title')
        call = AutomationCall.objects.get()

        assert automation.automation_call_send(call_id=call.pk) == "succeeded"

    sent = receiver.requests[0].json()
    assert sent == {
        "fields": {"summary": f'{incident.number} Quote " and \\ in title', "priority": "P3"}
    }
    incident.refresh_from_db()
    assert incident.war_room_url == "https://jira.example/browse/OPS-42"
    result = incident.timeline.get(kind="automation_result")
    assert (result.data["status"], result.data["response_code"], result.data["stored"]) == (
        "succeeded",
        201,
        "https://jira.example/browse/OPS-42",
    )


def test_webhook_answer_as_an_internal_note(db):
    with LocalReceiver(answer={"issue": {"key": "OPS-7"}}) as receiver:
        rule([{"type": "webhook", "url": receiver.url, "body": "{}", "store": "note",
               "pick": "issue.key"}])  # fmt: skip
        incident = IncidentFactory()
        automation.automation_call_send(call_id=AutomationCall.objects.get().pk)

    assert incident.updates.get().body == "Major: OPS-7"


def test_chat_action_posts_a_slack_message(db):
    with LocalReceiver() as receiver:
        rule([{"type": "chat", "url": receiver.url, "text": ":rotating_light: $number $title"}])
        incident = IncidentFactory(title="API down")
        automation.automation_call_send(call_id=AutomationCall.objects.get().pk)

    assert receiver.requests[0].json() == {"text": f":rotating_light: {incident.number} API down"}


def test_templates_cannot_reach_attributes_or_code(db):
    incident = IncidentFactory(title="t")

    text = automation.render("${title.__class__} {{ secret }} $__import__ $title", incident)

    assert text == "${title.__class__} {{ secret }} $__import__ t"


def test_rule_validation_names_the_problem(db):
    with pytest.raises(ValidationError) as error:
        rule([{"type": "webhook", "url": "file:///etc/passwd", "body": "x", "eval": "1"}])

    assert error.value.message_dict["actions"] == [
        "actions[0]: unknown fields eval.",
        "actions[0].url must be an http(s) URL.",
    ]


def test_actions_do_not_trigger_rules_again(db):
    TeamFactory(slug="ops")
    rule([{"type": "set_team", "team": "ops"}], event_types=["incident.triggered"])
    rule([{"type": "add_task", "title": "loop?"}], name="on update",
         event_types=["incident.updated", "incident.triggered"])  # fmt: skip

    incident = IncidentFactory()

    assert len(runs(incident)) == 2
    assert incident.tasks.count() == 1


def test_failed_call_retries_then_records_the_failure(db):
    with LocalReceiver(status=500) as receiver:
        rule([{"type": "webhook", "url": receiver.url, "body": json.dumps({"a": 1})}])
        incident = IncidentFactory()
        call = AutomationCall.objects.get()
        for _ in range(automation.MAX_CALL_ATTEMPTS):
            AutomationCall.objects.filter(pk=call.pk).update(next_attempt_at=call.created_at)
            automation.automation_call_send(call_id=call.pk)

    call.refresh_from_db()
    assert (call.status, call.attempts, call.response_code) == ("failed", 4, 500)
    assert incident.timeline.get(kind="automation_result").data["status"] == "failed"
