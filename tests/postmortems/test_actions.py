from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail

from postmortems import services
from postmortems.models import ActionItem, Reminder
from postmortems.tasks import send_reminders
from tests.factories import UserFactory
from tests.postmortems.factories import postmortem_for, resolved_incident
from tests.workers import wait_until

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 10)


def item(postmortem, **fields):
    return services.action_item_add(postmortem=postmortem, by=None, **fields)


def test_action_item_created_with_owner_due_priority_and_ticket(api, responder):
    postmortem = postmortem_for(by=responder)

    response = api.as_user(responder).post(
        f"/api/v1/postmortems/{postmortem.pk}/actions/",
        {
            "title": "Alert on certificate expiry",
            "owner": "ravi",
            "due_date": "2026-04-01",
            "priority": "high",
            "external_url": "https://jira.example.com/browse/OPS-12",
        },
        format="json",
    )

    assert response.status_code == 201
    assert ActionItem.objects.values(
        "title", "owner__username", "due_date", "priority", "status", "external_url"
    ).get() == {
        "title": "Alert on certificate expiry",
        "owner__username": "ravi",
        "due_date": date(2026, 4, 1),
        "priority": "high",
        "status": "open",
        "external_url": "https://jira.example.com/browse/OPS-12",
    }


def test_action_item_wont_do_needs_a_reason(api, responder):
    action = item(postmortem_for(by=responder), title="Rewrite in Rust", owner=responder)
    url = f"/api/v1/action-items/{action.pk}/"
    api.as_user(responder)

    refused = api.patch(url, {"status": "wont_do"}, format="json")
    closed = api.patch(
        url, {"status": "wont_do", "wont_do_reason": "Superseded by OPS-9"}, format="json"
    )
    done_later = api.patch(url, {"status": "done"}, format="json")

    assert refused.status_code == 400 and "wont_do_reason" in refused.json()
    assert (closed.json()["status"], closed.json()["wont_do_reason"]) == (
        "wont_do",
        "Superseded by OPS-9",
    )
    assert closed.json()["completed_at"] is not None
    assert (done_later.json()["status"], done_later.json()["wont_do_reason"]) == ("done", "")


@time_machine.travel("2026-03-10 09:00Z", tick=False)
def test_action_items_list_filters_overdue_and_mine(api, responder):
    other = UserFactory(username="olga")
    postmortem = postmortem_for(by=responder)
    item(postmortem, title="late mine", owner=responder, due_date=TODAY - timedelta(days=1))
    item(postmortem, title="late other", owner=other, due_date=TODAY - timedelta(days=3))
    item(postmortem, title="future mine", owner=responder, due_date=TODAY + timedelta(days=3))
    done = item(postmortem, title="late done", owner=responder, due_date=TODAY - timedelta(days=9))
    services.action_item_update(item=done, by=responder, status="done")
    api.as_user(responder)

    def titles(query):
        return sorted(
            i["title"] for i in api.get(f"/api/v1/action-items/?{query}").json()["results"]
        )

    assert titles("overdue=true") == ["late mine", "late other"]
    assert titles("mine=true") == ["future mine", "late done", "late mine"]
    assert titles("mine=true&overdue=true") == ["late mine"]
    assert titles("status=done") == ["late done"]


@time_machine.travel("2026-03-10 09:00Z", tick=False)
def test_action_items_page_views(client, responder):
    postmortem = postmortem_for(by=responder)
    item(postmortem, title="late mine", owner=responder, due_date=TODAY - timedelta(days=1))
    item(postmortem, title="someone else", owner=UserFactory(), due_date=TODAY + timedelta(days=1))
    client.force_login(responder)

    overdue = client.get("/action-items/?view=overdue").content.decode()
    mine = client.get("/action-items/?view=mine").content.decode()

    assert "late mine" in overdue and "someone else" not in overdue
    assert "<strong>overdue</strong>" in overdue
    assert "late mine" in mine and "someone else" not in mine


def test_reminders_for_overdue_items_and_stale_drafts_once_a_day(settings):
    settings.POSTMORTEM_DRAFT_REMINDER_DAYS = 5
    owner = UserFactory(username="owen", email="owen@example.com")
    author = UserFactory(username="ann", email="ann@example.com")
    with time_machine.travel("2026-03-01 09:00Z", tick=False):
        stale = postmortem_for(resolved_incident(priority=4), by=author)
    with time_machine.travel("2026-03-09 09:00Z", tick=False):
        fresh_incident = resolved_incident(priority=4)
    postmortem_for(fresh_incident, by=author)
    item(stale, title="Add alert", owner=owner, due_date=TODAY - timedelta(days=1))
    item(stale, title="Not yet due", owner=owner, due_date=TODAY + timedelta(days=1))

    with time_machine.travel("2026-03-10 09:00Z", tick=False):
        sent = send_reminders()
        again = send_reminders()

    assert (sent, again) == (2, 0)
    assert sorted(Reminder.objects.values_list("kind", "recipient__username", "day")) == [
        ("action_overdue", "owen", TODAY),
        ("draft_stale", "ann", TODAY),
    ]
    assert sorted((m.to, m.subject) for m in mail.outbox) == [
        (["ann@example.com"], f"Postmortem of {stale.incident.number} is still a draft"),
        (["owen@example.com"], f"Overdue action item from {stale.incident.number}: Add alert"),
    ]
    with time_machine.travel("2026-03-11 09:00Z", tick=False):
        assert send_reminders() == 2  # a new day, a new reminder


def test_reminder_delivery_claims_once_and_retries_after_failure(monkeypatch):
    owner = UserFactory(email="o@example.com")
    action = item(postmortem_for(), title="x", owner=owner, due_date=date(2000, 1, 1))
    services.reminders_create_due()
    reminder = Reminder.objects.get()

    def broken(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(services, "send_mail", broken)
    assert services.reminders_deliver_unsent() == 0
    reminder.refresh_from_db()
    assert (reminder.sent_at, reminder.attempts) == (None, 1)

    monkeypatch.undo()
    assert services.reminders_deliver_unsent() == 1
    assert services.reminder_deliver(reminder_id=reminder.pk) is False
    assert len(mail.outbox) == 1 and action.title in mail.outbox[0].subject


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_reminders_sent_by_a_real_worker(celery_worker):
    owner = UserFactory(email="w@example.com")
    item(postmortem_for(), title="worker item", owner=owner, due_date=date(2000, 1, 1))

    send_reminders.apply_async(queue=celery_worker.queue)

    wait_until(lambda: Reminder.objects.filter(sent_at__isnull=False).exists(), timeout=60)
    celery_worker.wait_for_log("Overdue action item", timeout=30)
