"""The authority's staff draft and publish a new version of a permit from its page; a removed
condition is refused with its resolution named, the attempt recorded and the form kept."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from panjereh.permits.models import PermitVersion, ReintroductionAttempt
from tests.factories import UserFactory, make_agency_staff

pytestmark = pytest.mark.django_db


def _form(version, **changes) -> dict:
    data = {
        "rows": "3",
        "title_fa": version.title_fa,
        "title_en": version.title_en,
        "summary_fa": version.summary_fa,
        "summary_en": version.summary_en,
        "legal_days": str(version.legal_days),
    }
    if version.registration_based:
        data["registration_based"] = "on"
    for n, c in enumerate(version.conditions.order_by("position")):
        data.update(
            {
                f"c{n}-kind": c.kind,
                f"c{n}-text_fa": c.text_fa,
                f"c{n}-text_en": c.text_en,
                f"c{n}-basis_fa": c.basis_fa,
                f"c{n}-basis_en": c.basis_en,
            }
        )
    data.update(changes)
    return data


@pytest.fixture
def editor(published):
    return make_agency_staff(published.authority.agency, role="admin")


def _start(client, published):
    url = reverse("permits:versions", args=[published.public_id])
    assert client.post(url, {"action": "start"}).status_code == 302
    return url, published.versions.get(state="draft")


def test_staff_start_edit_and_publish_a_version_from_the_permit_page(client, published, editor):
    client.force_login(editor)
    page = client.get(reverse("permits:permit", args=[published.public_id]))
    assert reverse("permits:versions", args=[published.public_id]) in page.content.decode()
    url, draft = _start(client, published)
    assert draft.number == 2
    form = _form(
        draft,
        legal_days="۱۰",  # Persian digits are read
        **{
            "c2-kind": "inspection",
            "c2-text_fa": "بازدید بهداشتی محل",
            "c2-basis_fa": "قانون مواد خوراکی، ماده ۱۳",
        },
    )
    saved = client.post(url, {**form, "action": "save"})
    assert saved.status_code == 302 and saved["Location"].endswith("?saved=1")
    published.refresh_from_db()
    assert published.legal_days == 15  # nothing public until published
    done = client.post(url, {**form, "action": "publish"})
    assert done.status_code == 302
    published.refresh_from_db()
    assert published.published_version.number == 2 and published.legal_days == 10
    assert [c.text_fa for c in published.published_version.conditions.order_by("position")][
        -1
    ] == "بازدید بهداشتی محل"


def test_an_empty_row_removes_a_condition_and_more_adds_a_row(client, published, editor):
    client.force_login(editor)
    url, draft = _start(client, published)
    form = _form(draft, **{"c1-kind": "", "c1-text_fa": "", "c1-basis_fa": "", "c1-basis_en": ""})
    more = client.post(url, {**form, "action": "more"})
    assert more.status_code == 200 and 'id="c3-kind"' in more.content.decode()
    assert client.post(url, {**form, "action": "save"}).status_code == 302
    assert draft.conditions.count() == 1


def test_a_removed_condition_is_refused_with_its_resolution_and_the_form_kept(
    client, published, editor
):
    client.force_login(editor)
    url, draft = _start(client, published)
    with translation.override("en"):
        form = _form(
            draft,
            **{
                "c2-kind": "document",
                "c2-text_fa": "ارائه گواهی سوء پیشینه",
                "c2-basis_fa": "بخشنامه",
                "title_fa": "عنوان تازه",
            },
        )
        answer = client.post(
            reverse("permits:versions", args=[published.public_id]),
            {**form, "action": "publish"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    body = answer.content.decode()
    assert answer.status_code == 400
    assert 'id="error-summary"' in body and 'href="#c2-text_fa"' in body
    assert "60/52881" in body or "۶۰/۵۲۸۸۱" in body
    assert "عنوان تازه" in body and "ارائه گواهی سوء پیشینه" in body  # the form as typed
    assert ReintroductionAttempt.objects.filter(permit=published).count() == 1
    published.refresh_from_db()
    draft.refresh_from_db()
    assert published.published_version.number == 1 and draft.title_fa != "عنوان تازه"


@pytest.mark.parametrize(
    ("field", "value"),
    [("title_fa", "نان\x00"), ("legal_days", "999"), ("legal_days", "ده"), ("c0-basis_fa", "")],
)
def test_bad_input_is_refused_and_changes_nothing(client, published, editor, field, value):
    client.force_login(editor)
    url, draft = _start(client, published)
    before = list(draft.conditions.values_list("text_fa", "basis_fa"))
    answer = client.post(url, {**_form(draft, **{field: value}), "action": "save"})
    assert answer.status_code == 400
    # A NUL byte is refused before the view by the site's bad-input guard, with its own page.
    assert "\x00" in value or 'id="error-summary"' in answer.content.decode()
    draft.refresh_from_db()
    assert list(draft.conditions.values_list("text_fa", "basis_fa")) == before
    assert draft.title_fa == published.title_fa


@pytest.mark.parametrize("who", ["anonymous", "citizen", "viewer", "other_agency_admin"])
def test_only_the_authoritys_editors_reach_the_versions_page(
    client, published, other_authority, who
):
    url = reverse("permits:versions", args=[published.public_id])
    if who == "citizen":
        client.force_login(UserFactory())
    elif who == "viewer":
        client.force_login(make_agency_staff(published.authority.agency, role="viewer"))
    elif who == "other_agency_admin":
        client.force_login(make_agency_staff(other_authority.agency, role="admin"))
    get = client.get(url)
    post = client.post(url, {"action": "start"})
    if who == "anonymous":
        assert get.status_code == post.status_code == 302  # to sign in
    else:
        assert get.status_code == post.status_code == 404
        page = client.get(reverse("permits:permit", args=[published.public_id]))
        assert url not in page.content.decode()
    assert not PermitVersion.objects.filter(permit=published, state="draft").exists()
