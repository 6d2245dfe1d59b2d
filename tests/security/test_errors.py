import pytest

pytestmark = pytest.mark.django_db


def test_unknown_api_url_is_a_json_404(api, responder):
    response = api.as_user(responder).get("/api/v1/incidents/INC-1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_unknown_page_is_still_an_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_offset_postgresql_cannot_store_is_a_400_not_a_500(api, responder):
    client = api.as_user(responder)
    moment = "0356-10-17T13:57:03-20:42"

    listed = client.get("/api/v1/incidents/", {"opened_before": moment})

    assert listed.status_code == 400
    assert listed.json() == {"opened_before": ["The UTC offset must be within ±14:00."]}


def test_schema_documents_error_answers(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    responses = schema["paths"]["/api/v1/incidents/{number}/"]["patch"]["responses"]

    assert sorted(responses) == ["200", "400", "401", "403", "404", "409", "413", "429"]
    assert responses["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
