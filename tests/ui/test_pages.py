"""The responder's pages, through Django's test client: what a user sees and rows written."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents import services
from incidents.models import Attachment, Incident, Task, TimelineEvent, Update
from tests.factories import (
    IncidentFactory,
    RunbookFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


# --- Home --------------------------------------------------------------------------------


def test_home_shows_what_needs_me_open_work_by_priority_and_my_tasks(
    signed_in, responder, team, service
):
    mine = IncidentFactory(title="Payments down", service=service, impact=1, urgency=1)
    elsewhere = IncidentFactory(title="Someone else's fire", team=TeamFactory())
    acknowledged = IncidentFactory(title="Already on it", service=service)
    services.incident_transition(incident=acknowledged, action="acknowledge", by=responder)
    services.task_add(incident=elsewhere, by=responder, title="Call the vendor", assignee=responder)

    response = signed_in.get("/")
    page = text(response)
    needs_me = page.split('id="needs-me-title"')[1].split("</section>")[0]

    assert response.status_code == 200
    assert f"{mine.number} Payments down" in needs_me
    assert "open " in needs_me  # the time since it opened
    assert "Someone else" not in needs_me and "Already on it" not in needs_me
    assert "Call the vendor" in page.split('id="my-tasks-title"')[1]
    open_section = page.split('id="open-title"')[1]
    assert open_section.index("P1 - Critical") < open_section.index("Payments down")
    assert open_section.index("Payments down") < open_section.index("P2 - High")


def test_home_counts_open_incidents_per_priority_up_to_a_cap(signed_in, service, monkeypatch):
    """A big desk's home page stops counting at the cap instead of counting every open row."""
    monkeypatch.setattr("incidents.views.HOME_COUNT_CAP", 2)
    for i in range(3):
        IncidentFactory(title=f"Disk full {i}", service=service, impact=1, urgency=1)
    IncidentFactory(title="One P3", service=service, impact=2, urgency=2)

    page = re.sub(r"\s+", " ", text(signed_in.get("/")).split('id="open-title"')[1])

    assert "2+ open" in page and "All 2+ open P1" in page
    assert "1 open" in page


def test_home_counts_only_the_incidents_the_user_may_see(signed_in, responder, team, service):
    """A private incident of another team is neither listed nor counted (its P1 would say so)."""
    outsider = TeamFactory()
    IncidentFactory(title="Board secret", team=outsider, is_private=True, impact=1, urgency=1)
    IncidentFactory(title="Our secret", team=team, is_private=True, impact=1, urgency=1)
    IncidentFactory(title="Public fire", service=service, impact=1, urgency=1)

    page = re.sub(r"\s+", " ", text(signed_in.get("/")).split('id="open-title"')[1])

    assert "Board secret" not in page and "Our secret" in page and "Public fire" in page
    assert "2 open" in page


def test_home_refreshes_a_fragment_that_holds_no_inputs(signed_in, incident, settings):
    settings.UI_POLL_SECONDS = 7
    home = text(signed_in.get("/"))
    live = text(signed_in.get("/home/live/"))

    assert 'hx-get="/home/live/" hx-trigger="every 7s"' in home
    assert incident.title in live
    assert "<input" not in live and "<textarea" not in live and "<html" not in live


