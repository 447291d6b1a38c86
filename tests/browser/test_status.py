"""The status page in a real browser: a registry (a real process) goes down, the page shows an
open incident; the citizen looks the id up; the registry comes back and the incident shows its
end."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from panjereh.exchange import provision
from panjereh.registries.supervisor import Cluster
from panjereh.status import monitor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def civil_registry():
    cluster = Cluster("small", seed=1404, registries=("civil",)).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def watched(civil_registry, live_server, settings):
    cache.clear()  # figures are cached by row ids, which earlier tests' rollbacks reuse
    settings.PANJEREH_STATUS_BASE_URL = live_server.url
    settings.PANJEREH_STATUS_OPEN_AFTER = 2
    settings.PANJEREH_STATUS_CLOSE_AFTER = 2
    provision.register_registries(civil_registry.addresses())
    monitor.sync_systems()
    yield civil_registry
    civil_registry.control("civil", mode="normal")


def test_outage_shown_looked_up_and_resolved(page, live_server, watched):
    monitor.probe_round()
    page.goto(f"{live_server.url}/en/status/")
    assert page.locator("#summary").inner_text().strip().startswith("All systems are working.")
    assert page.locator("#open-incidents").inner_text() == "There is no ongoing incident."

    watched.control("civil", mode="drop")
    monitor.probe_round()
    monitor.probe_round()
    page.goto(f"{live_server.url}/en/status/")
    assert "1 system has a problem now." in page.locator("#summary").inner_text()
    row = page.locator("#open-incidents tbody tr")
    assert row.count() == 1
    incident_id = row.locator("th").inner_text().strip()
    assert re.fullmatch(r"INC-\d{4}-\d{4}", incident_id)
    assert row.locator("time.started").get_attribute("datetime")
    assert "Down" in page.locator("#systems").inner_text()

    # The citizen types the id they were given (lower case, short form) into the lookup box.
    page.get_by_label("Enter the incident id you were given").fill(
        incident_id.lower().replace("-000", "-")
    )
    page.get_by_role("button", name="Find the incident").click()
    page.wait_for_url(re.compile(rf"/en/status/incidents/{incident_id}/$"))
    assert page.locator("#incident-id-value").inner_text() == incident_id
    assert "Not yet" in page.locator("#incident-end").inner_text()

    # A wrong id: the error is announced with the field, and focus stays there.
    page.goto(f"{live_server.url}/en/status/")
    field = page.get_by_label("Enter the incident id you were given")
    field.fill("INC-1300-0001")
    field.press("Enter")
    assert page.locator("#incident-id-error").inner_text() == (
        "No incident has this id. Check the id and try again."
    )
    assert (
        page.get_by_label("Enter the incident id you were given").get_attribute("aria-invalid")
        == "true"
    )

    watched.control("civil", mode="normal")
    monitor.probe_round()
    monitor.probe_round()
    page.goto(f"{live_server.url}/en/status/")
    assert page.locator("#summary").inner_text().strip().startswith("All systems are working.")
    resolved = page.locator(f'#recent-incidents tr[data-incident="{incident_id}"]')
    assert resolved.locator("time.ended").get_attribute("datetime")
    resolved.locator("a").click()
    assert page.locator("#incident-end").get_attribute("datetime")

    # The Persian page: right to left, with the same incident.
    page.goto(f"{live_server.url}/status/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator(f'tr[data-incident="{incident_id}"]').count() == 1
