"""Identity's writes, role by action: every operation of ``identity.operations`` lets the owner
act, refuses another person and an anonymous visitor, and changes nothing on invalid input.

Account operations (step-up, delegations) take the actor: anyone but the account's owner gets
``roles.NotPermitted`` (a ``PermissionDenied``), and objects of someone else are answered
``not_found``, as if they did not exist. Registration and sign-in are done by someone not yet
signed in: their right to each step is the progress kept in the browser's session, so "another
person" is another browser, which gets nothing from a flow it did not start.
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.common import messaging
from panjereh.identity import operations, registry_checks, totp
from panjereh.identity.models import (
    AuthEvent,
    Delegation,
    OneTimeCode,
    Passkey,
    SsoSession,
    TotpDevice,
    User,
)
from tests.identity.conftest import (
    OTHER_CODE,
    OTHER_MOBILE,
    PERSON_BIRTH,
    PERSON_CODE,
    PERSON_MOBILE,
    FakeRegistry,
    make_citizen,
)
from tests.identity.helpers import national_code

pytestmark = pytest.mark.django_db

NOT_PEOPLE = [AnonymousUser(), None, roles.SYSTEM]
NOT_PEOPLE_IDS = ["anonymous", "no actor", "system"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def texts(monkeypatch) -> list[tuple[str, str]]:
    """The SMS identity sends, as (mobile, text)."""
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(
        messaging, "send_sms", lambda mobile, text, **_kw: sent.append((mobile, text))
    )
    return sent


@pytest.fixture
def registry(monkeypatch) -> FakeRegistry:
    fake = FakeRegistry()
    fake.add(PERSON_CODE, PERSON_BIRTH, PERSON_MOBILE)
    fake.add(OTHER_CODE, dt.date(1980, 1, 1), OTHER_MOBILE, first="علی", last="کریمی")
    for name in ("match_identity", "mobile_belongs_to", "photo_matches"):
        monkeypatch.setattr(registry_checks, name, getattr(fake, name))
    return fake


@pytest.fixture
def owner() -> User:
    return make_citizen()


@pytest.fixture
def other() -> User:
    return make_citizen(OTHER_CODE, OTHER_MOBILE, first_name="علی", last_name="کریمی")


def browser(user=None, ip: str = "203.0.113.7"):
    """A request with its own session, as one browser sends it."""
    request = RequestFactory().post("/", REMOTE_ADDR=ip)
    SessionMiddleware(lambda r: None).process_request(request)
    request.user = user if user is not None else AnonymousUser()
    return request


def code_in(texts, mobile: str) -> str:
    """The code in the latest SMS sent to ``mobile``."""
    text = [text for to, text in texts if to == mobile][-1]
    return re.search(r"\d{6}", text).group(0)


def snapshot(user: User) -> dict:
    """What an operation could change about an account."""
    row = User.objects.filter(pk=user.pk).values(
        "assurance_level", "photo_verified_at", "mobile", "last_name"
    )[0]
    row["devices"] = list(TotpDevice.objects.filter(user=user).values_list("confirmed_at"))
    row["passkeys"] = Passkey.objects.filter(user=user).count()
    return row


# -- registration --------------------------------------------------------------------------------


def start(request, texts, code=PERSON_CODE, birth=PERSON_BIRTH, mobile=PERSON_MOBILE):
    operations.count_registration_attempt(request)
    operations.start_registration(request, code, birth, mobile, next_url="/after/")
    return code_in(texts, mobile)


def test_registration_the_browser_that_proved_the_code_creates_the_account(registry, texts):
    request = browser()
    code = start(request, texts)
    operations.verify_registration_code(request, code)
    user, created, next_url = operations.confirm_registration(request)
    assert created and next_url == "/after/"
    assert user.national_code == PERSON_CODE and user.assurance_level == 1
    assert request.user == user and request.session["_auth_user_id"] == str(user.pk)
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.LOGIN, user=user).exists()
    assert operations.registration_in_progress(request) is None


def test_registration_another_browser_gets_nothing_from_a_flow_it_did_not_start(registry, texts):
    mine, theirs = browser(), browser()
    code = start(mine, texts)
    for step in (
        lambda: operations.verify_registration_code(theirs, code),
        lambda: operations.resend_registration_code(theirs),
        lambda: operations.confirm_registration(theirs),
    ):
        with pytest.raises(operations.IdentityError) as refused:
            step()
        assert refused.value.code == "unknown"
    assert not User.objects.exists() and len(texts) == 1


def test_registration_is_not_confirmed_before_the_code_is_proved(registry, texts):
    request = browser()
    start(request, texts)
    with pytest.raises(operations.IdentityError):
        operations.confirm_registration(request)
    assert not User.objects.exists() and "_auth_user_id" not in request.session


@pytest.mark.parametrize(
    ("birth", "mobile", "reason"),
    [
        (dt.date(1990, 1, 1), PERSON_MOBILE, "registry_mismatch"),
        (PERSON_BIRTH, OTHER_MOBILE, "mobile_not_owned"),
    ],
)
def test_registration_details_the_registries_do_not_match_change_nothing(
    registry, texts, birth, mobile, reason
):
    request = browser()
    operations.count_registration_attempt(request)
    with pytest.raises(operations.IdentityError) as refused:
        operations.start_registration(request, PERSON_CODE, birth, mobile)
    assert refused.value.code == "no_match"
    assert operations.registration_in_progress(request) is None
    assert not OneTimeCode.objects.exists() and texts == [] and not User.objects.exists()
    refusal = AuthEvent.objects.get(kind=AuthEvent.Kind.REGISTRATION_REFUSED)
    assert refusal.detail["reason"] == reason


def test_registration_with_the_registry_down_changes_nothing(registry, texts):
    registry.down = True
    request = browser()
    with pytest.raises(operations.IdentityError) as refused:
        operations.start_registration(request, PERSON_CODE, PERSON_BIRTH, PERSON_MOBILE)
    assert refused.value.code == "registry_unavailable"
    assert operations.registration_in_progress(request) is None and texts == []


def test_registration_a_wrong_code_proves_nothing_and_too_many_lock_the_national_code(
    registry, texts
):
    request = browser()
    good = start(request, texts)
    wrong = f"{(int(good) + 1) % 10**6:06d}"
    with pytest.raises(operations.IdentityError) as refused:
        operations.verify_registration_code(request, wrong)
    assert refused.value.code == "wrong"
    assert operations.registration_in_progress(request)["verified"] is False
    codes = []
    for _ in range(4):
        try:
            operations.resend_registration_code(request)
        except operations.IdentityError as exc:
            codes.append(exc.code)
            break
        fresh = code_in(texts, PERSON_MOBILE)
        with pytest.raises(operations.IdentityError) as refused:
            operations.verify_registration_code(request, f"{(int(fresh) + 1) % 10**6:06d}")
        codes.append(refused.value.code)
    assert "code_locked" in codes
    assert not User.objects.exists()


def test_registration_attempts_from_one_address_are_limited_and_recorded(db):
    for _ in range(30):
        operations.count_registration_attempt(browser())
    with pytest.raises(operations.IdentityError) as refused:
        operations.count_registration_attempt(browser())
    assert refused.value.code == "ip_locked"
    assert AuthEvent.objects.get(kind=AuthEvent.Kind.REGISTRATION_REFUSED).detail == {
        "reason": "ip_locked"
    }
    operations.count_registration_attempt(browser(ip="203.0.113.8"))  # another address


# -- sign-in and sign-out ------------------------------------------------------------------------


def test_sign_in_the_browser_that_asked_for_the_code_is_signed_in(owner, texts):
    request = browser()
    operations.count_attempt_from("203.0.113.7")
    operations.send_sign_in_code(request, PERSON_CODE, "/after/")
    assert [mobile for mobile, _ in texts] == [PERSON_MOBILE]
    step = operations.verify_sign_in_code(request, code_in(texts, PERSON_MOBILE))
    assert step == operations.SignInStep(signed_in=True, next_url="/after/")
    assert request.session["_auth_user_id"] == str(owner.pk)
    login = AuthEvent.objects.get(kind=AuthEvent.Kind.LOGIN)
    assert login.user == owner and login.detail["method"] == "otp"


def test_sign_in_another_browser_cannot_use_someone_elses_code(owner, other, texts):
    mine, theirs = browser(), browser(other)
    operations.send_sign_in_code(mine, PERSON_CODE)
    code = code_in(texts, PERSON_MOBILE)
    with pytest.raises(operations.IdentityError) as refused:
        operations.verify_sign_in_code(theirs, code)
    assert refused.value.code == "unknown"
    # Asking for a sign-in as someone else sends the code to their mobile, never to the asker.
    operations.send_sign_in_code(theirs, PERSON_CODE)
    assert {mobile for mobile, _ in texts} == {PERSON_MOBILE}
    assert theirs.session.get("_auth_user_id") is None and theirs.user == other


def test_sign_in_a_wrong_code_signs_no_one_in(owner, texts):
    request = browser()
    operations.send_sign_in_code(request, PERSON_CODE)
    good = code_in(texts, PERSON_MOBILE)
    with pytest.raises(operations.IdentityError) as refused:
        operations.verify_sign_in_code(request, f"{(int(good) + 1) % 10**6:06d}")
    assert refused.value.code == "wrong"
    assert "_auth_user_id" not in request.session
    assert not SsoSession.objects.exists()
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.OTP_FAILED, user=owner).count() == 1


def test_sign_in_of_a_code_without_an_account_sends_nothing_and_never_matches(db, texts):
    request = browser()
    operations.send_sign_in_code(request, OTHER_CODE)
    assert texts == [] and OneTimeCode.objects.count() == 1
    with pytest.raises(operations.IdentityError):
        operations.verify_sign_in_code(request, "123456")
    assert "_auth_user_id" not in request.session


def test_sign_in_codes_per_national_code_are_limited(owner, texts):
    for _ in range(3):
        operations.send_sign_in_code(browser(), PERSON_CODE)
    with pytest.raises(operations.IdentityError) as refused:
        operations.send_sign_in_code(browser(), PERSON_CODE)
    assert refused.value.code == "code_locked" and len(texts) == 3
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.LOCKED_OUT).count() == 1


def test_sign_in_attempts_from_one_address_are_limited(db):
    for _ in range(30):
        operations.count_attempt_from("203.0.113.9")
    with pytest.raises(operations.IdentityError) as refused:
        operations.count_attempt_from("203.0.113.9")
    assert refused.value.code == "ip_locked"


def _confirmed_device(user: User) -> bytes:
    device = totp.start_enrolment(user)
    TotpDevice.objects.filter(pk=device.pk).update(confirmed_at=timezone.now())
    return totp.secret_of(device)


def test_sign_in_with_an_authenticator_needs_its_code_in_the_same_browser(owner, other, texts):
    secret = _confirmed_device(owner)
    request = browser()
    operations.send_sign_in_code(request, PERSON_CODE, "/after/")
    step = operations.verify_sign_in_code(request, code_in(texts, PERSON_MOBILE))
    assert step == operations.SignInStep(signed_in=False)
    assert operations.awaiting_authenticator(request)
    assert "_auth_user_id" not in request.session
    theirs = browser(other)
    assert not operations.awaiting_authenticator(theirs)
    with pytest.raises(operations.IdentityError) as refused:
        operations.verify_sign_in_authenticator(theirs, totp.code_at(secret))
    assert refused.value.code == "unknown"
    wrong = "000000" if totp.code_at(secret) != "000000" else "111111"
    with pytest.raises(operations.IdentityError) as refused:
        operations.verify_sign_in_authenticator(request, wrong)
    assert refused.value.code == "wrong_code" and "_auth_user_id" not in request.session
    assert operations.verify_sign_in_authenticator(request, totp.code_at(secret)) == "/after/"
    assert request.session["_auth_user_id"] == str(owner.pk)
    assert AuthEvent.objects.get(kind=AuthEvent.Kind.LOGIN).detail["method"] == "otp+totp"


def test_signing_out_ends_the_sign_on_session_and_an_anonymous_visitor_ends_nothing(owner, texts):
    request = browser()
    operations.send_sign_in_code(request, PERSON_CODE)
    operations.verify_sign_in_code(request, code_in(texts, PERSON_MOBILE))
    assert SsoSession.objects.filter(ended_at__isnull=True).count() == 1
    assert operations.sign_out(browser()) is False
    assert SsoSession.objects.filter(ended_at__isnull=True).count() == 1
    assert operations.sign_out(request) is True
    assert not SsoSession.objects.filter(ended_at__isnull=True).exists()
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.LOGOUT, user=owner).count() == 1


# -- step-up: photo, authenticator, signing key --------------------------------------------------


def test_photo_the_owner_raises_their_level(owner, registry):
    operations.check_photo(owner, f"photo of {PERSON_CODE}".encode(), actor=owner)
    owner.refresh_from_db()
    assert owner.assurance_level == 2 and owner.photo_verified_at is not None


def test_photo_another_person_cannot_check_someone_elses(owner, other, registry):
    before = snapshot(owner)
    with pytest.raises(PermissionDenied):
        operations.check_photo(owner, f"photo of {PERSON_CODE}".encode(), actor=other)
    assert snapshot(owner) == before and registry.calls == []


@pytest.mark.parametrize("actor", NOT_PEOPLE, ids=NOT_PEOPLE_IDS)
def test_photo_no_one_but_a_person_can_check(owner, registry, actor):
    before = snapshot(owner)
    with pytest.raises(roles.NotPermitted):
        operations.check_photo(owner, f"photo of {PERSON_CODE}".encode(), actor=actor)
    assert snapshot(owner) == before and registry.calls == []


def test_photo_that_does_not_match_changes_nothing_but_is_recorded(owner, registry):
    before = snapshot(owner)
    with pytest.raises(operations.IdentityError) as refused:
        operations.check_photo(owner, b"someone else", actor=owner)
    assert refused.value.code == "no_match" and snapshot(owner) == before
    event = AuthEvent.objects.get(kind=AuthEvent.Kind.PHOTO_CHECKED)
    assert event.user == owner and event.detail == {"result": "no_match"}


def test_authenticator_the_owner_enrols_and_confirms(owner):
    device = operations.start_authenticator_enrolment(owner, actor=owner)
    assert device.user == owner and device.confirmed_at is None
    code = totp.code_at(totp.secret_of(device), time.time())
    operations.confirm_authenticator(owner, code, actor=owner)
    assert TotpDevice.objects.get(user=owner).confirmed_at is not None
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.TOTP_ENROLLED, user=owner).exists()
    with pytest.raises(operations.IdentityError) as refused:
        operations.start_authenticator_enrolment(owner, actor=owner)
    assert refused.value.code == "already_enrolled"


def test_authenticator_another_person_cannot_enrol_or_confirm_someone_elses(owner, other):
    device = operations.start_authenticator_enrolment(owner, actor=owner)
    code = totp.code_at(totp.secret_of(device), time.time())
    with pytest.raises(PermissionDenied):
        operations.start_authenticator_enrolment(owner, actor=other)
    with pytest.raises(PermissionDenied):
        operations.confirm_authenticator(owner, code, actor=other)
    assert TotpDevice.objects.get(user=owner).confirmed_at is None
    assert not TotpDevice.objects.filter(user=other).exists()


@pytest.mark.parametrize("actor", NOT_PEOPLE, ids=NOT_PEOPLE_IDS)
def test_authenticator_no_one_but_a_person_can_enrol(owner, actor):
    with pytest.raises(roles.NotPermitted):
        operations.start_authenticator_enrolment(owner, actor=actor)
    with pytest.raises(roles.NotPermitted):
        operations.confirm_authenticator(owner, "123456", actor=actor)
    assert not TotpDevice.objects.exists()


def test_authenticator_a_wrong_code_confirms_nothing(owner):
    device = operations.start_authenticator_enrolment(owner, actor=owner)
    right = totp.code_at(totp.secret_of(device), time.time())
    with pytest.raises(operations.IdentityError) as refused:
        operations.confirm_authenticator(
            owner, "000000" if right != "000000" else "111111", actor=owner
        )
    assert refused.value.code == "wrong_code"
    assert TotpDevice.objects.get(user=owner).confirmed_at is None
    assert not AuthEvent.objects.filter(kind=AuthEvent.Kind.TOTP_ENROLLED).exists()


# Passkeys (level 3) have their own operations module and tests: tests/identity/test_passkeys.py
# (the owner / other citizen / anonymous / staff matrix of registering, renaming, removing).


# -- delegations ---------------------------------------------------------------------------------


def offer(principal, helper_code=OTHER_CODE) -> Delegation:
    return operations.offer_delegation(
        principal, helper_code, "پرداخت عوارض", 3, browser(principal)
    )


def test_delegation_the_principal_offers_and_the_named_holder_accepts_and_acts(owner, other):
    delegation = offer(owner)
    accepted = operations.accept_delegation(other, delegation.pk, browser(other))
    assert accepted.helper == other and accepted.is_active()
    request = browser(other)
    operations.start_acting(other, delegation.pk, request)
    assert request.session["panjereh_acting_delegation"] == delegation.pk
    operations.stop_acting(request)
    assert "panjereh_acting_delegation" not in request.session
    operations.revoke_delegation(owner, delegation.pk, browser(owner))
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None and not delegation.is_active()


def test_delegation_another_person_cannot_accept_act_on_or_revoke_it(owner, other):
    third = make_citizen(national_code("111111111"), "09350000002", first_name="رضا")
    delegation = offer(owner)
    with pytest.raises(operations.IdentityError) as refused:
        operations.accept_delegation(third, delegation.pk, browser(third))
    assert refused.value.code == "not_found"
    operations.accept_delegation(other, delegation.pk, browser(other))
    for step in (
        lambda: operations.start_acting(third, delegation.pk, browser(third)),
        lambda: operations.revoke_delegation(third, delegation.pk, browser(third)),
        lambda: operations.revoke_delegation(other, delegation.pk, browser(other)),
    ):
        with pytest.raises(operations.IdentityError) as refused:
            step()
        assert refused.value.code == "not_found"
    delegation.refresh_from_db()
    assert delegation.helper == other and delegation.revoked_at is None


@pytest.mark.parametrize("actor", NOT_PEOPLE, ids=NOT_PEOPLE_IDS)
def test_delegation_no_one_but_a_person_can_offer_accept_act_or_revoke(owner, other, actor):
    delegation = offer(owner)
    for step in (
        lambda: operations.offer_delegation(actor, OTHER_CODE, "x", 3),
        lambda: operations.accept_delegation(actor, delegation.pk),
        lambda: operations.start_acting(actor, delegation.pk, browser()),
        lambda: operations.revoke_delegation(actor, delegation.pk),
    ):
        with pytest.raises(roles.NotPermitted):
            step()
    delegation.refresh_from_db()
    assert Delegation.objects.count() == 1
    assert delegation.helper is None and delegation.revoked_at is None


def test_delegation_to_oneself_or_ended_changes_nothing(owner, other):
    with pytest.raises(operations.IdentityError) as refused:
        offer(owner, PERSON_CODE)
    assert refused.value.code == "self" and not Delegation.objects.exists()
    delegation = offer(owner)
    operations.accept_delegation(other, delegation.pk)
    operations.revoke_delegation(owner, delegation.pk)
    request = browser(other)
    with pytest.raises(operations.IdentityError) as refused:
        operations.start_acting(other, delegation.pk, request)
    assert refused.value.code == "ended"
    assert "panjereh_acting_delegation" not in request.session
