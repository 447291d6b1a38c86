"""Citizen sign-in (national code + SMS code, + an authenticator app if enrolled), lockout, no
enumeration, step-up, the audit page and delegations."""

from __future__ import annotations

import re
import time

from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from panjereh.common import messaging
from panjereh.identity import assurance, totp
from panjereh.identity.models import AuthEvent, Delegation, TotpDevice, User
from panjereh.identity.oidc import SID_SESSION_KEY
from tests.factories import make_service

from .conftest import OTHER_CODE, PERSON_CODE, PERSON_MOBILE, make_citizen
from .helpers import last_code

LOGIN = "/account/login/"
LOGIN_VERIFY = "/account/login/verify/"


def fa(msgid: str) -> str:
    """The message as a Persian reader sees it (and it must be Persian)."""
    with translation.override("fa"):
        text = gettext(msgid)
    assert re.search("[\u0600-\u06ff]", text), f"no Persian translation for {msgid!r}"
    return text


def sign_in(client: Client, code: str = PERSON_CODE, mobile: str = PERSON_MOBILE):
    client.post(LOGIN, {"national_code": code})
    return client.post(LOGIN_VERIFY, {"code": last_code(mobile)})


def _normalise(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_sign_in_with_sms_code(client, citizen):
    response = sign_in(client)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(citizen.pk)
    assert client.session[SID_SESSION_KEY]
    event = AuthEvent.objects.filter(user=citizen, kind="login").get()
    assert event.detail["method"] == "otp"


def test_no_user_enumeration(db, citizen):
    registered, unknown = Client(), Client()
    a = registered.post(LOGIN, {"national_code": PERSON_CODE})
    b = unknown.post(LOGIN, {"national_code": OTHER_CODE})
    assert (a.status_code, a["Location"]) == (b.status_code, b["Location"])
    page_a = _normalise(registered.get(LOGIN_VERIFY).content.decode())
    page_b = _normalise(unknown.get(LOGIN_VERIFY).content.decode())
    assert page_a == page_b
    # A guessed code for a national code without an account fails like any wrong code.
    wrong_a = registered.post(LOGIN_VERIFY, {"code": "000000"})
    wrong_b = unknown.post(LOGIN_VERIFY, {"code": "000000"})
    if last_code(PERSON_MOBILE) != "000000":
        assert _normalise(wrong_a.content.decode()) == _normalise(wrong_b.content.decode())
    assert "_auth_user_id" not in unknown.session


def test_sign_in_lockout_per_national_code(client, citizen):
    for _ in range(2):
        client.post(LOGIN, {"national_code": PERSON_CODE})
        good = last_code(PERSON_MOBILE)
        for i in range(1, 4):
            response = client.post(LOGIN_VERIFY, {"code": f"{(int(good) + i) % 10**6:06d}"})
            if response.status_code == 429:
                break
    assert response.status_code == 429
    assert (
        fa("Too many wrong attempts for this national code. Please try again in 15 minutes.")
        in response.content.decode()
    )
    # Another browser, the right code: still locked.
    other = Client()
    response = other.post(LOGIN, {"national_code": PERSON_CODE})
    assert response.status_code == 429
    assert "_auth_user_id" not in other.session


def test_ip_rate_limit(client, db):
    for _ in range(30):
        client.post(LOGIN, {"national_code": "12"})
    response = client.post(LOGIN, {"national_code": PERSON_CODE})
    assert response.status_code == 429
    assert (
        fa("Too many attempts from your connection. Please try again in a few minutes.")
        in response.content.decode()
    )


def test_sms_flooding_limited(client, citizen):
    for _ in range(6):
        Client().post(LOGIN, {"national_code": PERSON_CODE})
    assert len(messaging.sent_sms(PERSON_MOBILE)) == 3


def test_staff_password_lockout(db):
    staff = User.objects.create_user("operator", password="a long staff password 1")
    browser = Client()
    for _ in range(5):
        browser.post("/admin/login/", {"username": "operator", "password": "wrong password"})
    browser.post("/admin/login/", {"username": "operator", "password": "a long staff password 1"})
    assert "_auth_user_id" not in browser.session
    assert staff.password.startswith(("argon2", "md5"))  # Argon2 outside the test mode


def test_step_up_page_for_a_service(client, citizen):
    service = make_service(min_assurance_level=2)
    sign_in(client)
    page = client.get(f"/account/step-up/?service={service.service_id}&next=/").content.decode()
    assert 'data-step="photo"' in page
    assert "step-up-done" not in page


def test_photo_step_up_to_level_2(client, citizen, fake_registry):
    sign_in(client)
    response = client.post(
        "/account/step-up/photo/",
        {"photo": _upload(b"someone else"), "next": "/account/step-up/?level=2"},
    )
    assert fa("The photo does not match the civil registration photo.") in response.content.decode()
    citizen.refresh_from_db()
    assert citizen.assurance_level == 1
    response = client.post(
        "/account/step-up/photo/",
        {"photo": _upload(f"photo of {PERSON_CODE}".encode()), "next": "/account/step-up/?level=2"},
    )
    assert response["Location"] == "/account/step-up/?level=2"
    citizen.refresh_from_db()
    assert citizen.assurance_level == 2
    assert "step-up-done" in client.get("/account/step-up/?level=2").content.decode()


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("me.jpg", data, content_type="image/jpeg")


def _level_3(client, user) -> bytes:
    """Enrol the optional authenticator app, then add a passkey (level 3) through the pages;
    the TOTP secret."""
    from .softkey import SoftAuthenticator
    from .test_passkeys import add_passkey

    client.get("/account/step-up/authenticator/")
    secret = totp.secret_of(TotpDevice.objects.get(user=user))
    response = client.post(
        "/account/step-up/authenticator/", {"code": totp.code_at(secret, time.time() - 30)}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.assurance_level == 2  # the authenticator app alone does not give level 3
    page = client.get("/account/step-up/?level=3").content.decode()
    assert 'data-step="passkey"' in page and 'data-step="totp"' not in page
    assert add_passkey(client, SoftAuthenticator()).status_code == 200
    return secret


def test_level_3_by_passkey_and_the_optional_authenticator_at_sign_in(client, citizen):
    User.objects.filter(pk=citizen.pk).update(photo_verified_at=citizen.registry_verified_at)
    sign_in(client)
    secret = _level_3(client, citizen)
    citizen.refresh_from_db()
    assert citizen.assurance_level == 3
    client.post("/account/logout/")
    # Signing in with a code by SMS still asks for the authenticator app's code.
    response = sign_in(client)
    assert response["Location"] == "/account/login/authenticator/"
    assert "_auth_user_id" not in client.session
    response = client.post("/account/login/authenticator/", {"code": "123456"})
    if totp.code_at(secret) != "123456":
        assert fa("The authenticator code is not correct.") in response.content.decode()
    code = totp.code_at(secret)
    response = client.post("/account/login/authenticator/", {"code": code})
    assert client.session["_auth_user_id"] == str(citizen.pk)
    # The same code cannot be used again (replay).
    device = TotpDevice.objects.get(user=citizen)
    assert not totp.verify(device, code)


def test_level_4_needs_an_authorised_officer(citizen):
    import pytest

    officer = User.objects.create_user("officer", password="x" * 12)
    User.objects.filter(pk=citizen.pk).update(photo_verified_at=citizen.registry_verified_at)
    with pytest.raises(PermissionError):
        assurance.record_in_person_check(citizen, officer, "دفتر پیشخوان ۱۲", "کارت ملی")
    officer.user_permissions.add(Permission.objects.get(codename="record_in_person_check"))
    officer = User.objects.get(pk=officer.pk)
    assurance.record_in_person_check(citizen, officer, "دفتر پیشخوان ۱۲", "کارت ملی")
    citizen.refresh_from_db()
    assert citizen.assurance_level == 2  # level 4 needs level 3 first: levels are cumulative


def test_counts_per_level(db):
    make_citizen()
    make_citizen(OTHER_CODE, "09350000001")
    User.objects.create_user("staff-only", password="x" * 12)
    assert assurance.counts_per_level() == {0: 0, 1: 2, 2: 0, 3: 0, 4: 0}


def test_audit_page_shows_own_events_only(client, citizen):
    other = make_citizen(OTHER_CODE, "09350000001", first_name="علی")
    sign_in(client)
    AuthEvent.objects.create(user=other, kind="login", client_name="not-mine")
    page = client.get("/account/activity/").content.decode()
    assert "not-mine" not in page
    assert page.count("<tr>") >= 3  # header + registration-level change + sign-in


def test_delegation_recorded_as_such(db):
    principal = make_citizen()
    helper = make_citizen(OTHER_CODE, "09350000001", first_name="علی")
    as_principal, as_helper = Client(), Client()
    sign_in(as_principal)
    as_principal.post(
        "/account/helpers/",
        {"helper_national_code": OTHER_CODE, "purpose": "پرداخت عوارض", "days": 3},
    )
    delegation = Delegation.objects.get(principal=principal, helper_national_code=OTHER_CODE)
    assert not delegation.is_active()  # waits for the helper
    sign_in(as_helper, OTHER_CODE, "09350000001")
    as_helper.post(f"/account/helpers/{delegation.pk}/accept/")
    delegation.refresh_from_db()
    assert delegation.helper == helper and delegation.is_active()
    as_helper.post(f"/account/helpers/{delegation.pk}/act/")
    event = AuthEvent.objects.filter(kind="acting_as").get()
    assert event.user == helper and event.acting_for == principal
    assert event.delegation == delegation
    # The principal sees what the helper did for them; then revokes.
    assert "acting_as" not in as_principal.get("/account/activity/").content.decode()
    assert AuthEvent.objects.filter(acting_for=principal).count() == 1
    as_principal.post(f"/account/helpers/{delegation.pk}/revoke/")
    delegation.refresh_from_db()
    assert not delegation.is_active()
