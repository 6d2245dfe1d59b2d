import pytest

from incidents import services as incident_services
from incidents.exceptions import Conflict
from incidents.models import Incident, TimelineEvent
from postmortems import services
from postmortems.models import Postmortem, PostmortemRevision
from tests.factories import IncidentFactory, UserFactory
from tests.postmortems.factories import postmortem_for, published, resolved_incident

pytestmark = pytest.mark.django_db


def test_postmortem_drafted_when_major_incident_resolves():
    incident = resolved_incident(priority=1, title="Checkout down")

    postmortem = Postmortem.objects.get(incident=incident)
    assert (postmortem.status, postmortem.title, postmortem.author) == (
        "draft",
        "Checkout down",
        None,
    )
    assert postmortem.summary == "Rolled back."
    assert [p.annotation for p in postmortem.picks.all()] == [
        "Incident opened (web)",
        "Status triggered → acknowledged",
        "Status acknowledged → resolved",
    ]
    assert incident.timeline.filter(kind="postmortem_created").count() == 1


def test_postmortem_drafted_for_p2_and_promoted_but_not_for_p3():
    p2 = resolved_incident(priority=2)
    p3 = resolved_incident(priority=3)
    by = UserFactory()
    promoted = IncidentFactory(by=by, impact=2, urgency=2)
    incident_services.incident_promote(incident=promoted, by=by)
    incident_services.role_assign(incident=promoted, kind="commander", user=by, by=by)
    incident_services.incident_transition(
        incident=promoted, action="resolve", by=by, resolution_code="fixed", notes="ok"
    )

    assert set(Postmortem.objects.values_list("incident_id", flat=True)) == {p2.pk, promoted.pk}
    assert not Postmortem.objects.filter(incident=p3).exists()


def test_postmortem_draft_shares_the_resolving_transaction(monkeypatch):
    by = UserFactory()
    incident = IncidentFactory(by=by, impact=1, urgency=1)
    incident_services.role_assign(incident=incident, kind="commander", user=by, by=by)

    def broken(**kwargs):
        raise RuntimeError("draft failed")

    monkeypatch.setattr(services, "postmortem_create", broken)
    with pytest.raises(RuntimeError):
        incident_services.incident_transition(
            incident=incident, action="resolve", by=by, resolution_code="fixed", notes="x"
        )

    incident.refresh_from_db()
    assert incident.status == "triggered"
    assert not incident.timeline.filter(kind="transitioned").exists()


def test_postmortem_reopen_and_resolve_again_keeps_one_draft():
    incident = resolved_incident(priority=1)
    by = incident.opened_by
    incident_services.incident_transition(incident=incident, action="reopen", by=by)
    incident_services.incident_transition(
        incident=incident, action="resolve", by=by, resolution_code="fixed", notes="again"
    )
    assert Postmortem.objects.filter(incident=incident).count() == 1


def test_postmortem_started_by_hand_over_api_once(api, responder):
    incident = resolved_incident(priority=4)

    first = api.as_user(responder).post(
        "/api/v1/postmortems/", {"incident": incident.number}, format="json"
    )
    second = api.post("/api/v1/postmortems/", {"incident": incident.number}, format="json")
    missing = api.post("/api/v1/postmortems/", {"incident": "INC-999999"}, format="json")

    assert first.status_code == 201
    assert first.json()["incident"] == incident.number
    assert first.json()["author"] == "ravi"
    assert second.status_code == 409
    assert missing.status_code == 400
    assert "incident" in missing.json()


