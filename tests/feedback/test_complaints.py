"""Complaints about violations: evidence checks by content and size, tracking codes, routing
to the supervising body, handling with a reply in the inbox, and who may see what."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from panjereh.catalogue import roles
from panjereh.feedback import operations, queries, views
from panjereh.feedback.models import Complaint, ComplaintState, Evidence
from panjereh.inbox.models import Message

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
HTML = b"<!doctype html><script>alert(1)</script>"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _file(name: str, data: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def _submit(client, world, **extra):
    data = {
        "agency": str(world.agency.pk),
        "kind": "document_held",
        "description": "برای کارت ملی دوباره کپی شناسنامه خواستند",
    }
    data.update(extra)
    return client.post(reverse("feedback:complaint_new"), data)


def _evidence_files(world) -> list[Path]:
    folder = operations.evidence_dir()
    return list(folder.iterdir()) if folder.exists() else []


def test_complaint_with_evidence_is_stored_routed_and_tracked(world, settings):
    client = _client(world.citizen)
    response = _submit(client, world, evidence=[_file("receipt.pdf", PDF), _file("p.png", PNG)])
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert response["Location"] == reverse("feedback:complaint", args=[complaint.tracking_code])
    # A human-friendly code with a check digit.
    assert operations.normalize_tracking_code(complaint.tracking_code) == complaint.tracking_code
    assert complaint.tracking_code.startswith("C-") and len(complaint.tracking_code) == 10
    # Routed to the ministry above the agency, received, one event.
    assert complaint.routed_to == world.ministry
    assert complaint.state == ComplaintState.RECEIVED
    assert [e.to_state for e in complaint.events.all()] == ["received"]
    # Evidence: random names, outside the web root, content type from the bytes.
    rows = {e.original_name: e for e in Evidence.objects.filter(complaint=complaint)}
    assert rows["receipt.pdf"].content_type == "application/pdf"
    assert rows["p.png"].content_type == "image/png"
    files = _evidence_files(world)
    assert sorted(p.name for p in files) == sorted(e.stored_name for e in rows.values())
    for path in files:
        assert "receipt" not in path.name and "." not in path.name
        assert not str(path).startswith(str(settings.STATIC_ROOT))
        assert not str(path).startswith(str(settings.MEDIA_ROOT))
    assert {p.read_bytes() for p in files} == {PDF, PNG}
    # The citizen is told the code in the inbox.
    assert Message.objects.filter(
        user=world.citizen, dedupe_key=f"feedback:complaint:{complaint.tracking_code}:received"
    ).exists()


def test_pdf_that_is_really_html_is_refused_and_nothing_is_written(world):
    response = _submit(_client(world.citizen), world, evidence=[_file("evidence.pdf", HTML)])
    assert response.status_code == 400
    assert "از نوع PDF، JPEG یا PNG نیست" in response.context["error"]  # Persian first
    assert not Complaint.objects.exists() and not Evidence.objects.exists()
    assert _evidence_files(world) == []
    assert not Message.objects.exists()


def test_oversized_file_is_refused_and_nothing_is_written(world, settings):
    big = PDF + b"0" * settings.PANJEREH_FEEDBACK_MAX_UPLOAD_BYTES
    good = _file("ok.png", PNG, "image/png")
    response = _submit(_client(world.citizen), world, evidence=[good, _file("big.pdf", big)])
    assert response.status_code == 400
    assert "بزرگ\u200cتر از" in response.context["error"]
    assert not Complaint.objects.exists() and _evidence_files(world) == []


def test_the_bytes_decide_the_type_not_the_name(world):
    response = _submit(
        _client(world.citizen), world, evidence=[_file("photo.pdf", JPEG, "application/pdf")]
    )
    assert response.status_code == 302
    assert Evidence.objects.get().content_type == "image/jpeg"


def test_too_many_files_and_missing_fields_are_refused(world, settings):
    settings.PANJEREH_FEEDBACK_MAX_FILES = 1
    client = _client(world.citizen)
    two = [_file("a.pdf", PDF), _file("b.pdf", PDF)]
    assert _submit(client, world, evidence=two).status_code == 400
    assert _submit(client, world, kind="bribe").status_code == 400
    assert _submit(client, world, description=" ").status_code == 400
    assert _submit(client, world, agency="").status_code == 400
    assert _submit(client, world, service="1234567890").status_code == 400
    assert not Complaint.objects.exists() and _evidence_files(world) == []


def test_service_must_belong_to_the_agency(world):
    other_service = world.other_definition.service
    response = _submit(_client(world.citizen), world, service=other_service.service_id)
    assert response.status_code == 400
    own = world.definition.service
    assert _submit(_client(world.citizen), world, service=own.service_id).status_code == 302
    assert Complaint.objects.get().service == own


def test_tracking_codes_accept_persian_digits_and_catch_typos():
    code = operations.new_tracking_code()
    digits = code[2:]
    persian = "c" + digits.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert operations.normalize_tracking_code(persian) == code
    assert operations.normalize_tracking_code(digits) == code
    wrong = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    assert operations.normalize_tracking_code(wrong) is None
    swapped = digits[1] + digits[0] + digits[2:]
    # Luhn catches every swap of neighbours except 09 <-> 90.
    if swapped != digits and {digits[0], digits[1]} != {"0", "9"}:
        assert operations.normalize_tracking_code(swapped) is None
    assert operations.normalize_tracking_code("C-1234") is None
    assert operations.luhn_digit("7992739871") == "3"  # the textbook example


def test_follow_by_tracking_code_only_ones_own(world):
    complaint = operations.file_complaint(
        world.citizen, agency=world.agency, kind="in_person", description="Come in, they said"
    )
    client = _client(world.citizen)
    typed = complaint.tracking_code.replace("C-", "c ").lower()
    response = client.get(reverse("feedback:mine"), {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == reverse("feedback:complaint", args=[complaint.tracking_code])
    page = client.get(response["Location"])
    assert page.status_code == 200 and complaint.tracking_code in page.content.decode()
    # Someone else's code is not revealed.
    stranger = _client(world.stranger)
    lookup = stranger.get(reverse("feedback:mine"), {"code": complaint.tracking_code})
    assert lookup.status_code == 400
    assert (
        stranger.get(reverse("feedback:complaint", args=[complaint.tracking_code])).status_code
        == 404
    )
    assert client.get(reverse("feedback:mine"), {"code": "C-00000001"}).status_code == 400


def test_routing(world, settings):
    assert operations.supervising_body(world.agency) == world.ministry
    assert operations.supervising_body(world.other) is None
    settings.PANJEREH_FEEDBACK_SUPERVISOR = world.ministry.code
    assert operations.supervising_body(world.other) == world.ministry
    assert operations.supervising_body(world.ministry) is None  # never to itself
    from tests.factories import make_agency

    leaf = make_agency(code="leaf", parent=world.agency)
    assert operations.supervising_body(leaf) == world.ministry  # the top of the chain


def _steering(user):
    roles.ensure_groups()
    user.groups.add(Group.objects.get(name=roles.STEERING_WG))
    return user


def test_handling_moves_and_replies_to_the_inbox(world):
    complaint = operations.file_complaint(
        world.citizen, agency=world.agency, kind="payment", description="Cash at the desk"
    )
    # The agency complained about does not handle it; the ministry's staff do.
    assert not operations.can_handle(world.officer, complaint)
    assert operations.can_handle(world.ministry_officer, complaint)
    officer = _client(world.officer)
    url = reverse("feedback:complaint", args=[complaint.tracking_code])
    assert officer.get(url).status_code == 404
    assert officer.post(url, {"to_state": "upheld", "note": "x"}).status_code == 404
    handler = _client(world.ministry_officer)
    # A decision straight from "received" is not allowed; nor one without a reply.
    assert handler.post(url, {"to_state": "upheld", "note": "x"}).status_code == 400
    assert handler.post(url, {"to_state": "under_review"}).status_code == 302
    assert handler.post(url, {"to_state": "upheld", "note": " "}).status_code == 400
    complaint.refresh_from_db()
    assert complaint.state == ComplaintState.UNDER_REVIEW
    response = handler.post(url, {"to_state": "upheld", "note": "The agency was told to stop."})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.state == ComplaintState.UPHELD and complaint.decided_at
    assert [e.to_state for e in complaint.events.all()] == ["received", "under_review", "upheld"]
    message = Message.objects.get(
        user=world.citizen, dedupe_key=f"feedback:complaint:{complaint.tracking_code}:upheld"
    )
    assert message.body_fa == "The agency was told to stop."
    # Closed: no more moves.
    with pytest.raises(operations.FeedbackError):
        operations.move(complaint, ComplaintState.NOT_UPHELD, world.ministry_officer, "x")


def test_steering_wg_handles_complaints_about_agencies_without_a_parent(world):
    complaint = operations.file_complaint(
        world.citizen, agency=world.other, kind="identity_again", description="ID copy again"
    )
    assert complaint.routed_to is None
    assert not operations.can_handle(world.ministry_officer, complaint)
    steering = _steering(world.ministry_officer)
    steering._panjereh_roles = None
    del steering._panjereh_roles
    assert operations.can_handle(steering, complaint)
    page = _client(steering).get(reverse("feedback:oversight"))
    assert complaint.tracking_code in page.content.decode()


def test_evidence_download_for_owner_and_handler_only(world):
    complaint = operations.file_complaint(
        world.citizen,
        agency=world.agency,
        kind="document_held",
        description="x",
        files=[_file("scan.pdf", PDF)],
    )
    evidence = complaint.evidence.get()
    url = reverse("feedback:evidence", args=[complaint.tracking_code, evidence.pk])
    for user in (world.citizen, world.ministry_officer):
        response = _client(user).get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
    for user in (world.stranger, world.officer):
        assert _client(user).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to sign-in


def test_complaint_rate_limit(world):
    from panjereh.feedback import views

    client = _client(world.citizen)
    for _ in range(views.COMPLAINTS_FILED.limit):
        assert _submit(client, world).status_code == 302
    response = _submit(client, world)
    assert response.status_code == 429
    assert Complaint.objects.count() == views.COMPLAINTS_FILED.limit
    assert _evidence_files(world) == []


def test_public_counts_per_agency_by_kind_and_outcome_without_personal_data(world):
    made = []
    for kind in ("document_held", "document_held", "in_person", "payment"):
        made.append(
            operations.file_complaint(
                world.citizen, agency=world.agency, kind=kind, description=f"secret {kind}"
            )
        )
    made.append(
        operations.file_complaint(
            world.stranger, agency=world.other, kind="payment", description="secret other"
        )
    )
    operations.move(made[0], "under_review", world.ministry_officer)
    operations.move(made[0], "not_upheld", world.ministry_officer, "No rule was broken.")
    counts = queries.complaint_counts()
    assert counts[world.agency.pk]["total"] == 4
    assert counts[world.agency.pk]["kinds"]["document_held"] == 2
    assert counts[world.agency.pk]["states"] == {
        "received": 3, "under_review": 0, "upheld": 0, "not_upheld": 1,
    }  # fmt: skip
    assert counts[world.other.pk]["kinds"]["payment"] == 1
    response = Client().get("/en" + reverse("feedback:public"))
    assert response.status_code == 200
    html = response.content.decode()
    table = html.split('id="agency-complaints"')[1].split("</table>")[0]
    row = table.split('data-agency="agency-a"')[1].split("</tr>")[0]
    assert 'data-kind="document_held">2<' in row
    assert 'data-state="not_upheld">1<' in row
    assert 'data-figure="complaints">4<' in row
    for private in ("secret", world.citizen.last_name, world.citizen.national_code, "C-"):
        assert private not in html


def test_oversized_request_is_refused_with_413_before_the_upload_is_read(world, settings):
    settings.PANJEREH_FEEDBACK_MAX_FILES = 2
    limit = operations.upload_request_limit()
    assert limit == 2 * settings.PANJEREH_FEEDBACK_MAX_UPLOAD_BYTES + operations.UPLOAD_MARGIN
    # The CSRF check reads the body, so it must come after the size check: with CSRF enforced
    # and no token, an oversized request is still answered 413 (not 403).
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.citizen)
    big = _file("big.pdf", PDF + b"0" * limit)
    response = _submit(client, world, evidence=[big])
    assert response.status_code == 413
    html = response.content.decode()
    # The Persian message (its msgid is in the lead's merge list until compiled).
    with translation.override("fa"):
        expected = gettext(
            "The files are too large: at most %(mb)s MB each, up to %(n)s files."
        ) % {"mb": operations.megabytes(settings.PANJEREH_FEEDBACK_MAX_UPLOAD_BYTES), "n": 2}
    assert response.context["error"] == expected
    assert 'id="form-error"' in html and 'id="id_evidence-error"' in html
    assert 'aria-invalid="true"' in html
    assert not Complaint.objects.exists() and not Evidence.objects.exists()
    assert _evidence_files(world) == [] and not Message.objects.exists()
    # English page, the same refusal.
    english = client.post(
        "/en" + reverse("feedback:complaint_new"),
        {
            "agency": str(world.agency.pk),
            "kind": "payment",
            "description": "x",
            "evidence": _file("big.pdf", PDF + b"0" * limit),
        },
    )
    assert english.status_code == 413
    assert "The files are too large" in english.content.decode()
    assert not Complaint.objects.exists()
    # A request of an acceptable size still needs its CSRF token.
    assert _submit(client, world).status_code == 403
    assert not Complaint.objects.exists()
    # The request's declared length decides, not what Django would have stored.
    request = RequestFactory().generic(
        "POST",
        reverse("feedback:complaint_new"),
        b"x" * (limit + 1),
        content_type="multipart/form-data; boundary=never-parsed",
    )
    request.user = world.citizen
    request.session = {}
    assert views.complaint_new(request).status_code == 413
    assert request.read() == b""  # read off the connection, so the next request is answered
    # Just under the limit is read as usual (and refused for the file itself: 400).
    small = _file("small.pdf", PDF + b"0" * settings.PANJEREH_FEEDBACK_MAX_UPLOAD_BYTES)
    assert _submit(_client(world.citizen), world, evidence=[small]).status_code == 400
    assert not Complaint.objects.exists()


def test_complaint_form_marks_the_field_in_error(world):
    client = _client(world.citizen)
    cases = {
        "agency": {"agency": ""},
        "service": {"service": "1234567890"},
        "kind": {"kind": "bribe"},
        "description": {"description": " "},
        "evidence": {"evidence": [_file("x.pdf", HTML)]},
    }
    for field, extra in cases.items():
        response = _submit(client, world, **extra)
        assert response.status_code == 400, field
        html = response.content.decode()
        error_id = f"id_{field}-error"
        assert f'id="{error_id}"' in html, field
        assert html.count('aria-invalid="true"') >= 1, field
        if field == "kind":  # a radio group: every radio and the fieldset
            assert html.count(f'aria-invalid="true" aria-describedby="{error_id}"') == 4
            assert f'id="id_kind-group" aria-describedby="{error_id}"' in html
        else:
            tag = html.split(f'id="id_{field}"')[1].split(">")[0]
            assert 'aria-invalid="true"' in tag and error_id in tag, field
        # Only that field is marked.
        others = [f for f in cases if f != field]
        for other in others:
            assert f'id="id_{other}-error"' not in html, (field, other)
    # No error: nothing marked invalid.
    page = client.get(reverse("feedback:complaint_new"))
    assert "aria-invalid" not in page.content.decode()
    assert not Complaint.objects.exists()


def test_rating_form_marks_the_field_in_error(world):
    app = world.finished()
    client = _client(world.citizen)
    url = reverse("feedback:rate", args=[app.tracking_code])
    response = client.post(url, {"ease": "4", "satisfaction": "9"})
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count('aria-invalid="true" aria-describedby="id_satisfaction-error"') == 5
    assert 'id="id_satisfaction-error"' in html and 'id="id_ease-error"' not in html
    response = client.post(url, {"ease": "", "satisfaction": "3"})
    assert 'id="id_ease-error"' in response.content.decode()
    response = client.post(url, {"ease": "3", "satisfaction": "3", "comment": "x" * 2001})
    tag = response.content.decode().split('id="id_comment"')[1].split(">")[0]
    assert 'aria-invalid="true"' in tag and "comment-hint id_comment-error" in tag
    assert not client.get(url).content.decode().count("aria-invalid")
