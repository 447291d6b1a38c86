"""A human-path service (not smart: typed inputs, uploads and in-person steps, each with its
reason) runs end to end in the window: the apply page asks for the inputs and the files, the
files are checked by their content and stored with their SHA-256, the application waits in the
agency's queue with its target time, the officer sees the typed data and opens the files, and
decides; only the applicant and the agency's staff open a file, only the agency's deciders
decide."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.catalogue.models import Service
from panjereh.services import definitions, engine, uploads
from panjereh.services.models import Application, Document, JourneyEvent, State, Upload
from tests.factories import UserFactory, make_agency, make_agency_staff
from tests.services.paying import settle_fee

pytestmark = pytest.mark.django_db

CODE = "recreational-fishing-licence"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _var(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.PANJEREH_SERVICES_UPLOAD_STORAGE = None
    return tmp_path


@pytest.fixture
def definition():
    result = definitions.load()
    assert not result.refused, result.refused
    return definitions.active(CODE)


def person(code: str, level: int = 3):
    return UserFactory(
        national_code=code, is_staff=False, assurance_level=level, mobile="09120000000"
    )


def pdf(name: str = "course.pdf", data: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def apply(client, form: dict, *, lang: str = "") -> object:
    return client.post(f"{lang}/services/apply/{CODE}/", form)


def applied(definition, user, key: str = "k1") -> Application:
    application, created = engine.submit(
        definition,
        user,
        idempotency_key=key,
        inputs={"fishing_area": "دریای خزر"},
        files={"safety_course": pdf()},
    )
    assert created
    settle_fee(application)  # the licence has a fee (paying it: tests/services/test_fees.py)
    engine.advance(application.pk)
    application.refresh_from_db()
    return application


# -- the definition -----------------------------------------------------------------------------


def test_the_definition_is_human_path_with_reasons_and_a_fee(definition):
    spec = definition.spec
    assert definition.smart is False and spec["data"] == []
    assert all(u["reason"].strip() for u in spec["uploads"])
    assert all(s["reason"].strip() for s in spec["in_person_steps"])
    card = Service.objects.get(service_id=spec["service_id"])
    assert card.fee == spec["fee_rials"] == 1_500_000
    assert card.documents_required == ["گواهی دوره ایمنی صید"]
    assert card.in_person_steps == ["بازدید ایمنی قایق در اداره شیلات استان"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda s: s["uploads"][0].update(reason="  "), "needs the reason the applicant"),
        (lambda s: s["uploads"][0].pop("reason"), "needs the reason the applicant"),
        (lambda s: s["in_person_steps"].append("مراجعه به دفتر"), "cannot be done online"),
        (lambda s: s["in_person_steps"][0].update(reason=""), "cannot be done online"),
        (lambda s: s["uploads"].append(dict(s["uploads"][0])), "its own code"),
        (lambda s: s.update(fee_rials=-1), "fee_rials"),
        (lambda s: s.update(fee_rials="1000"), "fee_rials"),
        (lambda s: s.update(fee_rials=1.5), "fee_rials"),
    ],
    ids=["blank_reason", "no_reason", "bare_step", "step_no_reason", "twin", "neg", "text", "frac"],
)
def test_validate_refuses_an_upload_or_visit_without_its_reason_and_a_bad_fee(change, words):
    spec = copy.deepcopy(definitions.read_file(definitions.DEFINITIONS_DIR / f"{CODE}.json"))
    assert definitions.validate(spec) == []
    change(spec)
    problems = definitions.validate(spec)
    assert any(words in problem for problem in problems), problems


# -- the apply page -----------------------------------------------------------------------------


def test_the_apply_page_asks_for_inputs_files_visits_and_shows_the_fee(definition, client):
    client.force_login(person("0012345679"))
    page = client.get(f"/services/apply/{CODE}/").content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'id="id_fishing_area"' in page and 'id="id_boat_name"' in page
    assert 'type="file" id="id_safety_course"' in page
    assert "آموزشگاه‌های خصوصی" in page  # the upload's reason
    assert "بازدید ایمنی قایق" in page and "آیین‌نامه صید تفریحی" in page
    assert "۱٬۵۰۰٬۰۰۰ ریال" in page  # Persian digits, rials
    assert 'id="fee-notice"' in page
    english = client.get(f"/en/services/apply/{CODE}/").content.decode()
    assert "1,500,000 rials" in english and "Fishing safety course certificate" in english


def test_a_good_application_is_stored_with_its_file_and_goes_to_the_queue(definition, client):
    user = person("0012345679")
    client.force_login(user)
    response = apply(
        client,
        {"fishing_area": "دریای خزر", "boat_name": "", "safety_course": pdf("my-course.pdf")},
    )
    assert response.status_code == 302
    application = Application.objects.get(user=user)
    row = Upload.objects.get(application=application)
    assert row.code == "safety_course" and row.content_type == "application/pdf"
    assert row.sha256 == hashlib.sha256(PDF).hexdigest() and row.size == len(PDF)
    stored = uploads.storage().path(row.stored_name)
    assert open(stored, "rb").read() == PDF
    assert "my-course" not in row.stored_name  # stored under a random name
    assert row.original_name == "my-course.pdf"
    assert application.inputs == {"fishing_area": "دریای خزر", "boat_name": ""}
    assert application.events.filter(kind=JourneyEvent.Kind.SUBMITTED).count() == 2
    assert application.state == State.AWAITING_PAYMENT  # its fee first
    settle_fee(application)
    engine.advance(application.pk)
    application.refresh_from_db()
    assert application.state == State.HUMAN_REVIEW
    assert "بررسی گواهی دوره ایمنی" in application.review_reason
    # The target time is the definition's (three days), counted from the payment.
    paid = application.events.get(to_state=State.SUBMITTED).at
    expected = paid + dt.timedelta(minutes=definition.target_minutes)
    assert abs((application.due_at - expected).total_seconds()) < 5
    page = client.get(reverse("services:detail", args=[application.tracking_code])).content
    page = page.decode()
    assert 'id="in-person"' in page and "بازدید ایمنی قایق" in page
    assert 'id="uploads"' in page and "گواهی دوره ایمنی صید" in page


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        ({"fishing_area": "خزر"}, "safety_course", "Choose the file"),
        ({"safety_course": "pdf"}, "fishing_area", "Enter"),
        ({"fishing_area": "خزر", "safety_course": "exe"}, "safety_course", "PDF, JPEG or PNG"),
        ({"fishing_area": "خزر", "safety_course": "html"}, "safety_course", "PDF, JPEG or PNG"),
        ({"fishing_area": "خزر", "safety_course": "empty"}, "safety_course", "empty"),
        ({"fishing_area": "خزر", "safety_course": "big"}, "safety_course", "larger than"),
        ({"fishing_area": "a\u202eb", "safety_course": "pdf"}, "fishing_area", "not allowed"),
        ({"fishing_area": "a\x07b", "safety_course": "pdf"}, "fishing_area", "not allowed"),
        ({"fishing_area": "x" * 121, "safety_course": "pdf"}, "fishing_area", "at most"),
    ],
    ids=["no_file", "no_input", "exe", "html_named_pdf", "empty", "big", "bidi", "bell", "long"],
)
def test_bad_input_gets_the_error_summary_keeps_the_form_and_stores_nothing(
    definition, client, settings, form, field, words
):
    settings.PANJEREH_SERVICES_UPLOAD_MAX_BYTES = 1024
    files = {
        "pdf": pdf(),
        "exe": SimpleUploadedFile("x.pdf", b"MZ\x90\x00" + b"\x00" * 40),
        "html": SimpleUploadedFile("x.pdf", b"<html><script>alert(1)</script></html>"),
        "empty": SimpleUploadedFile("x.pdf", b""),
        "big": pdf(data=PDF + b"0" * 2048),
    }
    if "safety_course" in form:
        form = {**form, "safety_course": files[form["safety_course"]]}
    client.force_login(person("0012345679"))
    response = apply(client, form, lang="/en")
    assert response.status_code == 400
    page = response.content.decode()
    assert page.index('class="error-summary"') < page.index("<h1>")
    assert f'href="#id_{field}"' in page and words in page
    assert f'id="id_{field}-error"' in page
    if form.get("fishing_area") == "خزر":
        assert 'value="خزر"' in page  # the form is kept
    assert not Application.objects.exists() and not Upload.objects.exists()
    assert not any((settings.VAR_DIR / "media").rglob("*.*"))


def test_the_persian_error_is_in_persian(definition, client):
    client.force_login(person("0012345679"))
    page = apply(client, {"fishing_area": "خزر"}).content.decode()
    assert "پرونده «گواهی دوره ایمنی صید» را انتخاب کنید" in page


def test_a_body_over_the_limit_is_refused_unread(definition, client, settings):
    settings.PANJEREH_SERVICES_UPLOAD_MAX_BYTES = 1024
    client.force_login(person("0012345679"))
    big = pdf(data=PDF + b"0" * 400 * 1024)
    response = apply(client, {"fishing_area": "خزر", "safety_course": big}, lang="/en")
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert not Application.objects.exists()


def test_a_nul_byte_in_a_field_is_refused_and_nothing_changes(definition, client):
    client.force_login(person("0012345679"))
    response = apply(client, {"fishing_area": "a\x00b", "safety_course": pdf()}, lang="/en")
    assert response.status_code == 400
    assert not Application.objects.exists() and not Upload.objects.exists()


def test_the_apply_form_needs_its_csrf_token(definition):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(person("0012345679"))
    response = strict.post(
        f"/services/apply/{CODE}/", {"fishing_area": "خزر", "safety_course": pdf()}
    )
    assert response.status_code == 403
    assert not Application.objects.exists()


# -- the officer ------------------------------------------------------------------------------


@pytest.fixture
def cast(definition):
    """The applicant, another citizen, staff of another agency, and the agency's viewer,
    editor and admin, plus a platform supervisor (AEO) and a superuser."""
    roles.ensure_groups()
    other_agency = make_agency(code="other-agency")
    aeo = UserFactory()
    aeo.groups.add(Group.objects.get(name=roles.AEO))
    return {
        "applicant": person("0012345679"),
        "other_citizen": person("0499370899"),
        "other_agency_staff": make_agency_staff(other_agency, "admin"),
        "agency_viewer": make_agency_staff(definition.agency, "viewer"),
        "agency_editor": make_agency_staff(definition.agency, "editor"),
        "agency_admin": make_agency_staff(definition.agency, "admin"),
        "aeo": aeo,
        "superuser": UserFactory(is_superuser=True),
    }


OPENS = {"applicant", "agency_viewer", "agency_editor", "agency_admin"}
DECIDES = {"agency_editor", "agency_admin", "superuser"}


@pytest.mark.parametrize(
    "who",
    [
        "applicant",
        "other_citizen",
        "other_agency_staff",
        "agency_viewer",
        "agency_editor",
        "agency_admin",
        "aeo",
        "superuser",
    ],
)
def test_who_opens_a_file_and_who_decides(definition, cast, client, who):
    application = applied(definition, cast["applicant"])
    row = application.uploads.get()
    actor = cast[who]
    # The operation.
    if who in OPENS:
        with uploads.open_upload(row, actor) as handle:
            assert handle.read() == PDF
    else:
        with pytest.raises(roles.NotPermitted):
            uploads.open_upload(row, actor)
    # The page: the same answer (404 for those who may not know the file exists).
    client.force_login(actor)
    response = client.get(reverse("services:upload", args=[application.tracking_code, row.pk]))
    if who in OPENS:
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert "attachment" in response["Content-Disposition"]
        assert application.tracking_code in response["Content-Disposition"]
        assert "sandbox" in response["Content-Security-Policy"]
    else:
        assert response.status_code == 404
    # Deciding.
    if who in DECIDES:
        engine.decide_by_officer(application, actor, approved=False, note="گواهی نامعتبر است")
        application.refresh_from_db()
        assert application.state == State.REJECTED
    else:
        with pytest.raises(roles.NotPermitted):
            engine.decide_by_officer(application, actor, approved=False, note="no")
        application.refresh_from_db()
        assert application.state == State.HUMAN_REVIEW


def test_an_anonymous_visitor_opens_no_file(definition, cast, client):
    application = applied(definition, cast["applicant"])
    row = application.uploads.get()
    response = client.get(reverse("services:upload", args=[application.tracking_code, row.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]
    # A file is never served from a public address.
    assert not client.get(f"/media/uploads/{row.stored_name}").status_code == 200


def test_the_officer_sees_typed_data_and_files_and_approves_to_a_signed_document(
    definition, cast, client
):
    from panjereh.services import documents

    application = applied(definition, cast["applicant"])
    officer = cast["agency_editor"]
    client.force_login(officer)
    queue = client.get("/services/agency/").content.decode()
    assert application.tracking_code in queue.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    url = reverse("services:agency_detail", args=[application.tracking_code])
    page = client.get(url).content.decode()
    assert "دریای خزر" in page and "منطقه صید" in page
    row = application.uploads.get()
    assert reverse("services:upload", args=[application.tracking_code, row.pk]) in page
    assert 'id="approve"' in page
    response = client.post(url, {"action": "approve", "note": ""})
    assert response.status_code == 302
    engine.advance(application.pk)  # the worker issues the document
    application.refresh_from_db()
    assert application.state == State.ISSUED
    document = Document.objects.get(application=application)
    claims = documents.verify(document.token).claims
    assert "دریای خزر" in claims["text_fa"]
    # The applicant sees the outcome.
    client.force_login(cast["applicant"])
    page = client.get(reverse("services:detail", args=[application.tracking_code])).content
    assert b'id="document"' in page and document.number.encode() in page


def test_a_rejection_needs_a_reason_shown_with_the_error_summary(definition, cast, client):
    application = applied(definition, cast["applicant"])
    client.force_login(cast["agency_admin"])
    url = f"/services/agency/a/{application.tracking_code}/"
    response = client.post(f"/en{url}", {"action": "reject", "note": "  "})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="error-summary"' in page and 'href="#id_note"' in page
    assert "A rejection needs a reason." in page
    application.refresh_from_db()
    assert application.state == State.HUMAN_REVIEW
    client.post(url, {"action": "reject", "note": "گواهی دوره معتبر نیست"})
    application.refresh_from_db()
    assert application.state == State.REJECTED
    assert application.decision_reasons[0]["fa"] == "گواهی دوره معتبر نیست"
    client.force_login(cast["applicant"])
    page = client.get(reverse("services:detail", args=[application.tracking_code])).content
    assert "گواهی دوره معتبر نیست".encode() in page


def test_a_viewer_sees_the_case_but_no_decision_buttons(definition, cast, client):
    application = applied(definition, cast["applicant"])
    client.force_login(cast["agency_viewer"])
    url = reverse("services:agency_detail", args=[application.tracking_code])
    page = client.get(url).content.decode()
    assert "دریای خزر" in page and 'id="approve"' not in page
    assert client.post(url, {"action": "approve"}).status_code == 403
    application.refresh_from_db()
    assert application.state == State.HUMAN_REVIEW


def test_an_officer_cannot_decide_what_does_not_wait_for_an_officer(definition, cast):
    application, _ = engine.submit(
        definition,
        cast["applicant"],
        idempotency_key="k",
        inputs={"fishing_area": "خزر"},
        files={"safety_course": pdf()},
    )
    with pytest.raises(engine.workflow.InvalidTransition):
        engine.decide_by_officer(application, cast["agency_admin"], approved=True, note="")
    application.refresh_from_db()
    assert application.state == State.AWAITING_PAYMENT  # its fee is not paid yet


def test_a_failed_store_leaves_no_file(definition, cast, monkeypatch, settings):
    calls = []

    def boom(**kwargs):
        calls.append(kwargs)
        raise RuntimeError("database went away")

    monkeypatch.setattr(Upload.objects, "create", boom)
    with pytest.raises(RuntimeError):
        engine.submit(
            definition,
            cast["applicant"],
            idempotency_key="k",
            inputs={"fishing_area": "خزر"},
            files={"safety_course": pdf()},
        )
    assert calls and not Application.objects.exists()
    folder = settings.VAR_DIR / "media" / "uploads"
    assert folder.exists()  # the file was written, then removed
    assert not any(p.is_file() for p in folder.rglob("*"))


def test_png_and_jpeg_are_accepted_by_their_content(definition, cast):
    for n, data in enumerate([PNG, b"\xff\xd8\xff\xe0" + b"\x00" * 32]):
        application, _ = engine.submit(
            definition,
            cast["applicant"],
            idempotency_key=f"k{n}",
            inputs={"fishing_area": f"خزر {n}"},
            files={"safety_course": SimpleUploadedFile("photo.pdf", data)},
        )
        row = application.uploads.get()
        assert row.content_type in ("image/png", "image/jpeg")
        assert uploads.download_name(row).endswith((".png", ".jpg"))


def test_a_configured_storage_is_used(definition, cast, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "applicant-files": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "elsewhere")},
        },
    }
    settings.PANJEREH_SERVICES_UPLOAD_STORAGE = "applicant-files"
    application = applied(definition, cast["applicant"])
    row = application.uploads.get()
    assert (tmp_path / "elsewhere" / row.stored_name).read_bytes() == PDF
    assert timezone.now() >= row.uploaded_at


def test_without_a_document_an_approval_is_a_decision_notice(definition, cast, client):
    from panjereh.inbox.models import Message

    spec = copy.deepcopy(definition.spec)
    spec.update(code="fishing-notice", version=1, fee_rials=0)  # a free one: one message
    del spec["document"]
    assert definitions.validate(spec) == []
    notice_only, _created = definitions.load_spec(spec)
    application = applied(notice_only, cast["applicant"])
    assert application.state == State.HUMAN_REVIEW
    engine.decide_by_officer(application, cast["agency_editor"], approved=True, note="")
    engine.advance(application.pk)
    application.refresh_from_db()
    assert application.state == State.ISSUED and application.decision == "approved"
    assert not Document.objects.filter(application=application).exists()
    message = Message.objects.get(user=cast["applicant"])
    assert message.kind == Message.Kind.DECISION and not message.document_url
    assert "پروانه صید تفریحی شما صادر شد" in message.body_fa
    client.force_login(cast["applicant"])
    page = client.get(f"/en/services/a/{application.tracking_code}/").content.decode()
    assert ">Approved" in page and 'id="document"' not in page
