"""Similar incidents (ranking on a small corpus), the incident page panel, the stakeholder
summary and the optional assistant against a local fake chat-completions server."""

from io import StringIO

import pytest
from django.core.management import call_command

from incidents import services as incident_services
from incidents.models import Incident
from postmortems import similar
from postmortems.assist import stakeholder_summary
from postmortems.models import IncidentDocument, Postmortem
from tests.factories import (
    IncidentFactory,
    RunbookFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)
from tests.integrations.receiver import LocalReceiver
from tests.postmortems.factories import resolved_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus():
    payments = ServiceFactory(name="Payments", slug="payments")
    search = ServiceFactory(name="Search", slug="search")
    by = UserFactory(username="logger")
    same = resolved_incident(
        priority=3,
        by=by,
        title="Checkout payment gateway timeout",
        error_codes="PGW-504",
        service=payments,
        description="Card payments failed at checkout.",
    )
    Postmortem.objects.create(incident=same, title="Gateway pool exhausted")
    words = IncidentFactory(
        by=by, title="Gateway timeout on card checkout", service=search, description="Slow."
    )
    service_only = IncidentFactory(by=by, title="Refunds are slow", service=payments)
    described = IncidentFactory(
        by=by, title="Nightly batch failed", description="The payment gateway timeout again."
    )
    IncidentFactory(by=by, title="Disk full on the log host", description="Rotate logs.")
    current = IncidentFactory(
        by=by,
        title="Payment gateway timeout at checkout",
        error_codes="PGW-504",
        service=payments,
    )
    return {
        "current": current,
        "same": same,
        "words": words,
        "service_only": service_only,
        "described": described,
    }


def test_similar_ranking_weights_title_codes_service_description(corpus, admin_user):
    found = [m.incident for m in similar.similar_incidents(corpus["current"], user=admin_user)]

    # Same title words and error code (A) > title words (A) > service name (B) > description (C);
    # the disk incident shares nothing and the incident itself is never its own match.
    assert found == [corpus["same"], corpus["words"], corpus["described"], corpus["service_only"]]


def test_similar_plain_fallback_ranks_alike(corpus):
    words = similar._tokens("Payment gateway timeout at checkout", "PGW-504", "Payments")

    found = [m.incident for m in similar._similar_plain(corpus["current"], words, 5)]

    assert found[:2] == [corpus["same"], corpus["words"]]


def test_similar_hides_private_incidents(corpus, responder):
    team = TeamFactory(name="Secret", slug="secret")
    Incident.objects.filter(pk=corpus["same"].pk).update(is_private=True, team=team)

    found = [m.incident for m in similar.similar_incidents(corpus["current"], user=responder)]

    assert corpus["same"] not in found
    assert found[0] == corpus["words"]


def test_incident_panel_shows_matches_postmortems_runbooks_and_summary(
    client, corpus, responder, django_assert_max_num_queries
):
    RunbookFactory(name="Gateway runbook", steps=["Check the pool", "Fail over"]).services.add(
        corpus["current"].service
    )
    incident_services.update_post(
        incident=corpus["current"], by=responder, visibility="stakeholders", body="We are on it."
    )
    incident_services.update_post(
        incident=corpus["current"], by=responder, visibility="internal", body="secret note"
    )
    client.force_login(responder)
    url = f"/incidents/{corpus['current'].number}/similar/"
    client.get(url)
    with django_assert_max_num_queries(14):
        response = client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert corpus["same"].number in html and "Fixed by: Rolled back." in html
    assert "Postmortem: Gateway pool exhausted" in html
    assert "<strong>Gateway runbook</strong>: Check the pool; Fail over" in html
    assert "We are on it." in html and "secret note" not in html
    assert "Ask the assistant" not in html  # LLM_API_URL is unset
    assert "Start a postmortem" in html


def test_incident_page_loads_the_panel(client, corpus, responder):
    client.force_login(responder)

    html = client.get(f"/incidents/{corpus['current'].number}/").content.decode()

    assert f'hx-get="/incidents/{corpus["current"].number}/similar/"' in html


def test_stakeholder_summary_from_the_timeline(responder):
    incident = resolved_incident(priority=1, by=responder, title="Checkout down")
    incident_services.update_post(
        incident=incident, by=responder, visibility="stakeholders", body="Fixed."
    )
    text = stakeholder_summary(incident)

    assert text.splitlines()[0] == f"{incident.number}: Checkout down"
    assert "State: Resolved (P1, major incident); was open for" in text
    assert "Progress: acknowledged" in text and "resolved" in text.splitlines()[3]
    assert text.splitlines()[-1].endswith(": Fixed.")


ANSWER = {
    "model": "fake-1",
    "choices": [{"message": {"role": "assistant", "content": "Summary.\nNext steps: fail over."}}],
}


@pytest.fixture
def fake_llm():
    """A local chat-completions endpoint over a real socket (tests/integrations/receiver.py)."""
    with LocalReceiver(answer=ANSWER) as receiver:
        yield receiver


def test_assistant_generates_marked_text(client, corpus, responder, settings, fake_llm):
    settings.LLM_API_URL = fake_llm.url
    settings.LLM_API_KEY = "k-123"
    settings.LLM_MODEL = "llama-test"
    client.force_login(responder)
    number = corpus["current"].number

    panel = client.get(f"/incidents/{number}/similar/").content.decode()
    response = client.post(f"/incidents/{number}/assist/")

    assert "Ask the assistant" in panel
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>Generated</strong> by fake-1" in html and "Next steps: fail over." in html
    (sent,) = fake_llm.requests
    assert sent.headers["authorization"] == "Bearer k-123"
    assert sent.json()["model"] == "llama-test"
    prompt = sent.json()["messages"][1]["content"]
    assert "Payment gateway timeout at checkout" in prompt
    assert f"{corpus['same'].number} Checkout payment gateway timeout" in prompt


def test_assistant_bad_answer_is_502_not_500(client, corpus, responder, settings, fake_llm):
    settings.LLM_API_URL = fake_llm.url
    fake_llm.answer = {"error": "overloaded"}
    client.force_login(responder)

    response = client.post(f"/incidents/{corpus['current'].number}/assist/")

    assert response.status_code == 502
    assert "did not answer usefully" in response.content.decode()


def test_assistant_sends_nothing_when_unset(client, corpus, responder, settings, fake_llm):
    settings.LLM_API_URL = ""
    client.force_login(responder)

    response = client.post(f"/incidents/{corpus['current'].number}/assist/")

    assert response.status_code == 404
    assert fake_llm.requests == []


def test_seeded_incidents_are_indexed_and_found_as_similar(corpus, admin_user):
    call_command("seed", incidents=40, days=10, stdout=StringIO())
    seeded = Incident.objects.filter(pk__gt=corpus["current"].pk).order_by("pk")

    assert IncidentDocument.objects.filter(incident__in=seeded).count() == 40
    newest = seeded.last()
    found = similar.similar_incidents(newest, user=admin_user, limit=40)
    # Seeded titles are "<word> on <service> #<tag>": every match shares a word with it.
    assert found and all(
        set(similar._tokens(m.incident.title)) & set(similar._tokens(newest.title)) for m in found
    )
