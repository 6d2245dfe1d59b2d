import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents import services
from incidents.events import incident_event
from incidents.models import Attachment
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(api, incident, name, content, content_type):
    return api.post(
        f"/api/v1/incidents/{incident.number}/attachments/",
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        format="multipart",
    )


def test_create_without_title_is_a_400_naming_the_field(api, responder):
    response = api.as_user(responder).post(
        "/api/v1/incidents/", {"impact": 7, "service": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "title": ["This field is required."],
        "impact": ["Ensure this value is less than or equal to 3."],
        "service": ["Object with slug=nope does not exist."],
    }


def test_malformed_json_is_a_400(api, responder):
    response = api.as_user(responder).post(
        "/api/v1/incidents/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_body_over_the_limit_is_a_413(api, responder, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.as_user(responder).post(
        "/api/v1/incidents/", json.dumps({"title": "x" * 2000}), content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large: the limit is 1000 bytes."}


def test_attachment_upload_and_download(api, responder):
    incident = IncidentFactory()
    client = api.as_user(responder)

    created = upload(client, incident, "screen.png", PNG, "image/png")
    listed = client.get(f"/api/v1/incidents/{incident.number}/attachments/").json()["results"]
    download = client.get(created.json()["download_url"])

    assert created.status_code == 201, created.json()
    assert (listed[0]["filename"], listed[0]["content_type"], listed[0]["size"]) == (
        "screen.png",
        "image/png",
        len(PNG),
    )
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Disposition"] == 'attachment; filename="screen.png"'
    assert incident.timeline.filter(kind="attachment_added").count() == 1


def test_attachment_over_the_size_limit_is_a_413(api, responder, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    incident = IncidentFactory()
    response = upload(
        api.as_user(responder), incident, "huge.log", b"x" * (1024 * 1024 + 1), "text/plain"
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "Attachments are limited to 1 MB."}
    assert not Attachment.objects.exists()


def test_attachment_content_must_match_its_type(api, responder):
    incident = IncidentFactory()
    client = api.as_user(responder)

    fake_png = upload(client, incident, "x.png", b"MZ\x90\x00 not a png", "image/png")
    exe = upload(client, incident, "x.exe", b"MZ\x90\x00", "application/x-msdownload")
    log = upload(client, incident, "app.log", b"ERROR pool exhausted\n", "application/octet-stream")

    assert fake_png.status_code == 400
    assert fake_png.json() == {"file": ["The file's content is not image/png."]}
    assert exe.status_code == 400 and "not accepted" in exe.json()["file"][0]
    assert log.status_code == 201 and log.json()["content_type"] == "text/plain"
    assert Attachment.objects.count() == 1


def test_stakeholder_cannot_upload(api, stakeholder):
    incident = IncidentFactory()
    response = upload(api.as_user(stakeholder), incident, "s.png", PNG, "image/png")
    assert response.status_code == 403


def test_a_failed_attachment_leaves_no_file_behind(api, responder, settings):
    incident = IncidentFactory()

    def refuse(sender, event, **kwargs):
        if event.kind == "attachment_added":
            raise RuntimeError("a receiver failed")

    incident_event.connect(refuse, dispatch_uid="test.refuse-attachment")
    try:
        with pytest.raises(RuntimeError):
            services.attachment_add(
                incident=incident,
                by=responder,
                upload=SimpleUploadedFile("trace.log", b"boom", content_type="text/plain"),
            )
    finally:
        incident_event.disconnect(dispatch_uid="test.refuse-attachment")

    assert not Attachment.objects.exists()
    assert list(Path(settings.MEDIA_ROOT).rglob("*.log")) == []
