"""Versions, publishing and the rule that a removed condition cannot come back."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.utils import translation

from panjereh.catalogue import roles
from panjereh.permits import operations
from panjereh.permits.models import (
    Condition,
    PermitType,
    PermitVersion,
    ReintroductionAttempt,
)
from tests.factories import UserFactory, make_agency_staff

from .conftest import FIELDS, condition

pytestmark = pytest.mark.django_db


def test_publishing_shows_the_version_and_keeps_history(published):
    assert published.published_version.number == 1
    assert published.title_fa == FIELDS["title_fa"]
    draft = operations.start_version(roles.SYSTEM, published)
    assert draft.number == 2 and draft.state == "draft"
    assert [c.text_fa for c in draft.conditions.all()] == [
        "مشخصات محل کسب",
        "هزینه صدور: ۵۰۰٬۰۰۰ ریال",
    ]
    operations.update_draft(
        roles.SYSTEM,
        draft,
        fields={**FIELDS, "title_fa": "پروانه کسب نانوایی", "legal_days": 7},
        conditions=[condition("مشخصات محل کسب")],
    )
    # The public catalogue still shows version 1 while version 2 is a draft.
    published.refresh_from_db()
    assert published.title_fa == FIELDS["title_fa"]
    operations.publish(roles.SYSTEM, draft)
    published.refresh_from_db()
    assert published.published_version_id == draft.pk
    assert (published.title_fa, published.legal_days) == ("پروانه کسب نانوایی", 7)
    states = dict(PermitVersion.objects.filter(permit=published).values_list("number", "state"))
    assert states == {1: "superseded", 2: "published"}
    # History keeps the first version's conditions.
    assert Condition.objects.filter(version__number=1, version__permit=published).count() == 2


def test_one_draft_at_a_time(published):
    first = operations.start_version(roles.SYSTEM, published)
    assert operations.start_version(roles.SYSTEM, published).pk == first.pk


def test_a_published_version_is_not_edited_or_published_again(published):
    version = published.published_version
    with pytest.raises(operations.PermitError):
        operations.update_draft(roles.SYSTEM, version, fields=FIELDS, conditions=[])
    with pytest.raises(operations.InvalidTransition):
        operations.publish(roles.SYSTEM, version)


def test_a_reintroduced_removed_condition_is_refused_with_its_resolution(published, removed):
    draft = operations.start_version(roles.SYSTEM, published)
    before = list(draft.conditions.values_list("text_fa", flat=True))
    with translation.override("fa"):
        with pytest.raises(operations.Reintroduced) as refused:
            operations.update_draft(
                roles.SYSTEM,
                draft,
                fields=FIELDS,
                conditions=[condition("مشخصات محل کسب"), condition("ارائه برگه عدم سوء پيشينه")],
            )
    message = str(refused.value.messages[0])
    assert "هیئت مقررات‌زدایی" in message and "۶۰/۵۲۸۸۱" in message
    assert "گواهی عدم سوءپیشینه" in message
    assert refused.value.removed == removed
    # Nothing changed, and the attempt is on record.
    assert list(draft.conditions.values_list("text_fa", flat=True)) == before
    attempt = ReintroductionAttempt.objects.get()
    assert attempt.removed == removed and attempt.permit == published
    assert attempt.condition_text == "ارائه برگه عدم سوء پيشينه" and attempt.refused


def test_publish_checks_the_register_again(published):
    """A draft written before a removal is refused when it is published after it."""
    draft = operations.start_version(roles.SYSTEM, published)
    operations.update_draft(
        roles.SYSTEM,
        draft,
        fields=FIELDS,
        conditions=[condition("مشخصات محل کسب"), condition("کپی کارت ملی متقاضی")],
    )
    removal = operations.record_removal(
        roles.SYSTEM,
        key="national-card-copy",
        kind="document",
        wording_fa="تصویر کارت ملی",
        wording_en="copy of the national ID card",
        body="cabinet",
        number="187430",
        date=FIELDS and __import__("datetime").date(2023, 3, 1),
        permit_types=[published],
    )
    with pytest.raises(operations.Reintroduced) as refused:
        operations.publish(roles.SYSTEM, draft)
    assert refused.value.removed == removal
    draft.refresh_from_db()
    published.refresh_from_db()
    assert draft.state == "draft" and published.published_version.number == 1
    assert ReintroductionAttempt.objects.filter(removed=removal, version=draft).count() == 1


def test_a_new_permit_type_with_a_removed_condition_is_not_created(authority, removed):
    with pytest.raises(operations.Reintroduced):
        operations.create_permit_type(
            roles.SYSTEM,
            authority=authority,
            kind="guild",
            fields=FIELDS,
            conditions=[condition("x", text_en="Criminal record certificate")],
        )
    assert not PermitType.objects.exists()
    attempt = ReintroductionAttempt.objects.get()
    assert attempt.permit is None and attempt.authority == authority
    assert attempt.permit_title == FIELDS["title_fa"]


def test_a_permit_is_published_with_at_least_one_condition(authority):
    version = operations.create_permit_type(
        roles.SYSTEM, authority=authority, kind="agency", fields=FIELDS, conditions=[]
    )
    with pytest.raises(operations.PermitError):
        operations.publish(roles.SYSTEM, version)


# -- rights -----------------------------------------------------------------------------------


def _try_all(actor, permit):
    """Draft, edit and publish as ``actor``; what was refused."""
    refused = []
    try:
        draft = operations.start_version(actor, permit)
    except roles.NotPermitted:
        refused.append("draft")
        draft = operations.start_version(roles.SYSTEM, permit)
    try:
        operations.update_draft(actor, draft, fields=FIELDS, conditions=[condition("نقشه محل")])
    except roles.NotPermitted:
        refused.append("edit")
    try:
        operations.publish(actor, draft)
    except roles.NotPermitted:
        refused.append("publish")
    return refused


@pytest.mark.parametrize("role", ["admin", "editor"])
def test_the_authoritys_staff_draft_edit_and_publish(published, role):
    staff = make_agency_staff(published.authority.agency, role=role)
    assert _try_all(staff, published) == []
    published.refresh_from_db()
    assert published.published_version.number == 2
    assert published.published_version.published_by == staff


@pytest.mark.parametrize(
    "who", ["viewer", "other-authority", "citizen", "supervisor", "anonymous", "inactive"]
)
def test_everyone_else_is_refused(published, other_authority, who):
    if who == "viewer":
        actor = make_agency_staff(published.authority.agency, role="viewer")
    elif who == "other-authority":
        actor = make_agency_staff(other_authority.agency, role="admin")
    elif who == "citizen":
        actor = UserFactory(is_staff=False)
    elif who == "supervisor":
        actor = UserFactory()
        roles.ensure_groups()
        actor.groups.add(Group.objects.get(name=roles.STEERING_WG))
    elif who == "inactive":
        actor = make_agency_staff(published.authority.agency, role="admin", is_active=False)
    else:
        from django.contrib.auth.models import AnonymousUser

        actor = AnonymousUser()
    assert _try_all(actor, published) == ["draft", "edit", "publish"]
    published.refresh_from_db()
    assert published.published_version.number == 1


def test_creating_a_permit_needs_the_authoritys_edit_right(authority, other_authority):
    outsider = make_agency_staff(other_authority.agency, role="admin")
    with pytest.raises(roles.NotPermitted):
        operations.create_permit_type(
            outsider, authority=authority, kind="guild", fields=FIELDS, conditions=[]
        )
    assert not PermitType.objects.exists()


def test_only_platform_operators_keep_the_register(authority):
    editor = make_agency_staff(authority.agency, role="admin")
    kwargs = {
        "key": "k",
        "kind": "document",
        "wording_fa": "تعهد محضری",
        "body": "cabinet",
        "number": "1",
        "date": __import__("datetime").date(2023, 1, 1),
    }
    with pytest.raises(roles.NotPermitted):
        operations.record_removal(editor, **kwargs)
    aeo = UserFactory()
    roles.ensure_groups()
    aeo.groups.add(Group.objects.get(name=roles.AEO))
    assert operations.record_removal(aeo, **kwargs).resolution.number == "1"


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"text_fa": "مشخصات\x00محل"},  # NUL
        {"text_fa": "مشخصات \u202eمحل"},  # a bidi override
        {"text_fa": "\ud800"},  # a lone surrogate
        {"text_fa": "   "},  # empty once tidied
        {"text_fa": "ب" * 501},  # too long
        {"kind": "bribe"},  # not a kind
        {"basis_fa": ""},  # no legal basis
        {"text_fa": 12},  # not text
    ],
)
def test_bad_conditions_are_refused_and_change_nothing(published, bad):
    draft = operations.start_version(roles.SYSTEM, published)
    before = list(draft.conditions.values_list("text_fa", flat=True))
    with translation.override("fa"), pytest.raises(operations.PermitError) as refused:
        operations.update_draft(
            roles.SYSTEM, draft, fields=FIELDS, conditions=[{**condition("نقشه محل"), **bad}]
        )
    assert refused.value.messages[0]
    assert list(draft.conditions.values_list("text_fa", flat=True)) == before


@pytest.mark.parametrize(
    "bad",
    [
        {"title_fa": ""},
        {"title_fa": "نان\x00"},
        {"legal_days": -1},
        {"legal_days": "15"},
        {"legal_days": 10_000},
    ],
)
def test_bad_fields_are_refused(published, bad):
    draft = operations.start_version(roles.SYSTEM, published)
    with pytest.raises(operations.PermitError):
        operations.update_draft(
            roles.SYSTEM, draft, fields={**FIELDS, **bad}, conditions=[condition("نقشه محل")]
        )
    draft.refresh_from_db()
    assert draft.title_fa == FIELDS["title_fa"]


def test_odd_but_valid_unicode_is_kept_tidied(published):
    draft = operations.start_version(roles.SYSTEM, published)
    operations.update_draft(
        roles.SYSTEM,
        draft,
        fields=FIELDS,
        conditions=[condition("نقشه\u200cی   محل 😀 e\u0301")],
    )
    assert draft.conditions.get().text_fa == "نقشه\u200cی محل 😀 é"


def test_too_many_conditions(published):
    draft = operations.start_version(roles.SYSTEM, published)
    with pytest.raises(operations.PermitError):
        operations.update_draft(
            roles.SYSTEM,
            draft,
            fields=FIELDS,
            conditions=[condition(f"شرط {n}") for n in range(operations.MAX_CONDITIONS + 1)],
        )
