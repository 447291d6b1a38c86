"""Signed documents: verification online and offline, alteration, forgery, revocation,
key rotation, the PDF and its QR code."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.management import call_command

from panjereh.services import documents, engine, keys
from panjereh.services.models import Application, Document, State
from tests.factories import UserFactory, issue_certificate, make_agency, make_agency_staff

pytestmark = pytest.mark.django_db


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def issued():
    """An application carried to issuing with data as the exchange would have returned it
    (the engine's own path through real registries is tested in test_engine)."""
    user = UserFactory(national_code="0012345679", is_staff=False, assurance_level=3)
    return issue_certificate(user, key="k")


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


# -- offline revocation: the agency's status list ---------------------------------------------


def _save(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_document_names_its_place_in_its_agencys_status_list(issued, client):
    reference = documents.claims_of(issued)["status"]["status_list"]
    assert reference["idx"] == issued.pk
    assert reference["uri"].endswith(f"/services/status/{issued.agency.code}.jwt")
    response = client.get(f"/services/status/{issued.agency.code}.jwt")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/statuslist+jwt"
    header, payload, _sig = response.content.decode().split(".")
    header = json.loads(base64.urlsafe_b64decode(header + "=="))
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert header["typ"] == "statuslist+jwt" and header["kid"] == issued.kid
    assert claims["sub"] == reference["uri"] and claims["status_list"]["bits"] == 1
    assert claims["exp"] > claims["iat"] and claims["ttl"] > 0
    assert documents.status_bit(claims["status_list"]["lst"], issued.pk) == 0
    assert client.get("/services/status/no-such-agency.jwt").status_code == 404


def test_bits_are_least_significant_first_as_the_draft_says():
    # draft-ietf-oauth-status-list, 1-bit example: indices 0, 3, 5 revoked -> first byte 0x29.
    lst = documents.encode_status_bits([0, 3, 5], 7)
    assert documents.zlib.decompress(base64.urlsafe_b64decode(lst + "==")) == b"\x29"
    assert [documents.status_bit(lst, i) for i in range(8)] == [1, 0, 0, 1, 0, 1, 0, 0]


def test_offline_verification_sees_a_revocation_through_the_status_list(
    issued, client, tmp_path, capsys, django_capture_on_commit_callbacks
):
    jwks = _save(tmp_path, "jwks.json", json.dumps(keys.jwks()))
    token = _save(tmp_path, "doc.jws", issued.token)
    before = _save(
        tmp_path,
        "before.jwt",
        client.get(f"/services/status/{issued.agency.code}.jwt").content.decode(),
    )
    call_command("services", "verify-document", token, "--jwks", jwks, "--status-list", before)
    assert "This document is valid" in capsys.readouterr().out
    # Without a list the verifier is told revocation was not checked.
    call_command("services", "verify-document", token, "--jwks", jwks)
    assert "revocation not checked" in capsys.readouterr().err
    with django_capture_on_commit_callbacks(execute=True):  # the list is rebuilt at once
        documents.revoke(issued, "صدور اشتباه", actor=make_agency_staff(issued.agency))
    after = _save(
        tmp_path,
        "after.jwt",
        client.get(f"/services/status/{issued.agency.code}.jwt").content.decode(),
    )
    with pytest.raises(SystemExit) as exit_:
        call_command("services", "verify-document", token, "--jwks", jwks, "--status-list", after)
    assert exit_.value.code == 1
    assert "has revoked this document" in capsys.readouterr().out


def test_a_forged_stale_or_foreign_status_list_is_not_trusted(issued, client):
    from django.utils import timezone

    from panjereh.services.models import AgencyKey

    result = documents.verify_signature(issued.token, keys.jwks())
    genuine = client.get(f"/services/status/{issued.agency.code}.jwt").content.decode()
    assert documents.check_status(result, genuine, keys.jwks()).status == "valid"
    header, payload, signature = genuine.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    row = AgencyKey.objects.get(kid=issued.kid)

    def signed(changes: dict, typ: str = documents.STATUS_LIST_TYPE, agency=None) -> str:
        signer = keys.active_key(agency, AgencyKey.Use.SIGN) if agency else row
        return documents.jws.serialize_compact(
            {"alg": "ES256", "kid": signer.kid, "typ": typ},
            json.dumps({**claims, **changes}).encode(),
            keys.private_key(signer),
            algorithms=["ES256"],
        )

    other = make_agency(code="other-agency")
    cases = {
        "altered": ".".join([header, _b64(json.dumps({**claims, "ttl": 1}).encode()), signature]),
        "expired": signed({"exp": int(timezone.now().timestamp()) - 1}),
        "another list": signed({"sub": claims["sub"].replace(issued.agency.code, "x")}),
        "not a status list": signed({}, typ="JWT"),
        "another agency's key": signed({}, agency=other),
        # A list that ends before the document's index.
        "too short": signed(
            {"status_list": {"bits": 1, "lst": _b64(documents.zlib.compress(b""))}}
        ),
    }
    for name, forged in cases.items():
        checked = documents.check_status(result, forged, keys.jwks())
        assert checked.status == "unchecked" and not checked.ok, name
        assert "cannot be confirmed" in checked.message_en


def test_a_taken_document_number_is_drawn_again(issued, monkeypatch):
    application = issued.application
    second, _ = engine.submit(
        application.definition,
        application.user,
        idempotency_key="k2",
        inputs={"purpose": "بانک ملی"},
    )
    taken = issued.number.rsplit("-", 1)[1].lower()
    draws = iter([taken, "0badc0de"])
    monkeypatch.setattr(documents.secrets, "token_hex", lambda _n: next(draws))
    data = {f.name: f.record for f in application.fetched.all()}
    data.update(input=dict(second.inputs), subject=second.subject_code)
    document = documents.issue(second, data)
    assert document.number.endswith("-0BADC0DE") and document.application_id == second.pk
    assert documents.issue(second, data).pk == document.pk  # a re-run returns the one issued
