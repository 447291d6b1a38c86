"""Signed documents: verification online and offline, alteration, forgery, revocation,
key rotation, the PDF and its QR code."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.management import call_command

from panjereh.services import definitions, documents, engine, keys, workflow
from panjereh.services.models import Application, Document, FetchedData, State
from tests.factories import UserFactory, make_agency_staff

pytestmark = pytest.mark.django_db


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def issued():
    """An application carried to issuing with data as the exchange would have returned it
    (the engine's own path through real registries is tested in test_engine)."""
    definitions.load()
    user = UserFactory(national_code="0012345679", is_staff=False, assurance_level=3)
    application, _ = engine.submit(
        definitions.active("no-criminal-record"),
        user,
        idempotency_key="k",
        inputs={"purpose": "بانک ملی"},
    )
    FetchedData.objects.create(
        application=application,
        name="identity",
        record={
            "first_name": "مریم",
            "last_name": "کریمی",
            "father_name": "علی",
            "birth_date": "1990-01-02",
            "birth_date_jalali": "1368-10-12",
            "alive": True,
        },
    )
    FetchedData.objects.create(
        application=application, name="criminal", record={"has_record": False, "convictions": []}
    )
    workflow.transition(application, State.FETCHING)
    workflow.transition(application, State.DECIDING)
    engine.advance(application.pk)
    application.refresh_from_db()
    assert application.state == State.ISSUED
    return Document.objects.get(application=application)


def test_issued_once_and_valid(issued):
    application = issued.application
    # Running the issuing step again (a worker that crashed after issuing) adds nothing.
    Application.objects.filter(pk=application.pk).update(state=State.ISSUING)
    engine.advance(application.pk)
    assert Document.objects.filter(application=application).count() == 1
    result = documents.verify(issued.token)
    assert result.status == "valid"
    assert result.claims["sub"] == "0012345679"
    assert "مریم کریمی" in result.claims["text_fa"]


def test_an_altered_document_fails_with_a_clear_message(issued, client):
    header, payload, signature = issued.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["fields"][0][2] = "کس دیگری"
    altered = ".".join([header, _b64(json.dumps(claims, ensure_ascii=False).encode()), signature])
    result = documents.verify(altered)
    assert result.status == "invalid"
    assert "دست‌کاری یا جعل" in result.message_fa
    page = client.post("/services/verify/", {"token": altered}).content.decode()
    assert 'data-status="invalid"' in page and "دست‌کاری یا جعل" in page
    assert documents.verify("not a token").status == "invalid"


def test_a_forged_document_signed_with_another_key_fails(issued):
    from joserfc import jws
    from joserfc.jwk import ECKey

    header, payload, _signature = issued.token.split(".")
    protected = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    forger = ECKey.generate_key("P-256")
    forged = jws.serialize_compact(
        protected,
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)),
        forger,
        algorithms=["ES256"],
    )
    assert documents.verify(forged).status == "invalid"


def test_a_revoked_document_shows_revoked(issued, client):
    officer = make_agency_staff(issued.agency, username="judge")
    client.force_login(officer)
    client.post(
        f"/services/agency/a/{issued.application.tracking_code}/",
        {"action": "revoke", "note": "صدور اشتباه"},
    )
    issued.refresh_from_db()
    assert issued.revoked_at is not None
    assert documents.verify(issued.token).status == "revoked"
    from django.test import Client

    page = Client().get(f"/services/verify/?ref={issued.number}").content.decode()
    assert 'data-status="revoked"' in page and "ابطال" in page


def test_rotation_new_key_signs_old_documents_still_verify(issued, client):
    old_kid = issued.kid
    new = keys.rotate(issued.agency)
    assert new.kid != old_kid
    published = client.get("/services/jwks.json").json()
    kids = {k["kid"] for k in published["keys"]}
    assert {old_kid, new.kid} <= kids
    assert all("d" not in k for k in published["keys"])  # public halves only
    assert documents.verify(issued.token).status == "valid"
    token, kid = documents.sign(issued.agency, {"num": "x", "iss": issued.agency.code})
    assert kid == new.kid


def test_keys_are_encrypted_at_rest(issued):
    from panjereh.services.models import AgencyKey

    row = AgencyKey.objects.get(kid=issued.kid)
    private = json.dumps(keys.private_key(row).as_dict(private=True))
    d = json.loads(private)["d"]
    assert d not in row.private_encrypted


def test_pdf_has_the_token_and_offline_verification(issued, tmp_path, capsys):
    pdf = documents.render_pdf(issued)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    assert documents.token_from_file(pdf) == issued.token
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(keys.jwks()))
    call_command("services", "verify-document", str(path), "--jwks", str(jwks_file))
    assert "This document is valid" in capsys.readouterr().out
    # Offline, an altered token fails (exit status 1).
    header, payload, signature = issued.token.split(".")
    bad = tmp_path / "bad.jws"
    bad.write_text(".".join([header, payload[:-4] + "AAAA", signature]))
    with pytest.raises(SystemExit) as exit_:
        call_command("services", "verify-document", str(bad), "--jwks", str(jwks_file))
    assert exit_.value.code == 1
    assert "altered or forged" in capsys.readouterr().out


def test_the_qr_code_points_at_the_verification_page(issued):
    url = documents.verification_url(issued)
    assert "/services/verify/" in url
    assert issued.token in url or issued.number in url


def test_only_the_owner_downloads_the_pdf(issued, client):
    client.force_login(UserFactory(national_code="0023456780", is_staff=False))
    assert client.get(f"/services/documents/{issued.number}.pdf").status_code == 404
    client.force_login(issued.application.user)
    response = client.get(f"/services/documents/{issued.number}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_the_token_is_found_whatever_bytes_end_the_compressed_stream():
    """A compressed stream may end in a carriage return, which the "\\r?\\nendstream"
    delimiter would otherwise swallow (about one PDF in 256)."""
    import zlib

    from panjereh.services import documents

    token = "eyJhbGciOiJFUzI1NiJ9.eyJuIjoxfQ.c2ln"
    for n in range(5000):
        compressed = zlib.compress(f"<< /Keywords (panjereh-jws:{token}) /N {n} >>".encode())
        if compressed.endswith(b"\r"):
            break
    else:
        raise AssertionError("no sample ends in a carriage return")
    pdf = (
        b"%%PDF-1.7\n1 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(compressed)
        + compressed
        + b"\nendstream\nendobj\n%%EOF\n"
    )
    assert documents.token_from_file(pdf) == token
