"""The demo's sample citizens hold a certificate from the start (panjereh.demo.personal)."""

from __future__ import annotations

import pytest

from panjereh.demo.personal import seed_documents
from panjereh.personal import queries
from panjereh.services import definitions

pytestmark = pytest.mark.django_db


def test_sample_citizens_hold_a_valid_certificate_once():
    from panjereh.demo.management.commands.demo import sample_citizens
    from panjereh.identity.models import User

    definitions.load()
    citizens = sample_citizens("small")
    assert citizens
    issued = seed_documents("small", citizens, write=lambda _line: None)
    assert issued >= 1
    assert seed_documents("small", citizens, write=lambda _line: None) == 0  # once
    holders = User.objects.filter(national_code__in=[c["national_code"] for c in citizens])
    held = [d for user in holders for d in queries.documents_of(user)]
    assert len(held) == issued and all(d.status == "valid" for d in held)
    assert {d.kind for d in held} == {"certificate"}
