"""Issuing a permit: the ID, the signed document, the PDF with its QR code, the holder told."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from panjereh.inbox.models import Message
from panjereh.permits import issuing
from panjereh.permits.models import ApplicationState, IssuedPermit, PermitEvent
from panjereh.services import documents, keys

from .issued_support import make_application

pytestmark = pytest.mark.django_db

pytest_plugins = ["tests.permits.issued_support"]


def test_number_has_twelve_digits_and_a_check_digit(issued):
    assert issuing.valid_number(issued.number)
    wrong = issued.number[:-1] + str((int(issued.number[-1]) + 1) % 10)
    assert not issuing.valid_number(wrong)


def test_issue_signs_the_permit_with_the_authority_agency_key(issued, authority):
    assert issued.token and issued.kid.startswith(authority.agency.code)
    result = documents.verify_signature(issued.token, keys.jwks())
    assert result.status == "valid"
    claims = result.claims
    assert claims["num"] == issued.number
    assert claims["iss"] == authority.agency.code and claims["auth"] == authority.code
    assert claims["ptype"] == issued.permit.public_id
    assert claims["holder"] == "مریم احمدی"
    assert claims["business"] == "نانوایی سنگک برکت" and claims["province"] == "تهران"
    assert claims["valid_from"] == issued.valid_from.isoformat()
    assert claims["valid_until"] == issued.valid_until.isoformat()
    assert claims["url"].endswith(f"/permits/p/{issued.number}/")
    # No national code or other private particular in the public document.
    assert "national_code" not in issued.token
    assert issuing.verify(issued.token).status == "valid"


def test_issue_is_idempotent(published, holder):
    application = make_application(published, holder)
    first = issuing.issue(application)
    again = issuing.issue(application)
    assert first.pk == again.pk
    assert IssuedPermit.objects.filter(application=application).count() == 1
    assert PermitEvent.objects.filter(issued=first).count() == 1
    assert (
        Message.objects.filter(user=holder, dedupe_key=f"permit:{first.number}:issued").count() == 1
    )
    application.refresh_from_db()
    assert application.state == ApplicationState.ISSUED


def test_holder_is_told_in_persian_with_jalali_dates(issued, holder):
    message = Message.objects.get(user=holder, dedupe_key=f"permit:{issued.number}:issued")
    assert message.kind == Message.Kind.DOCUMENT
    assert "مجوز صادر شد" in message.subject_fa
    number_fa = issued.number.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert number_fa in message.body_fa
    assert issued.number not in message.body_fa  # no Latin digits in the Persian text
    from panjereh.common import jalali

    assert jalali.format_fa(issued.valid_until) in message.body_fa
    assert message.document_url.endswith(f"/permits/p/{issued.number}/pdf/")


def test_authority_without_agency_is_signed_by_the_platform_operator(published, holder, authority):
    from tests.factories import make_agency

    platform = make_agency(code="ito", name_fa="سازمان فناوری اطلاعات", name_en="ITO")
    authority.agency = None
    authority.save()
    published.authority.refresh_from_db()
    issued = issuing.issue(make_application(published, holder))
    claims = documents.verify_signature(issued.token, keys.jwks()).claims
    assert claims["iss"] == platform.code and claims["auth"] == authority.code


def test_authority_without_agency_and_no_platform_agency_is_issued_unsigned(
    published, holder, authority, settings
):
    settings.PANJEREH_PERMITS_SIGNING_AGENCY = "no-such-agency"
    authority.agency = None
    authority.save()
    published.authority.refresh_from_db()
    issued = issuing.issue(make_application(published, holder))
    assert issued.token == "" and issuing.valid_number(issued.number)


def test_a_forged_or_altered_token_does_not_verify(issued):
    header, payload, signature = issued.token.split(".")
    altered = f"{header}.{payload[:-4]}AAAA.{signature}"
    assert issuing.verify(altered).status == "invalid"
    assert issuing.verify("not a token").status == "invalid"
    assert issuing.verify("").status == "invalid"


def test_pdf_carries_the_qr_to_the_public_page_and_the_token(issued):
    html = issuing.pdf_html(issued)
    assert "data:image/svg+xml;base64," in html
    assert issuing.public_url(issued.number) in html
    assert f"panjereh-jws:{issued.token}" in html
    number_fa = issued.number.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert number_fa in html
    pdf = issuing.render_pdf(issued)
    assert pdf.startswith(b"%PDF")
    assert documents.token_from_file(pdf) == issued.token


def test_issue_is_fast_and_does_not_print(published, holder):
    """Issuing signs in the same transaction but prints no PDF (that waits for a download)."""
    issuing.issue(make_application(published, holder))  # warm the key cache
    application = make_application(published, holder)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        issuing.issue(application)
        elapsed = time.perf_counter() - started
    assert elapsed < 0.5
    assert len(queries) <= 20


def test_admin_shows_issued_permits_and_ratings_read_only(issued, customer):
    from django.test import Client

    from panjereh.permits import ratings
    from tests.factories import UserFactory

    rating = ratings.rate(customer, issued, stars=5)
    admin = UserFactory(is_superuser=True)
    client = Client()
    client.force_login(admin)
    for url in [
        "/admin/permits/issuedpermit/",
        f"/admin/permits/issuedpermit/{issued.pk}/change/",
        "/admin/permits/holderrating/",
        f"/admin/permits/holderrating/{rating.pk}/change/",
    ]:
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/permits/issuedpermit/add/").status_code == 403
