import pytest
from django.core.management import call_command
from django.utils import timezone

from escalation.models import (
    ContactMethod,
    EscalationPolicy,
    EscalationRun,
    Schedule,
    ServiceOnCall,
    SlaTarget,
)
from escalation.selectors import oncall_at
from incidents import services as incident_services
from incidents.models import Team, User

pytestmark = pytest.mark.django_db


def counts():
    models = (Schedule, EscalationPolicy, ServiceOnCall, SlaTarget, ContactMethod)
    return [model.objects.count() for model in models]


def test_demo_escalation_sets_up_paging_for_every_team_once():
    call_command("demo")
    call_command("demo_escalation")
    first = counts()
    call_command("demo_escalation")

    assert counts() == first
    teams = Team.objects.exclude(members=None)
    assert Schedule.objects.filter(team__in=teams).count() == teams.count()
    assert all(oncall_at(s, timezone.now()) for s in Schedule.objects.all())
    assert ContactMethod.objects.count() == User.objects.exclude(email="").count()
    payments = Team.objects.get(slug="payments")
    incident = incident_services.incident_create(by=None, title="Cards failing", team=payments)
    run = EscalationRun.objects.get(incident=incident)
    assert [t["name"] for level in run.snapshot["levels"] for t in level["targets"]] == [
        "Payments primary",
        "maria",
    ]
