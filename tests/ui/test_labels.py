"""Every control of the responder pages has a label a screen reader announces, and every
id is unique, so each label points at its own control."""

from html.parser import HTMLParser

import pytest

from tests.factories import IncidentFactory
from tests.postmortems.factories import postmortem_for
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Controls(HTMLParser):
    def __init__(self):
        super().__init__()
        self.controls, self.label_for, self.open_labels, self.ids = [], set(), 0, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.append(attrs["id"])
        if tag == "label":
            self.open_labels += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea"):
            if tag == "input" and attrs.get("type") in UNLABELLED_TYPES:
                return
            named = "aria-label" in attrs or "aria-labelledby" in attrs
            self.controls.append((attrs.get("name"), attrs.get("id"), named or self.open_labels))

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels -= 1

    def unlabelled(self) -> list:
        return [
            name
            for name, id_, labelled in self.controls
            if not labelled and id_ not in self.label_for
        ]

    def duplicate_ids(self) -> list:
        return sorted({id_ for id_ in self.ids if self.ids.count(id_) > 1})


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/incidents/",
        "/incidents/new/",
        "{incident}",
        "{incident}status-page/",
        "/accounts/profile/",
        "/status-page/",
        "/status/subscribe/",
        "{postmortem}",
        "/metrics/",
    ],
)
def test_every_control_has_a_label_and_a_unique_id(client, manager, path):
    incident = IncidentFactory(by=manager)
    postmortem = postmortem_for(by=manager)
    ComponentFactory(name="API")
    client.force_login(manager)
    response = client.get(
        path.format(
            incident=f"/incidents/{incident.number}/", postmortem=f"/postmortems/{postmortem.pk}/"
        )
    )
    assert response.status_code == 200
    parser = Controls()
    parser.feed(response.content.decode())
    assert parser.controls
    assert parser.unlabelled() == []
    assert parser.duplicate_ids() == []


def test_login_and_password_reset_controls_have_labels(client):
    for path in ["/accounts/login/", "/accounts/password/reset/"]:
        parser = Controls()
        parser.feed(client.get(path).content.decode())
        assert parser.controls and parser.unlabelled() == [] and parser.duplicate_ids() == []
