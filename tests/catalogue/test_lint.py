"""The linter finds violations planted behind the operations' back, per agency."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from panjereh.catalogue import lint
from panjereh.catalogue.models import Service
from tests.factories import make_agency, make_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def planted():
    good = make_agency(code="good-agency")
    bad = make_agency(code="bad-agency")
    offline = make_agency(code="offline-agency", connection_status="not_connected")
    make_service(good)
    smart_docs = make_service(bad)
    exempt = make_service(bad)
    not_connected_smart = make_service(bad)
    connected_offline = make_service(offline, connected=False)
    # Rows written before a rule existed, or by hand: update() skips the operations on purpose.
    Service.objects.filter(pk=smart_docs.pk).update(
        smart_status="approved", documents_required=["تصویر کارت ملی"]
    )
    Service.objects.filter(pk=exempt.pk).update(scope="exempt", connected=False)
    Service.objects.filter(pk=not_connected_smart.pk).update(
        connected=False, smart_status="approved", service_id="1234567890"
    )
    Service.objects.filter(pk=connected_offline.pk).update(connected=True)
    empty = make_agency(code="empty-agency")
    return {"good": good, "bad": bad, "offline": offline, "empty": empty}


def test_lint_finds_each_planted_violation(planted):
    found = {(f.agency, f.code) for f in lint.lint()}
    assert ("bad-agency", "smart.documents") in found
    assert ("bad-agency", "exempt.unjustified") in found
    assert ("bad-agency", "catalogue.smart_not_connected") in found
    assert ("bad-agency", "id.malformed") in found
    assert ("offline-agency", "catalogue.connected_in_unconnected_agency") in found
    assert ("empty-agency", "catalogue.connected_agency_without_services") in found
    assert not any(agency == "good-agency" for agency, _ in found)


def test_lint_command_groups_by_agency_and_fails(planted):
    out = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("catalogue", "lint", "--agency", "bad-agency", "--format", "json", stdout=out)
    assert info.value.returncode == 1
    payload = json.loads(out.getvalue())
    assert [group["agency"] for group in payload["agencies"]] == ["bad-agency"]
    assert payload["total"] == len(payload["agencies"][0]["findings"]) >= 4


def test_lint_command_passes_a_clean_agency(planted):
    out = io.StringIO()
    with translation.override("en"):
        call_command("catalogue", "lint", "--agency", "good-agency", stdout=out)
    assert out.getvalue().strip() == "No problems found."