def test_pages_need_a_login(client, incident):
    for url in ["/", "/incidents/", "/incidents/new/", f"/incidents/{incident.number}/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- List --------------------------------------------------------------------------------


def test_list_filters_live_in_the_url(signed_in, responder, service):
    other = ServiceFactory(slug="search")
    a = IncidentFactory(title="Checkout slow", service=service, impact=1, urgency=1)
    b = IncidentFactory(title="Search broken", service=other, impact=3, urgency=3)
    c = IncidentFactory(title="Checkout errors", service=service, impact=2, urgency=2)
    services.incident_transition(incident=c, action="acknowledge", by=responder)

    def numbers(query):
        response = signed_in.get(f"/incidents/?{query}")
        assert response.status_code == 200
        return [i.number for i in response.context["page"]]

    assert numbers("") == [c.number, b.number, a.number]
    assert numbers("service=checkout") == [c.number, a.number]
    assert numbers("status=triggered") == [b.number, a.number]
    assert numbers("status=triggered&status=acknowledged&service=checkout") == [c.number, a.number]
    assert numbers("priority=1&priority=5") == [b.number, a.number]
    assert numbers("q=checkout") == [c.number, a.number]
    assert numbers(f"q={b.number.lower()}") == [b.number]
    assert numbers("sort=priority") == [a.number, c.number, b.number]
    assert numbers("sort=-priority") == [b.number, c.number, a.number]
    assert numbers("sort=id") == [a.number, b.number, c.number]
    assert numbers("major=true") == [a.number]
    assert numbers("team=platform&assignee=nobody") == []
    page = text(signed_in.get("/incidents/?status=triggered&service=checkout"))
    assert 'value="triggered" checked' in page
    assert '<option value="checkout" selected>' in page


def test_list_paginates_and_keeps_the_filters(signed_in, responder, service, monkeypatch):
    monkeypatch.setattr("incidents.views.PAGE_SIZE", 2)
    made = [IncidentFactory(title=f"Thing {i}", service=service) for i in range(5)]

    first = signed_in.get("/incidents/?service=checkout")
    last = signed_in.get("/incidents/?service=checkout&page=3")

    assert [i.number for i in first.context["page"]] == [made[4].number, made[3].number]
    assert 'href="?service=checkout&amp;page=2" rel="next"' in text(first)
    assert [i.number for i in last.context["page"]] == [made[0].number]
    assert "5 incidents" in text(first)


def test_list_caps_its_count_on_a_big_desk(signed_in, service, monkeypatch):
    monkeypatch.setattr("incidents.views.COUNT_CAP", 3)
    for i in range(5):
        IncidentFactory(title=f"Thing {i}", service=service)

    page = text(signed_in.get("/incidents/"))

    assert "More than 3 incidents" in page


def test_list_caps_a_text_searchs_count_lower(signed_in, service, monkeypatch):
    """Counting a search's matches is the slow part of a search on a big desk."""
    monkeypatch.setattr("incidents.views.COUNT_CAP", 4)
    monkeypatch.setattr("incidents.views.SEARCH_COUNT_CAP", 2)
    for i in range(3):
        IncidentFactory(title=f"Disk full {i}", service=service)

    assert "More than 2 incidents" in text(signed_in.get("/incidents/?q=disk"))
    assert "3 incidents" in text(signed_in.get("/incidents/?q="))


def test_list_shows_a_bad_date_filter_beside_it(signed_in, incident):
    response = signed_in.get("/incidents/?opened_after=yesterday-ish")
    page = text(response)

    assert response.status_code == 400
    assert 'id="f-after-error"' in page and "Enter a valid date/time." in page
    assert incident.title not in page


# --- New incident ----------------------------------------------------------------------------


def test_new_incident_is_logged_through_the_service(signed_in, responder, service, team):
    response = signed_in.post(
        "/incidents/new/",
        {
            "title": "Card payments fail",
            "description": "502 from the gateway",
            "service": "checkout",
            "impact": "1",
            "urgency": "2",
            "error_codes": "E502",
            "reporter_name": "Pat Customer",
            "reporter_email": "pat@example.com",
            "occurred_at": "2026-11-23T09:30",
            "users_affected": "1200",
            "assignee": responder.username,
            "war_room_url": "https://meet.example.com/inc",
        },
    )

    incident = Incident.objects.get(title="Card payments fail")
    assert (response.status_code, response["Location"]) == (302, f"/incidents/{incident.number}/")
    assert (incident.priority, incident.service, incident.team) == (2, service, team)
    assert (incident.assignee, incident.opened_by, incident.source) == (responder, responder, "web")
    assert (incident.reporter_name, incident.users_affected) == ("Pat Customer", 1200)
    assert incident.occurred_at.isoformat() == "2026-11-23T09:30:00+00:00"
    assert incident.timeline.filter(kind="created").count() == 1


def test_new_incident_shows_errors_beside_fields_and_logs_nothing(signed_in, responder):
    response = signed_in.post(
        "/incidents/new/",
        {"title": "", "impact": "1", "urgency": "9", "reporter_email": "not-an-email"},
    )
    page = text(response)

    assert response.status_code == 400
    assert Incident.objects.count() == 0
    assert '<p class="error field-error" id="id_title_error">This field is required.</p>' in page
    assert 'id="id_urgency_error">Select a valid choice.' in page
    assert 'id="id_reporter_email_error">Enter a valid email address.' in page
    title_input = re.search(r'<input[^>]*name="title"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in title_input
    assert 'aria-describedby="id_title_error"' in title_input


def test_new_incident_override_without_a_reason_is_refused_by_the_service(signed_in):
    response = signed_in.post(
        "/incidents/new/", {"title": "Odd one", "impact": "3", "urgency": "3", "priority": "1"}
    )

    assert response.status_code == 400
    assert Incident.objects.count() == 0
    assert 'id="id_priority_override_reason_error">The matrix gives P5' in text(response)


def test_new_incident_private_without_a_team_is_refused_beside_the_field(signed_in):
    response = signed_in.post(
        "/incidents/new/", {"title": "HR matter", "impact": "2", "urgency": "2", "is_private": "on"}
    )

    assert response.status_code == 400
    assert 'id="id_is_private_error">A private incident needs a team.' in text(response)


def test_priority_preview_shows_the_matrix_priority_and_its_meaning(signed_in):
    high = text(signed_in.get("/incidents/priority-preview/?impact=1&urgency=1"))
    low = text(signed_in.get("/incidents/priority-preview/?impact=3&urgency=2"))
    bad = text(signed_in.get("/incidents/priority-preview/?impact=7&urgency=2"))

    assert ">P1</strong> <span>P1 - Critical (SEV1)</span>" in high
    assert "needs an incident commander" in high
    assert ">P4</strong> <span>P4 - Low</span>" in low
    assert "Choose impact and urgency" in bad


def test_stakeholders_cannot_log_incidents(client, stakeholder):
    client.force_login(stakeholder)
    assert client.get("/incidents/new/").status_code == 403
    assert client.post("/incidents/new/", {"title": "x"}).status_code == 403
    assert Incident.objects.count() == 0


# --- Incident page ----------------------------------------------------------------------------


def test_incident_page_header_and_allowed_actions(signed_in, incident):
    response = signed_in.get(f"/incidents/{incident.number}/")
    page = text(response)

    assert response.status_code == 200
    assert f'<span class="number">{incident.number}</span> Checkout is down' in page
    assert [b["action"] for b in response.context["action_buttons"]] == [
        "acknowledge",
        "investigate",
        "mitigate",
        "resolve",
        "cancel",
    ]
    assert 'data-open-dialog="dialog-resolve"' in page
    assert '<dialog id="dialog-cancel"' in page and '<dialog id="dialog-hold"' not in page


def test_incident_page_of_a_private_incident_is_404_for_outsiders(client, incident, team):
    private = IncidentFactory(title="Secret", team=team, is_private=True)
    client.force_login(UserFactory(username="outsider"))

    assert client.get(f"/incidents/{private.number}/").status_code == 404
    assert client.get(f"/incidents/{incident.number}/").status_code == 200
    assert client.get("/incidents/INC-999999/").status_code == 404


def test_acknowledge_button_moves_the_incident(signed_in, incident):
    response = signed_in.post(f"/incidents/{incident.number}/do/acknowledge/", follow=True)

    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    assert f"{incident.number} is now acknowledged." in text(response)


def test_refused_transition_says_why_and_changes_nothing(signed_in, incident):
    response = signed_in.post(f"/incidents/{incident.number}/do/reopen/")

    incident.refresh_from_db()
    assert response.status_code == 409
    assert f"Cannot reopen {incident.number}: it is triggered" in text(response)
    assert incident.status == "triggered"


def test_major_incident_needs_a_commander_before_acknowledging(signed_in, service):
    major = IncidentFactory(title="Everything is down", service=service, impact=1, urgency=1)

    response = signed_in.post(f"/incidents/{major.number}/do/acknowledge/")

    major.refresh_from_db()
    assert response.status_code == 409
    assert "assign an incident commander" in text(response)
    assert major.status == "triggered"


def test_resolve_without_code_and_notes_reopens_the_dialog_with_errors(signed_in, incident):
    response = signed_in.post(
        f"/incidents/{incident.number}/do/resolve/",
        {"resolve-resolution_code": "", "resolve-notes": ""},
    )
    page = text(response)

    incident.refresh_from_db()
    assert response.status_code == 400
    assert incident.status == "triggered"
    assert '<dialog id="dialog-resolve" class="action-dialog"' in page
    assert 'aria-labelledby="dialog-resolve-title" data-open-on-load' in page
    assert 'id="id_resolve-resolution_code_error">This field is required.' in page
    assert 'id="id_resolve-notes_error">This field is required.' in page


def test_resolve_with_code_and_notes(signed_in, incident):
    signed_in.post(
        f"/incidents/{incident.number}/do/resolve/",
        {"resolve-resolution_code": "fixed", "resolve-notes": "Rolled back"},
    )

    incident.refresh_from_db()
    assert (incident.status, incident.resolution_code) == ("resolved", "fixed")
    assert incident.resolution_notes == "Rolled back"


def test_hold_asks_for_a_reason(signed_in, responder, incident):
    services.incident_transition(incident=incident, action="acknowledge", by=responder)
    bad = signed_in.post(f"/incidents/{incident.number}/do/hold/", {"hold-reason": "bored"})
    good = signed_in.post(
        f"/incidents/{incident.number}/do/hold/", {"hold-reason": "awaiting_vendor"}
    )

    incident.refresh_from_db()
    assert bad.status_code == 400 and 'id="id_hold-reason_error">Select a valid choice' in text(bad)
    assert good.status_code == 302
    assert (incident.status, incident.hold_reason) == ("on_hold", "awaiting_vendor")


def test_cancel_as_duplicate_names_the_other_incident(signed_in, incident, service):
    original = IncidentFactory(title="The first report", service=service)
    missing = signed_in.post(
        f"/incidents/{incident.number}/do/cancel/",
        {"cancel-reason": "duplicate", "cancel-duplicate_of": ""},
    )
    unknown = signed_in.post(
        f"/incidents/{incident.number}/do/cancel/",
        {"cancel-reason": "duplicate", "cancel-duplicate_of": "INC-999999"},
    )
    incident.refresh_from_db()
    assert incident.status == "triggered"
    done = signed_in.post(
        f"/incidents/{incident.number}/do/cancel/",
        {"cancel-reason": "duplicate", "cancel-duplicate_of": original.number.lower()},
    )

    incident.refresh_from_db()
    assert missing.status_code == 400
    assert "Name the incident this one duplicates." in text(missing)
    assert 'id="id_cancel-duplicate_of_error">There is no incident INC-999999.' in text(unknown)
    assert done.status_code == 302
    assert (incident.status, incident.duplicate_of) == ("cancelled", original)


def test_close_is_for_the_reporter_or_a_manager(client, responder, manager, incident):
    services.incident_transition(
        incident=incident, action="resolve", by=responder, resolution_code="fixed", notes="ok"
    )
    other = UserFactory(username="lee")
    client.force_login(other)
    page = client.get(f"/incidents/{incident.number}/")
    refused = client.post(f"/incidents/{incident.number}/do/close/")
    client.force_login(responder)
    reporter_page = client.get(f"/incidents/{incident.number}/")
    closed = client.post(f"/incidents/{incident.number}/do/close/")

    incident.refresh_from_db()
    assert "close" not in [b["action"] for b in page.context["action_buttons"]]
    assert refused.status_code == 403 and "Only the reporter confirms" in text(refused)
    assert "Confirm and close" in text(reporter_page)
    assert closed.status_code == 302 and incident.status == "closed"


def test_assign_and_reassign(signed_in, incident, team, other_user):
    team.members.add(other_user)
    other_team = TeamFactory(name="Payments", slug="payments", members=[other_user])

    signed_in.post(
        f"/incidents/{incident.number}/assign/",
        {"assign-team": "platform", "assign-assignee": "sam"},
    )
    incident.refresh_from_db()
    assert (incident.team, incident.assignee) == (team, other_user)
    signed_in.post(
        f"/incidents/{incident.number}/assign/", {"assign-team": "payments", "assign-assignee": ""}
    )
    incident.refresh_from_db()
    assert (incident.team, incident.assignee) == (other_team, None)
    assert incident.timeline.filter(kind="assigned").count() == 2


def test_assigning_someone_outside_the_team_shows_the_error_beside_assignee(
    signed_in, incident, other_user
):
    response = signed_in.post(
        f"/incidents/{incident.number}/assign/",
        {"assign-team": "platform", "assign-assignee": "sam"},
    )

    incident.refresh_from_db()
    assert response.status_code == 400
    assert 'id="id_assign-assignee_error">The assignee must be a member of the team.' in text(
        response
    )
    assert incident.assignee is None


def test_roles_are_set_replaced_and_removed(signed_in, incident, responder, other_user):
    signed_in.post(
        f"/incidents/{incident.number}/roles/", {"role-kind": "commander", "role-user": "ravi"}
    )
    signed_in.post(
        f"/incidents/{incident.number}/roles/", {"role-kind": "commander", "role-user": "sam"}
    )
    role = incident.roles.get()
    page = text(signed_in.get(f"/incidents/{incident.number}/"))
    signed_in.post(f"/incidents/{incident.number}/roles/{role.pk}/remove/")

    assert (role.kind, role.user) == ("commander", other_user)
    assert "Incident commander: sam" in page
    assert incident.roles.count() == 0
    bad = signed_in.post(f"/incidents/{incident.number}/roles/", {"role-kind": "boss"})
    assert bad.status_code == 400 and 'id="id_role-kind_error"' in text(bad)


def test_reclassify_recomputes_priority_and_logs_it(signed_in, incident):
    signed_in.post(
        f"/incidents/{incident.number}/classify/",
        {"classify-impact": "1", "classify-urgency": "1"},
    )

    incident.refresh_from_db()
    assert (incident.impact, incident.urgency, incident.priority) == (1, 1, 1)
    assert incident.is_major
    event = incident.timeline.filter(kind="priority_changed").get()
    assert event.data["changes"]["priority"] == [3, 1]


def test_tasks_tick_add_and_runbook(signed_in, incident):
    runbook = RunbookFactory(name="Payments runbook", steps=["Page the PSP", "Switch provider"])
    signed_in.post(f"/incidents/{incident.number}/tasks/", {"task-title": "Tell support"})
    signed_in.post(f"/incidents/{incident.number}/runbook/", {"runbook-runbook": runbook.pk})
    again = signed_in.post(
        f"/incidents/{incident.number}/runbook/", {"runbook-runbook": runbook.pk}
    )
    task = incident.tasks.get(title="Page the PSP")
    ticked = signed_in.post(
        f"/incidents/{incident.number}/tasks/{task.pk}/toggle/",
        {"done": "on"},
        headers={"HX-Request": "true"},
    )

    task.refresh_from_db()
    assert list(incident.tasks.values_list("title", flat=True)) == [
        "Tell support",
        "Page the PSP",
        "Switch provider",
    ]
    assert again.status_code == 409 and "already applied" in text(again)
    assert task.done
    assert ticked.status_code == 200 and text(ticked).startswith('<section class="card" id="tasks"')
    assert "checked" in text(ticked).split("Page the PSP")[0].rsplit("<li", 1)[1]
    signed_in.post(f"/incidents/{incident.number}/tasks/{task.pk}/toggle/", {})
    task.refresh_from_db()
    assert not task.done


def test_empty_task_title_is_shown_beside_the_field(signed_in, incident):
    response = signed_in.post(f"/incidents/{incident.number}/tasks/", {"task-title": "  "})

    assert response.status_code == 400
    assert 'id="id_task-title_error">This field is required.' in text(response)
    assert Task.objects.filter(incident=incident, title="").count() == 0


def test_updates_of_three_visibilities_look_different(signed_in, incident):
    for visibility in ("internal", "stakeholders", "public"):
        signed_in.post(
            f"/incidents/{incident.number}/updates/",
            {"update-visibility": visibility, "update-body": f"{visibility} words"},
        )
    page = text(signed_in.get(f"/incidents/{incident.number}/"))

    assert Update.objects.filter(incident=incident).count() == 3
    for visibility, label in [
        ("internal", "Internal work note"),
        ("stakeholders", "Stakeholder update"),
        ("public", "Public update"),
    ]:
        item = page.split(f'<li class="update update-{visibility}">')[1].split("</li>")[0]
        assert f'<span class="badge vis vis-{visibility}">{label}</span>' in item
        assert f"{visibility} words" in item


def test_empty_update_is_refused_beside_the_text(signed_in, incident):
    response = signed_in.post(
        f"/incidents/{incident.number}/updates/",
        {"update-visibility": "public", "update-body": ""},
    )

    assert response.status_code == 400
    assert 'id="id_update-body_error">This field is required.' in text(response)
    assert Update.objects.count() == 0


def test_a_status_on_an_internal_note_is_refused_beside_the_status(signed_in, incident):
    response = signed_in.post(
        f"/incidents/{incident.number}/updates/",
        {"update-visibility": "internal", "update-body": "x", "update-status": "monitoring"},
    )

    assert response.status_code == 400
    assert 'id="id_update-status_error">Only a public update carries a status.' in text(response)
    assert Update.objects.count() == 0


def test_attachments_upload_and_download(signed_in, incident):
    upload = SimpleUploadedFile("app.log", b"ERROR boom\n", content_type="text/plain")
    signed_in.post(f"/incidents/{incident.number}/attachments/", {"attachment-file": upload})
    attachment = Attachment.objects.get()
    page = text(signed_in.get(f"/incidents/{incident.number}/"))
    download = signed_in.get(f"/incidents/{incident.number}/attachments/{attachment.pk}/")

    assert (
        f'href="/incidents/{incident.number}/attachments/{attachment.pk}/" download>app.log' in page
    )
    assert b"".join(download.streaming_content) == b"ERROR boom\n"
    assert download["Content-Disposition"] == 'attachment; filename="app.log"'


def test_attachment_of_a_refused_type_is_shown_beside_the_file(signed_in, incident):
    upload = SimpleUploadedFile("x.exe", b"MZ\x90\x00", content_type="application/x-msdownload")
    response = signed_in.post(
        f"/incidents/{incident.number}/attachments/", {"attachment-file": upload}
    )

    assert response.status_code == 400
    assert 'id="id_attachment-file_error">Files of type application/x-msdownload' in text(response)
    assert Attachment.objects.count() == 0


def test_attachment_over_the_limit_is_413_beside_the_file(signed_in, incident, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    upload = SimpleUploadedFile("big.txt", b"x" * 11, content_type="text/plain")
    response = signed_in.post(
        f"/incidents/{incident.number}/attachments/", {"attachment-file": upload}
    )

    assert response.status_code == 413
    assert 'id="id_attachment-file_error">Attachments are limited to' in text(response)


def test_timeline_is_newest_first_and_filters_by_kind(signed_in, responder, incident):
    services.incident_transition(incident=incident, action="acknowledge", by=responder)
    services.update_post(incident=incident, by=responder, visibility="internal", body="Looking")

    everything = signed_in.get(f"/incidents/{incident.number}/timeline/")
    only_changes = signed_in.get(f"/incidents/{incident.number}/timeline/?kind=transitioned")

    assert [e.kind for e in everything.context["events"]] == [
        "update_posted",
        "transitioned",
        "created",
    ]
    assert [e.kind for e in only_changes.context["events"]] == ["transitioned"]
    assert "Acknowledge: now Acknowledged" in text(only_changes)


def test_incident_page_polls_its_timeline(signed_in, incident, settings):
    settings.UI_POLL_SECONDS = 3
    page = text(signed_in.get(f"/incidents/{incident.number}/"))

    assert (
        f'<div id="timeline-items" hx-get="/incidents/{incident.number}/timeline/" '
        'hx-trigger="every 3s" hx-include="#timeline-filter"'
    ) in page


def test_stakeholders_read_but_do_not_act(client, stakeholder, incident):
    client.force_login(stakeholder)
    page = client.get(f"/incidents/{incident.number}/")
    refused = client.post(f"/incidents/{incident.number}/do/acknowledge/")
    note = client.post(
        f"/incidents/{incident.number}/updates/",
        {"update-visibility": "internal", "update-body": "hi"},
    )

    incident.refresh_from_db()
    assert page.status_code == 200 and page.context["action_buttons"] == []
    assert "Post update" not in text(page)
    assert (refused.status_code, note.status_code) == (403, 403)
    assert incident.status == "triggered" and Update.objects.count() == 0
    assert list(TimelineEvent.objects.filter(incident=incident).values_list("kind", flat=True)) == [
        "created"
    ]
