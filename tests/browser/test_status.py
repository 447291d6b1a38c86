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


def test_outage_shown_looked_up_and_resolved(variant_page, variant, live_server, watched):
    page, _ = variant_page, variant.gettext
    status = f"{live_server.url}{variant.prefix}/status/"
    monitor.probe_round()
    page.goto(status)
    assert page.locator("#summary").inner_text().strip().startswith(_("All systems are working."))
    assert page.locator("#open-incidents").inner_text() == _("There is no ongoing incident.")

    watched.control("civil", mode="drop")
    monitor.probe_round()
    monitor.probe_round()
    page.goto(status)
    one_down = variant.ngettext(
        "%(shown)s system has a problem now.", "%(shown)s systems have a problem now.", 1, shown=1
    )
    assert one_down in page.locator("#summary").inner_text()
    row = page.locator("#open-incidents tbody tr")
    assert row.count() == 1
    incident_id = row.get_attribute("data-incident")
    assert re.fullmatch(r"INC-\d{4}-\d{4}", incident_id)
    # Shown in the page's digits, left to right (issue 12 item 27).
    assert row.locator("th").inner_text().strip() == variant.digits(incident_id)
    assert row.locator("time.started").get_attribute("datetime")
    assert _("Down") in page.locator("#systems").inner_text()

    # The citizen types the id they were given (lower case, short form) into the lookup box.
    label = _("Enter the incident id you were given")
    page.get_by_label(label).fill(incident_id.lower().replace("-000", "-"))
    page.get_by_role("button", name=_("Find the incident")).click()
    page.wait_for_url(re.compile(rf"{variant.prefix}/status/incidents/{incident_id}/$"))
    assert page.locator("#incident-id-value").inner_text() == variant.digits(incident_id)
    assert _("Not yet: the system is still affected.") in page.locator("#incident-end").inner_text()

    # A wrong id: the error is announced with the field, and focus stays there.
    page.goto(status)
    field = page.get_by_label(label)
    field.fill("INC-1300-0001")
    field.press("Enter")
    assert page.locator("#incident-id-error").inner_text() == (
        _("No incident has this id. Check the id and try again.")
    )
    assert page.get_by_label(label).get_attribute("aria-invalid") == "true"

    watched.control("civil", mode="normal")
    monitor.probe_round()
    monitor.probe_round()
    page.goto(status)
    assert page.locator("#summary").inner_text().strip().startswith(_("All systems are working."))
    resolved = page.locator(f'#recent-incidents tr[data-incident="{incident_id}"]')
    assert resolved.locator("time.ended").get_attribute("datetime")
    resolved.locator("a").click()
    assert page.locator("#incident-end").get_attribute("datetime")

    # The other language's page, with the same incident (Persian right to left).
    other = "/en" if variant.lang == "fa" else ""
    page.goto(f"{live_server.url}{other}/status/")
    assert page.locator("html").get_attribute("dir") == ("ltr" if other else "rtl")
    assert page.locator(f'tr[data-incident="{incident_id}"]').count() == 1
