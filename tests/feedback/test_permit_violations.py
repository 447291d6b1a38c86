"""Violations reported from a permit application (issue 16, part 6): a demand to come in
person, a payment outside the window, or a removed condition asked again, with evidence,
filed through the one complaints machinery; only the applicant (or a person acting for the
applicant company) may report; routed through the authority's agency or, for an authority
outside the catalogue, to the Steering WG; decided by the supervising body as every complaint;
and counted against the issuing authority in oversight."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.common.persian import to_persian_digits
from panjereh.feedback import operations
from panjereh.feedback.models import Complaint, ComplaintState, Evidence
from panjereh.identity import businesses
from panjereh.identity.models import LegalPerson
from panjereh.identity.registry_checks import RegistryUnavailable
from panjereh.oversight import indicators
from panjereh.permits.models import (
    IssuingAuthority,
    PermitApplication,
    PermitType,
    PermitVersion,
    RemovedCondition,
    Resolution,
)
from tests.feedback.conftest import make_citizen

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HTML = b"<!doctype html><script>alert(1)</script>"


class Permits:
    """Two authorities (one is the world's agency, under its ministry; one outside the
    catalogue), a permit of each with a removed condition, and applications."""

    def __init__(self, world):
        resolution = Resolution.objects.create(
            body="deregulation_board", number="1402/17", date=dt.date(2023, 5, 1)
        )
        self.removed = RemovedCondition.objects.create(
            key="no-police-clearance",
            kind="document",
            wording_fa="گواهی عدم سوء پیشینه",
            wording_en="a police clearance",
            resolution=resolution,
        )
        self.elsewhere = RemovedCondition.objects.create(
            key="no-bank-letter", kind="document", wording_fa="نامه بانک", resolution=resolution
        )
        self.authority = IssuingAuthority.objects.create(
            code="auth-a", name_fa="مرجع الف", name_en="Authority A", agency=world.agency
        )
        self.chamber = IssuingAuthority.objects.create(
            code="chamber", name_fa="اتاق اصناف آزمون", name_en="Test guild chamber"
        )
        self.permit = self._permit("0000000001", self.authority)
        self.permit.removed_conditions.add(self.removed)
        self.guild_permit = self._permit("0000000002", self.chamber)
        self.application = self.apply(world.citizen, self.permit, "P-0001")
        self.guild_application = self.apply(world.citizen, self.guild_permit, "P-0002")
        self.theirs = self.apply(world.stranger, self.permit, "P-0003")

    def _permit(self, public_id, authority):
        permit = PermitType.objects.create(
            public_id=public_id, kind="guild", authority=authority, title_fa=f"مجوز {public_id}"
        )
        version = PermitVersion.objects.create(
            permit=permit, number=1, state="published", title_fa=permit.title_fa, legal_days=15
        )
        PermitType.objects.filter(pk=permit.pk).update(published_version=version)
        permit.published_version = version
        return permit

    def apply(self, user, permit, reference, company=None):
        return PermitApplication.objects.create(
            reference=reference,
            permit=permit,
            version=permit.published_version,
            authority=permit.authority,
            applicant=user,
            company=company,
            title="کارگاه",
            state="at_portal",
            due_by=timezone.now() + dt.timedelta(days=15),
        )


@pytest.fixture
def permits(world):
    return Permits(world)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(reference: str | None = None) -> str:
    base = reverse("feedback:report-permit")
    return base if reference is None else f"{base}?application={reference}"


def _file(name: str, data: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def _post(client, reference, **fields):
    data = {"kind": "in_person", "description": "گفتند برای بازدید حضوری به اداره بیایید"}
    data.update(fields)
    return client.post(_url(reference), data)


def _steering(user):
    roles.ensure_groups()
    user.groups.add(Group.objects.get(name=roles.STEERING_WG))
    return user


def test_the_applicant_files_a_report_with_evidence_routed_through_the_authoritys_agency(
    world, permits
):
    client = _client(world.citizen)
    page = client.get(_url("P-0001"))
    assert page.status_code == 200
    text = page.content.decode()
    for kind in ("in_person", "payment", "removed_condition"):
        assert f'id="kind-{kind}"' in text
    assert 'id="kind-document_held"' not in text  # not a permit violation
    assert f'<option value="{permits.removed.pk}"' in text
    assert f'<option value="{permits.elsewhere.pk}"' not in text  # not removed from this permit
    answer = _post(
        client,
        "P-0001",
        kind="removed_condition",
        removed_condition=str(permits.removed.pk),
        evidence=[_file("letter.pdf", PDF), _file("photo.png", PNG, "image/png")],
    )
    assert answer.status_code == 302
    assert Complaint.objects.count() == 1, answer["Location"]
    complaint = Complaint.objects.get()
    assert answer["Location"] == reverse("feedback:complaint", args=[complaint.tracking_code])
    assert complaint.permit_application == permits.application
    assert complaint.authority == permits.authority
    assert complaint.agency == world.agency and complaint.routed_to == world.ministry
    assert complaint.removed_condition == permits.removed
    assert complaint.state == ComplaintState.RECEIVED
    assert complaint.evidence.count() == 2
    detail = client.get(answer["Location"]).content.decode()
    assert to_persian_digits("P-0001") in detail and permits.removed.wording_fa in detail
    assert permits.authority.name_fa in detail


def test_an_authority_outside_the_catalogue_goes_to_the_steering_wg(world, permits):
    complaint = operations.file_permit_complaint(
        world.citizen, permits.guild_application, kind="payment", description="کارت‌خوان اتاق"
    )
    assert complaint.agency is None and complaint.routed_to is None
    assert complaint.authority == permits.chamber
    assert complaint.against_fa == permits.chamber.name_fa
    # Only the Steering WG decides it; the ministry's staff do not.
    assert not operations.can_handle(world.ministry_officer, complaint)
    steering = _steering(make_citizen())
    assert operations.can_handle(steering, complaint)
    # The citizen's list and the oversight list name the authority.
    assert (
        permits.chamber.name_fa
        in _client(world.citizen).get(reverse("feedback:mine")).content.decode()
    )
    assert (
        permits.chamber.name_fa
        in _client(steering).get(reverse("feedback:oversight")).content.decode()
    )
    operations.move(complaint, ComplaintState.UNDER_REVIEW, steering)
    operations.move(complaint, ComplaintState.UPHELD, steering, "پرداخت بیرون از پنجره تأیید شد")
    complaint.refresh_from_db()
    assert complaint.state == ComplaintState.UPHELD


@pytest.mark.parametrize(
    ("who", "can_decide"),
    [("ministry_officer", True), ("officer", False), ("citizen", False), ("stranger", False)],
)
def test_who_decides_a_permit_violation(world, permits, who, can_decide):
    """The supervising body's deciding staff decide; the authority's own agency does not
    judge itself; the reporter follows it; anyone else does not see it."""
    complaint = operations.file_permit_complaint(
        world.citizen, permits.application, kind="in_person", description="بازدید حضوری"
    )
    user = getattr(world, who)
    client = _client(user)
    url = reverse("feedback:complaint", args=[complaint.tracking_code])
    answer = client.post(url, {"to_state": "under_review", "note": ""})
    complaint.refresh_from_db()
    if can_decide:
        assert answer.status_code == 302 and complaint.state == ComplaintState.UNDER_REVIEW
        client.post(url, {"to_state": "upheld", "note": "وارد است"})
        complaint.refresh_from_db()
        assert complaint.state == ComplaintState.UPHELD
    else:
        assert answer.status_code == 404
        assert complaint.state == ComplaintState.RECEIVED
        with pytest.raises(operations.FeedbackError):
            operations.move(complaint, ComplaintState.UNDER_REVIEW, user)
    seen = client.get(url).status_code
    assert seen == (404 if who in ("officer", "stranger") else 200)


def test_someone_elses_application_an_unknown_one_or_none_is_not_found(world, permits):
    client = _client(world.citizen)
    assert client.get(_url("P-0003")).status_code == 404  # the stranger's
    assert client.get(_url("P-9999")).status_code == 404
    assert client.get(_url()).status_code == 404
    assert client.get(_url("P-0001\x00")).status_code in (400, 404)  # the bad-input guard
    assert _post(client, "P-0003").status_code == 404
    with pytest.raises(operations.FeedbackError) as refused:
        operations.file_permit_complaint(
            world.citizen, permits.theirs, kind="in_person", description="x"
        )
    assert refused.value.code == "forbidden"
    assert not Complaint.objects.exists()
    anonymous = Client().get(_url("P-0001"))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


@pytest.mark.parametrize(
    ("fields", "field", "status"),
    [
        ({"kind": ""}, "kind", 400),
        ({"kind": "document_held"}, "kind", 400),  # a kind not reported from a permit
        ({"kind": "x" * 5000}, "kind", 400),
        ({"description": ""}, "description", 400),
        ({"description": "\x00\x00"}, "description", 400),
        ({"description": "ب" * 2001}, "description", 400),
        (
            {"kind": "removed_condition", "removed_condition": "elsewhere"},
            "removed_condition",
            400,
        ),
        ({"kind": "removed_condition", "removed_condition": "999999"}, "removed_condition", 400),
        ({"evidence": [_file("page.pdf", HTML)]}, "evidence", 400),
        ({"evidence": [_file(f"f{i}.pdf", PDF) for i in range(4)]}, "evidence", 400),
    ],
)
def test_bad_input_gets_a_localised_error_and_changes_nothing(
    world, permits, fields, field, status
):
    if fields.get("removed_condition") == "elsewhere":
        fields = {**fields, "removed_condition": str(permits.elsewhere.pk)}
    client = _client(world.citizen)
    answer = _post(client, "P-0001", **fields)
    assert answer.status_code == status
    html = answer.content.decode()
    assert not Complaint.objects.exists() and not Evidence.objects.exists()
    if "\x00" in fields.get("description", ""):
        # NUL bytes are refused for the whole site by the bad-input guard, with its own page.
        assert "UTF-8" in html and 'lang="fa"' in html
        return
    assert 'id="form-error"' in html  # the error summary first
    anchor = "id_kind-group" if field == "kind" else f"id_{field}"
    assert f'href="#{anchor}"' in html
    assert 'aria-invalid="true"' in html
    assert not Complaint.objects.exists() and not Evidence.objects.exists()
    assert (
        list(operations.evidence_dir().glob("*")) == []
        if operations.evidence_dir().exists()
        else True
    )
    # The form keeps what was typed (but the file).
    if field == "description" and fields["description"].startswith("ب"):
        assert "ب" * 50 in html


def test_a_body_too_large_is_refused_before_it_is_read(world, permits, settings):
    settings.PANJEREH_FEEDBACK_MAX_FILES = 1
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.citizen)
    big = _file("big.pdf", PDF + b"0" * operations.upload_request_limit())
    answer = client.post(_url("P-0001"), {"kind": "in_person", "description": "x", "evidence": big})
    assert answer.status_code == 413
    assert 'id="id_evidence-error"' in answer.content.decode()
    assert not Complaint.objects.exists()
    # An acceptable size still needs the CSRF token.
    assert client.post(_url("P-0001"), {"kind": "in_person", "description": "x"}).status_code == 403


def _company_application(world, permits):
    company = LegalPerson.objects.create(national_id="10100000011", name="شرکت آزمون")
    return permits.apply(world.stranger, permits.permit, "P-0100", company=company), company


def test_a_person_acting_for_the_applicant_company_may_report(world, permits, monkeypatch):
    application, company = _company_application(world, permits)
    colleague = make_citizen()
    scopes = {"value": frozenset({"apply", "read"})}

    def authority(person, national_id, *, fresh=True):
        if person.pk == colleague.pk and national_id == company.national_id:
            if scopes["value"] is None:
                raise RegistryUnavailable("down")
            return businesses.Authority(company, "ceo", scopes["value"])
        return None

    monkeypatch.setattr(businesses, "authority", authority)
    client = _client(colleague)
    assert client.get(_url("P-0100")).status_code == 200
    assert _post(client, "P-0100").status_code == 302
    assert Complaint.objects.get().permit_application == application
    # Someone the registry does not name for the company (the citizen) may not.
    assert _client(world.citizen).get(_url("P-0100")).status_code == 404
    # Read-only (a board member, or a delegation to read) is not enough; nor a silent registry.
    for value in (frozenset({"read"}), None):
        scopes["value"] = value
        assert client.get(_url("P-0100")).status_code == 404
        assert _post(client, "P-0100").status_code == 404
    assert Complaint.objects.count() == 1


def test_the_link_include_points_at_the_form(permits):
    html = render_to_string(
        "feedback/_report_permit_link.html", {"application": permits.application}
    )
    assert f'href="{_url("P-0001")}"' in html


def test_reports_count_against_the_issuing_authority_in_oversight(world, permits):
    steering = _steering(make_citizen())
    filed = [
        operations.file_permit_complaint(
            world.citizen, permits.application, kind=kind, description="شرح"
        )
        for kind in ("in_person", "payment", "removed_condition")
    ]
    operations.file_permit_complaint(
        world.citizen, permits.guild_application, kind="in_person", description="شرح"
    )
    for complaint in filed[:2]:
        operations.move(complaint, ComplaintState.UNDER_REVIEW, steering)
    operations.move(filed[0], ComplaintState.UPHELD, steering, "وارد است")
    operations.move(filed[1], ComplaintState.NOT_UPHELD, steering, "وارد نیست")
    # A complaint about the agency filed the ordinary way does not count against the authority.
    operations.file_complaint(world.citizen, agency=world.agency, kind="in_person", description="x")
    result = indicators.compute()
    row = result.authority("auth-a")
    value = row.values["permits_violations_upheld"]
    assert (value.value, value.numerator, value.denominator) == (1, 1, 3)
    chamber = result.authority("chamber").values["permits_violations_upheld"]
    assert (chamber.value, chamber.denominator) == (0, 1)
    national = result.national["permits_violations_upheld"]
    assert (national.numerator, national.denominator) == (1, 4)
