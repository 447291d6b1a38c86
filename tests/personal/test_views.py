"""The personal pages: the signed-in home, my documents, a document's page, share links (the
role x action matrix of creating and revoking them) and the public share page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.common import ratelimit
from panjereh.personal import operations
from panjereh.personal.models import ShareLink
from panjereh.services import documents
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(national_code="", is_staff=True)


def _ref(certificate):
    return f"cert-{certificate.number}"


def _share(client, holder, certificate, lifetime="1d"):
    client.force_login(holder)
    response = client.post(
        reverse("personal:share", args=[_ref(certificate)]), {"lifetime": lifetime}
    )
    assert response.status_code == 302, response.content[:500]
    page = client.get(response["Location"])
    match = re.search(r"/shared/([A-Za-z0-9_-]+)/", page.content.decode())
    assert match, "the new link is shown once on the document's page"
    return match.group(1)


# -- the signed-in home --------------------------------------------------------------------------


def test_home_sends_anonymous_people_to_sign_in(client):
    response = client.get(reverse("personal:home"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_home_sends_staff_without_a_national_code_to_the_back_office(client, staff):
    client.force_login(staff)
    response = client.get(reverse("personal:home"))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_home_shows_what_needs_action_first_then_applications_and_documents(
    client, holder, certificate
):
    from panjereh.services.models import Application, State

    app = certificate.application
    other = Application.objects.create(
        tracking_code="T-PAYME-1",
        definition=app.definition,
        agency=app.agency,
        user=holder,
        subject_code=holder.national_code,
        idempotency_key="pay",
        state=State.AWAITING_PAYMENT,
        fee_rials=120000,
        due_at=timezone.now() + dt.timedelta(days=3),
    )
    client.force_login(holder)
    html = client.get(reverse("personal:home")).content.decode()
    assert html.index('id="needs-action"') < html.index('id="my-applications"')
    assert html.index('id="my-applications"') < html.index('id="my-documents"')
    assert html.index('id="my-documents"') < html.index('id="my-inbox"')
    assert reverse("services:detail", args=[other.tracking_code]) in html
    assert "۱۲۰٬۰۰۰" in html  # the fee, in Persian digits
    assert _ref(certificate) in html


def test_home_of_a_helper_says_what_acting_permits(client, holder, other, certificate):
    from panjereh.identity.models import Delegation

    delegation = Delegation.objects.create(
        principal=holder,
        helper_national_code=other.national_code,
        helper=other,
        purpose="کمک",
        accepted_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=5),
    )
    client.force_login(other)
    session = client.session
    from panjereh.identity import audit

    session[audit.ACTING_SESSION_KEY] = delegation.pk
    session.save()
    html = client.get(reverse("personal:home")).content.decode()
    assert 'id="acting-for"' in html and 'id="my-documents"' not in html
    # The helper's own documents and sharing wait until they stop acting.
    html = client.get(reverse("personal:documents")).content.decode()
    assert 'id="acting-for"' in html and 'id="documents"' not in html
    ref = f"cert-{certificate.number}"
    client.post(reverse("personal:share", args=[ref]), {"lifetime": "1d"})
    assert not ShareLink.objects.exists()


# -- my documents and a document's page -----------------------------------------------------------


def test_documents_list_and_page_show_status_qr_and_downloads(client, holder, certificate):
    client.force_login(holder)
    html = client.get(reverse("personal:documents")).content.decode()
    assert _ref(certificate) in html and "badge-valid" in html
    page = client.get(reverse("personal:document", args=[_ref(certificate)]))
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and 'id="document-qr"' in html
    assert reverse("services:document_pdf", args=[certificate.number]) in html
    token = client.get(reverse("personal:document_token", args=[_ref(certificate)]))
    assert token.content.decode() == certificate.token
    assert token["Content-Type"] == "application/jose"


def test_another_persons_document_is_not_found(client, other, certificate):
    client.force_login(other)
    for name in ("personal:document", "personal:document_token"):
        assert client.get(reverse(name, args=[_ref(certificate)])).status_code == 404
    response = client.post(reverse("personal:share", args=[_ref(certificate)]), {"lifetime": "1d"})
    assert response.status_code == 404
    assert not ShareLink.objects.exists()


@pytest.mark.parametrize("reference", ["cert-NOPE", "x", "cert-%00", "cert-" + "A" * 300])
def test_unknown_references_are_not_found(client, holder, certificate, reference):
    client.force_login(holder)
    # A NUL byte is refused before any view (the bad-input middleware): 400.
    assert client.get(f"/my/documents/{reference}/").status_code in (404, 400)


# -- share links: the form, the matrix ----------------------------------------------------------


@pytest.mark.parametrize("lifetime", ["", "2d", "۱h", "x" * 10000, "1h\u202e"])
def test_bad_share_input_is_refused_with_the_form_kept(client, holder, certificate, lifetime):
    client.force_login(holder)
    response = client.post(
        reverse("personal:share", args=[_ref(certificate)]), {"lifetime": lifetime}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error-summary"' in html and 'id="share-form"' in html
    assert "مدت اعتبار پیوند را انتخاب کنید." in html  # the Persian message
    assert not ShareLink.objects.exists()


def test_a_nul_byte_in_the_share_form_changes_nothing(client, holder, certificate):
    client.force_login(holder)
    url = reverse("personal:share", args=[_ref(certificate)])
    response = client.post(url, {"lifetime": "1h\x00"})
    assert response.status_code == 400  # refused before the view, with a localised page
    assert not ShareLink.objects.exists()


def test_share_link_stores_only_the_secrets_hash(client, holder, certificate):
    token = _share(client, holder, certificate, "1h")
    link = ShareLink.objects.get()
    assert link.token_hash == operations.digest(token) and token not in link.token_hash
    assert link.expires_at - link.created_at == dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("who", "allowed"), [("holder", True), ("other", False), ("anonymous", False), ("staff", False)]
)
def test_create_share_matrix(holder, other, staff, certificate, who, allowed):
    from django.contrib.auth.models import AnonymousUser

    actor = {"holder": holder, "other": other, "anonymous": AnonymousUser(), "staff": staff}[who]
    if allowed:
        link, _token = operations.create_share(actor, _ref(certificate), "1d")
        assert link.holder == holder
        return
    with pytest.raises((roles.NotPermitted, operations.NotFound)):
        operations.create_share(actor, _ref(certificate), "1d")
    assert not ShareLink.objects.exists()


@pytest.mark.parametrize(
    ("who", "allowed"), [("holder", True), ("other", False), ("anonymous", False), ("staff", False)]
)
def test_revoke_share_matrix(holder, other, staff, certificate, who, allowed):
    from django.contrib.auth.models import AnonymousUser

    link, _token = operations.create_share(holder, _ref(certificate), "1d")
    actor = {"holder": holder, "other": other, "anonymous": AnonymousUser(), "staff": staff}[who]
    if allowed:
        assert operations.revoke_share(actor, link.pk).revoked_at is not None
        return
    with pytest.raises((roles.NotPermitted, operations.NotFound)):
        operations.revoke_share(actor, link.pk)
    link.refresh_from_db()
    assert link.revoked_at is None


def test_revoking_through_the_page_as_someone_else_is_not_found(client, holder, other, certificate):
    link, _token = operations.create_share(holder, _ref(certificate), "1d")
    client.force_login(other)
    assert client.post(reverse("personal:revoke", args=[link.pk])).status_code == 404
    client = Client()  # nobody signed in
    response = client.post(reverse("personal:revoke", args=[link.pk]))
    assert response.status_code == 302 and "login" in response["Location"]
    link.refresh_from_db()
    assert link.revoked_at is None


def test_share_creation_is_rate_limited(holder, certificate):
    ratelimit.reset(operations.SHARES_CREATED, f"user:{holder.pk}")
    for _ in range(operations.SHARES_CREATED.limit - 1):
        operations.create_share(holder, _ref(certificate), "1h")
    with pytest.raises(operations.ShareError) as refused:
        operations.create_share(holder, _ref(certificate), "1h")
    assert refused.value.status == 429
    ratelimit.reset(operations.SHARES_CREATED, f"user:{holder.pk}")


def test_a_revoked_document_cannot_be_shared(holder, certificate):
    documents.revoke(certificate, "wrong", actor=roles.SYSTEM)
    with pytest.raises(operations.ShareError):
        operations.create_share(holder, _ref(certificate), "1d")


# -- the public share page ----------------------------------------------------------------------


def test_share_page_shows_the_verified_document_to_anyone(client, holder, certificate):
    token = _share(client, holder, certificate)
    client = Client()  # nobody signed in
    response = client.get(f"/shared/{token}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-status="valid"' in html and certificate.agency.name_fa in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    assert holder.national_code not in html.replace(certificate.token, "")
    download = client.get(f"/shared/{token}/token.jws")
    assert download.content.decode() == certificate.token
    client.get(f"/shared/{token}/")
    assert ShareLink.objects.get().views == 2


def test_share_page_says_revoked_when_the_issuer_revoked_the_document(client, holder, certificate):
    token = _share(client, holder, certificate)
    documents.revoke(certificate, "wrong", actor=roles.SYSTEM)
    html = client.get(f"/shared/{token}/").content.decode()
    assert 'data-status="revoked"' in html


def test_expired_revoked_and_unknown_links_say_so_and_nothing_else(client, holder, certificate):
    token = _share(client, holder, certificate, "1h")
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2), tick=False):
        expired = client.get(f"/shared/{token}/")
        assert client.get(f"/shared/{token}/token.jws").status_code == 410
    assert expired.status_code == 410
    assert certificate.number not in expired.content.decode()
    operations.revoke_share(holder, ShareLink.objects.get().pk)
    revoked = client.get(f"/shared/{token}/")
    assert revoked.status_code == 410 and certificate.number not in revoked.content.decode()
    for bad in ("x" * 43, "short", "%00" * 30):
        unknown = client.get(f"/shared/{bad}/")
        assert unknown.status_code in (404, 400)
        assert certificate.number not in unknown.content.decode()
        if unknown.status_code == 404:
            assert unknown["Referrer-Policy"] == "no-referrer"
    assert ShareLink.objects.get().views == 0


def test_english_share_page_is_english(client, holder, certificate):
    token = _share(client, holder, certificate)
    client = Client()  # nobody signed in
    html = client.get(f"/en/shared/{token}/").content.decode()
    assert "Issued by" in html and certificate.agency.name_en in html


def test_documents_page_costs_the_same_queries_for_one_or_many_certificates(client, holder):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import issue_certificate

    issue_certificate(holder, key="one")
    client.force_login(holder)
    client.get(reverse("personal:documents"))  # the session and the status list warmed
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("personal:documents")).status_code == 200
    for key in ("two", "three", "four"):
        issue_certificate(holder, key=key)
    client.get(reverse("personal:documents"))  # the list is rebuilt after new documents
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("personal:documents")).content.decode()
    assert html.count('data-kind="certificate"') == 4
    assert len(many) == len(one), [q["sql"][:120] for q in many]


def test_holder_lists_links_and_revokes_one_from_the_list(client, holder, certificate):
    token = _share(client, holder, certificate, "7d")
    link = ShareLink.objects.get()
    html = client.get(reverse("personal:shares")).content.decode()
    assert f'id="link-{link.pk}"' in html and 'data-state="live"' in html
    assert token not in html  # the secret is shown once, on the document's page only
    response = client.post(reverse("personal:revoke", args=[link.pk]), {"next": "list"})
    assert response.status_code == 302 and response["Location"] == reverse("personal:shares")
    html = client.get(reverse("personal:shares")).content.decode()
    assert 'data-state="revoked"' in html
    assert Client().get(f"/shared/{token}/").status_code == 410