def test_postmortem_state_flow_over_api(api, responder, reviewer):
    postmortem = postmortem_for(by=responder)
    url = f"/api/v1/postmortems/{postmortem.pk}/"
    api.as_user(responder)
    api.patch(url, {"summary": ""}, format="json")

    no_summary = api.post(url + "submit/", {"reviewers": ["rhea"]}, format="json")
    api.patch(url, {"summary": "A bad config push.", "lessons": "Canary it."}, format="json")
    no_reviewers = api.post(url + "submit/", {}, format="json")
    early_publish = api.post(url + "publish/", {}, format="json")
    submitted = api.post(url + "submit/", {"reviewers": ["rhea"]}, format="json")
    self_publish = api.post(url + "publish/", {}, format="json")
    published_ = api.as_user(reviewer).post(url + "publish/", {}, format="json")

    assert no_summary.status_code == 400 and "summary" in no_summary.json()
    assert no_reviewers.status_code == 400 and "reviewers" in no_reviewers.json()
    assert early_publish.status_code == 409
    assert submitted.json()["status"] == "in_review"
    assert submitted.json()["reviewers"] == ["rhea"]
    assert self_publish.status_code == 409
    assert published_.status_code == 200
    body = published_.json()
    assert (body["status"], body["revision"], body["allowed_actions"]) == ("published", 1, [])
    assert [(t["from_status"], t["to_status"], t["by"]) for t in body["transitions"]] == [
        ("draft", "in_review", "ravi"),
        ("in_review", "published", "rhea"),
    ]


def test_postmortem_published_is_read_only_and_edits_become_revisions(api, responder, reviewer):
    postmortem = published(reviewer=reviewer, lessons="Canary config.")
    url = f"/api/v1/postmortems/{postmortem.pk}/"
    api.as_user(responder)

    patch = api.patch(url, {"lessons": "Changed quietly"}, format="json")
    factor = api.post(url + "factors/", {"kind": "technical", "description": "x"}, format="json")
    no_note = api.post(url + "revisions/", {"lessons": "More"}, format="json")
    revised = api.post(
        url + "revisions/", {"lessons": "Canary every config.", "note": "Clarified"}, format="json"
    )
    history = api.get(url + "revisions/").json()

    assert patch.status_code == 409
    assert factor.status_code == 409
    assert no_note.status_code == 400 and "note" in no_note.json()
    assert revised.status_code == 201
    assert [(r["number"], r["changed_fields"], r["content"]["lessons"]) for r in history] == [
        (2, ["lessons"], "Canary every config."),
        (1, [], "Canary config."),
    ]
    postmortem.refresh_from_db()
    assert (postmortem.revision, postmortem.lessons) == (2, "Canary every config.")
    assert PostmortemRevision.objects.filter(postmortem=postmortem).count() == 2


def test_postmortem_timeline_pick_annotates_without_touching_the_event(api, responder):
    postmortem = postmortem_for(by=responder)
    pick = postmortem.picks.first()
    before = TimelineEvent.objects.values().get(pk=pick.event_id)
    other_event = IncidentFactory(by=responder).timeline.get()
    url = f"/api/v1/postmortems/{postmortem.pk}/timeline/"
    api.as_user(responder)

    annotated = api.patch(f"{url}{pick.pk}/", {"annotation": "Pager fired"}, format="json")
    foreign = api.post(url, {"event": other_event.pk}, format="json")

    assert annotated.json()["annotation"] == "Pager fired"
    assert foreign.status_code == 400 and "event" in foreign.json()
    assert TimelineEvent.objects.values().get(pk=pick.event_id) == before


def test_postmortem_factors_with_kinds(api, responder):
    postmortem = postmortem_for(by=responder)
    url = f"/api/v1/postmortems/{postmortem.pk}/factors/"
    api.as_user(responder)

    api.post(url, {"kind": "technical", "description": "No retry budget", "is_root_cause": True})
    api.post(url, {"kind": "external", "description": "Provider outage"})
    bad = api.post(url, {"kind": "luck", "description": "?"})

    assert [(f["kind"], f["is_root_cause"]) for f in api.get(url).json()] == [
        ("technical", True),
        ("external", False),
    ]
    assert bad.status_code == 400 and "kind" in bad.json()


def test_postmortem_markdown_export(api, responder):
    incident = resolved_incident(priority=1, title="Checkout down")
    postmortem = Postmortem.objects.get(incident=incident)
    services.postmortem_update(postmortem=postmortem, by=responder, went_well="Fast rollback")
    services.factor_add(
        postmortem=postmortem, by=responder, kind="process", description="No canary"
    )
    services.action_item_add(
        postmortem=postmortem, by=responder, title="Add canary", owner=responder
    )

    response = api.as_user(responder).get(f"/api/v1/postmortems/{postmortem.pk}/export/")
    text = response.content.decode()

    assert response["Content-Type"].startswith("text/markdown")
    assert f'filename="postmortem-{incident.number}.md"' in response["Content-Disposition"]
    assert text.startswith("# Postmortem: Checkout down\n")
    assert "## What went well\n\nFast rollback\n" in text
    assert "- **Process**: No canary" in text
    assert "| Add canary | ravi | — | Medium | Open | — |" in text
    assert "| Status acknowledged → resolved |" in text


