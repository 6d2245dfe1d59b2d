import pytest

pytestmark = pytest.mark.django_db


def test_incident_page_loads_each_configured_panel_as_a_fragment(signed_in, incident, settings):
    settings.ROOT_URLCONF = "tests.ui.panel_urls"
    settings.INCIDENT_PAGE_PANELS = ["test-paging-panel", "not-installed:panel"]

    page = signed_in.get(f"/incidents/{incident.number}/").content.decode()
    panel = signed_in.get(f"/test-panels/{incident.number}/paging/").content.decode()

    assert (
        f'<section class="card panel" hx-get="/test-panels/{incident.number}/paging/" '
        'hx-trigger="load"'
    ) in page
    assert page.count('class="card panel"') == 1
    assert panel == f"<h2>Paging</h2><p>Nobody paged for {incident.number} yet.</p>"
