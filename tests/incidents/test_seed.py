import pytest
from django.core.management import call_command
from django.db.models import F, Q

from incidents.enums import OPEN_STATUSES
from incidents.models import Incident, TimelineEvent
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def test_seed_inserts_consistent_history_beside_existing_incidents(capsys):
    existing = IncidentFactory()

    call_command("seed", incidents=300, batch=128, days=30)

    seeded = Incident.objects.exclude(pk=existing.pk)
    assert seeded.count() == 300
    assert TimelineEvent.objects.filter(incident__in=seeded, kind="created").count() == 300
    assert not seeded.filter(acknowledged_at__lt=F("created_at")).exists()
    assert not seeded.filter(resolved_at__lt=F("mitigated_at")).exists()
    assert not seeded.filter(status__in=["resolved", "closed"], resolved_at=None).exists()
    assert not seeded.filter(Q(status__in=OPEN_STATUSES) & ~Q(resolved_at=None)).exists()
    assert seeded.filter(status="closed").exists() and seeded.filter(status="triggered").exists()
    # The sequence moved past the copied ids, so the desk keeps numbering after them.
    last_seeded = max(seeded.values_list("pk", flat=True))
    assert IncidentFactory().pk > last_seeded
    assert "Seeded 300 incidents" in capsys.readouterr().out
