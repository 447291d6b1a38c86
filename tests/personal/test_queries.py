"""personal.queries: what a person holds, with its status from the agencies' status lists."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import translation

from panjereh.catalogue import roles
from panjereh.personal import queries
from panjereh.services import documents

pytestmark = pytest.mark.django_db


def test_a_certificate_is_held_by_its_applicant_only(holder, other, certificate):
    with translation.override("en"):
        held = queries.documents_of(holder)
    assert [d.reference for d in held] == [f"cert-{certificate.number}"]
    doc = held[0]
    assert doc.kind == "certificate" and doc.kind_label == "Certificate"
    assert doc.status == "valid" and doc.status_label == "Valid"
    assert doc.token == certificate.token and doc.number == certificate.number
    assert doc.issuer == certificate.agency.name_en
    assert doc.pdf_url.endswith(f"{certificate.number}.pdf")
    assert queries.documents_of(other) == []
    assert queries.document_of(other, doc.reference) is None
    with translation.override("en"):
        assert queries.document_of(holder, doc.reference) == doc


def test_a_revoked_certificate_shows_revoked_from_the_status_list(holder, certificate):
    documents.revoke(certificate, "wrong", actor=roles.SYSTEM)
    # The status list was rebuilt after the revocation (the cache entry dropped on commit).
    book = queries.StatusBook()
    (doc,) = queries.documents_of(holder, book)
    assert doc.status == "revoked"
    assert book.fetched == 1


def test_an_expired_certificate_shows_expired(holder, certificate):
    exp = queries.claims_of(certificate.token).get("exp")
    assert exp, "the no-criminal-record certificate has a validity"
    later = dt.datetime.fromtimestamp(exp, tz=dt.UTC) + dt.timedelta(days=1)
    with time_machine.travel(later, tick=False):
        (doc,) = queries.documents_of(holder)
    assert doc.status == "expired"


@pytest.mark.parametrize("reference", ["", "cert-", "x-1", "cert-" + "9" * 200, "cert-\x00"])
def test_bad_references_find_nothing(holder, certificate, reference):
    assert queries.document_of(holder, reference) is None
