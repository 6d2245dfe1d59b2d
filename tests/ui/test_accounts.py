"""Profile, the user's time zone everywhere, and password reset/change."""

import re
from datetime import UTC, datetime

import pytest
from django.core import mail

from tests.factories import PASSWORD, IncidentFactory

pytestmark = pytest.mark.django_db


def test_profile_saves_contact_details_and_time_zone(signed_in, responder):
    page = signed_in.get("/accounts/profile/")
    assert page.status_code == 200
    assert 'name="time_zone"' in page.content.decode()

    response = signed_in.post(
        "/accounts/profile/",
        {
            "first_name": "Ravi",
            "last_name": "Shah",
            "email": "ravi@example.com",
            "phone": "+44 20 7946 0000",
            "time_zone": "Asia/Tokyo",
        },
    )
    assert response.status_code == 302
    responder.refresh_from_db()
    assert (responder.phone, responder.time_zone) == ("+44 20 7946 0000", "Asia/Tokyo")
    assert "Profile saved." in signed_in.get("/accounts/profile/").content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "call me", "Enter a phone number of 6 to 15 digits"),
        ("time_zone", "Mars/Olympus", "Select a valid choice"),
        ("email", "not an email", "Enter a valid email address."),
    ],
)
def test_bad_profile_input_is_shown_beside_the_field_and_saves_nothing(
    signed_in, responder, field, value, message
):
    data = {"email": "", "phone": "", "time_zone": "Europe/Paris", field: value}
    response = signed_in.post("/accounts/profile/", data)

    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(rf'id="id_{field}_error">[^<]*{re.escape(message)}', html)
    assert 'aria-invalid="true"' in html
    responder.refresh_from_db()
    assert responder.time_zone == "UTC" and responder.phone == ""


def test_times_are_shown_in_the_users_time_zone(signed_in, responder):
    incident = IncidentFactory(by=responder)
    incident.created_at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    incident.save(update_fields=["created_at"])

    page = signed_in.get(f"/incidents/{incident.number}/").content.decode()
    assert "opened 2026-03-01 23:30 UTC" in page
    responder.time_zone = "Asia/Tokyo"
    responder.save()
    html = signed_in.get(f"/incidents/{incident.number}/").content.decode()
    assert "opened 2026-03-02 08:30 JST" in html
    listed = signed_in.get("/incidents/").content.decode()
    assert '<time datetime="2026-03-02T08:30:00+09:00">2026-03-02 08:30 JST</time>' in listed


def test_a_vanished_time_zone_falls_back_to_the_default(signed_in, responder):
    responder.time_zone = "Nowhere/Gone"
    responder.save()
    assert signed_in.get("/").status_code == 200


def test_password_reset_by_email_then_log_in(client, responder, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert "Forgot your password?" in client.get("/accounts/login/").content.decode()

    response = client.post("/accounts/password/reset/", {"email": responder.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [responder.email]
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", mail.outbox[0].body)
    form = client.get(link.group(1), follow=True)
    assert "Choose a new password" in form.content.decode()

    weak = client.post(form.redirect_chain[-1][0], {"new_password1": "1", "new_password2": "2"})
    assert weak.status_code == 200
    assert 'id="id_new_password2_error"' in weak.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-new long password", "new_password2": "a-new long password"},
    )
    assert done.status_code == 302
    assert client.login(username=responder.username, password="a-new long password")
    assert not client.login(username=responder.username, password=PASSWORD)


def test_password_reset_does_not_reveal_unknown_addresses(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"].endswith("/reset/sent/")
    assert mail.outbox == []


def test_password_change_from_the_profile(signed_in, responder):
    assert "/accounts/password/change/" in signed_in.get("/accounts/profile/").content.decode()
    wrong = signed_in.post(
        "/accounts/password/change/",
        {"old_password": "nope", "new_password1": "x", "new_password2": "x"},
    )
    assert 'id="id_old_password_error"' in wrong.content.decode()
    response = signed_in.post(
        "/accounts/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "another long passphrase",
            "new_password2": "another long passphrase",
        },
    )
    assert response.status_code == 302
    responder.refresh_from_db()
    assert responder.check_password("another long passphrase")
