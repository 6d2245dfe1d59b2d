import pytest
from django.utils import timezone

from escalation.models import Notification
from escalation.services import notify_user
from tests.factories import UserFactory
from tests.integrations.factories import IntegrationFactory

pytestmark = pytest.mark.django_db


def test_notifications_per_user_are_capped_per_hour(settings):
    settings.ESCALATION_NOTIFY_MAX_PER_HOUR = 2
    user, other = UserFactory(email="u@example.com"), UserFactory(email="o@example.com")
    now = timezone.now()

    sent = [
        notify_user(user=user, reason="page", key=f"k{i}", subject=f"#{i}", body="", now=now)
        for i in range(3)
    ]
    notify_user(user=other, reason="page", key="k", subject="other", body="", now=now)

    assert [len(s) for s in sent] == [1, 1, 0]
    subjects = Notification.objects.filter(recipient=user).values_list("subject", flat=True)
    assert sorted(subjects) == ["#0", "#1"]
    assert Notification.objects.filter(recipient=other).count() == 1


def test_ingestion_keys_allow_6000_alerts_a_minute_by_default():
    # Past it the ingest endpoints answer 429 with Retry-After (tests/integrations/test_ingest.py).
    assert IntegrationFactory().rate_limit_per_minute == 6000