def test_postmortem_blameless_check_warns_with_guidance(api, responder):
    incident = resolved_incident(priority=4, by=UserFactory(username="lee", first_name="Lee"))
    postmortem = postmortem_for(
        incident,
        by=responder,
        summary="The outage happened because Lee forgot to renew the certificate.",
        went_badly="Careless review.",
    )
    clean = postmortem_for(by=responder, summary="The certificate expired; renewal was manual.")

    body = api.as_user(responder).get(f"/api/v1/postmortems/{postmortem.pk}/").json()
    clean_body = api.get(f"/api/v1/postmortems/{clean.pk}/").json()

    phrases = {(w["field"], w["phrase"]) for w in body["blameless"]["warnings"]}
    assert phrases == {
        ("summary", "forgot to"),
        ("summary", "because Lee"),
        ("summary", "Lee forgot"),
        ("went_badly", "Careless"),
    }
    assert "systems and conditions, not culprits" in body["blameless"]["guidance"]
    assert clean_body["blameless"] == {"warnings": [], "guidance": ""}


def test_postmortem_pages_show_sections_and_print_view(client, responder, reviewer):
    postmortem = postmortem_for(by=responder, summary="Because Rhea pushed on Friday.")
    postmortem.reviewers.add(reviewer)
    client.force_login(responder)

    page = client.get(f"/postmortems/{postmortem.pk}/").content.decode()
    printed = client.get(f"/postmortems/{postmortem.pk}/print/").content.decode()

    assert "Blameless check" in page
    assert "names a person as the cause" in page
    assert "Where we got lucky" in page
    assert "<h2>Where we got lucky</h2>" in printed
    assert "topbar" not in printed


def test_postmortem_page_edits_and_walks_the_flow(client, responder, reviewer):
    postmortem = postmortem_for(by=responder)
    client.force_login(responder)
    url = f"/postmortems/{postmortem.pk}/"
    form = client.get(url).context["form"].initial

    data = {k: v for k, v in form.items() if v is not None and k != "customer_facing"}
    client.post(url, {**data, "summary": "Disk filled up", "customer_facing": "on"})
    client.post(url + "submit/", {"reviewers": [reviewer.pk]})
    client.force_login(reviewer)
    client.post(url + "publish/")
    refused = client.post(url, {**data, "summary": "sneaky"}, follow=True)

    postmortem.refresh_from_db()
    assert (postmortem.status, postmortem.summary, postmortem.customer_facing) == (
        "published",
        "Disk filled up",
        True,
    )
    assert "read-only" in refused.content.decode()


def test_postmortem_start_page_for_any_incident(client, responder):
    incident = IncidentFactory(by=responder, impact=3, urgency=3)
    client.force_login(responder)

    response = client.post(f"/incidents/{incident.number}/postmortem/start/")

    postmortem = Postmortem.objects.get(incident=incident)
    assert response.url == f"/postmortems/{postmortem.pk}/"
    assert postmortem.author == responder


def test_postmortem_hidden_with_private_incident(api, stakeholder, responder):
    from tests.factories import TeamFactory

    team = TeamFactory(members=[responder])
    incident = IncidentFactory(by=responder, team=team, is_private=True)
    postmortem = postmortem_for(incident, by=responder)

    response = api.as_user(stakeholder).get(f"/api/v1/postmortems/{postmortem.pk}/")

    assert response.status_code == 404
    assert api.get("/api/v1/postmortems/").json()["results"] == []


def test_postmortem_create_refuses_second(responder):
    postmortem = postmortem_for(by=responder)
    with pytest.raises(Conflict):
        services.postmortem_create(incident=postmortem.incident, by=responder)
    assert Incident.objects.count() == 1
