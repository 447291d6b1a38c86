"""Passkeys: adding one (level 3), signing in and stepping up with one, user verification,
a use counter that goes back, several passkeys, renaming and removing, recovery, rights, bad
input and rate limits. The device is a software authenticator (``softkey``); the server's
checks are the ``webauthn`` package's, unchanged."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.identity import assurance, passkeys
from panjereh.identity.models import AuthEvent, Passkey, User

from .conftest import OTHER_CODE, OTHER_MOBILE, make_citizen
from .softkey import SoftAuthenticator
from .test_signin import fa, sign_in

# The English twins of the endpoints, so that refusals can be read here in English (the
# Persian ones are checked in test_refusals_are_persian_on_persian_pages).
ADD_OPTIONS = "/en/account/passkeys/add/options/"
ADD_VERIFY = "/en/account/passkeys/add/verify/"
USE_OPTIONS = "/en/account/passkeys/use/options/"
USE_VERIFY = "/en/account/passkeys/use/verify/"


def post_json(client: Client, url: str, body=None, **extra):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body or {})
    return client.post(
        url, data=data, content_type="application/json", HTTP_ACCEPT="application/json", **extra
    )


def at_level_2(user: User) -> User:
    User.objects.filter(pk=user.pk).update(photo_verified_at=timezone.now())
    user.refresh_from_db()
    assurance.recompute(user)
    return user


def add_passkey(client: Client, device: SoftAuthenticator, name="گوشی من", **kw):
    options = post_json(client, ADD_OPTIONS).json()
    return post_json(client, ADD_VERIFY, {"credential": device.create(options, **kw), "name": name})


def use_passkey(client: Client, device: SoftAuthenticator, next_url="", mode="sign_in", **kw):
    options = post_json(client, USE_OPTIONS, {"next": next_url, "mode": mode}).json()
    return post_json(client, USE_VERIFY, {"credential": device.get(options, **kw)})


@pytest.fixture
def person(db) -> User:
    return at_level_2(make_citizen())


@pytest.fixture
def signed_in(client, person) -> Client:
    client.force_login(person)
    return client


def level(user: User) -> int:
    return User.objects.get(pk=user.pk).assurance_level


def kinds(user: User) -> list[str]:
    return list(
        AuthEvent.objects.filter(user=user).order_by("at", "id").values_list("kind", flat=True)
    )


# -- registering --------------------------------------------------------------------------------


def test_a_person_after_the_photo_check_adds_a_passkey_and_reaches_level_3(signed_in, person):
    options = post_json(signed_in, ADD_OPTIONS).json()
    assert options["rp"]["id"] == "testserver"
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["user"]["name"] == person.national_code
    device = SoftAuthenticator()
    response = post_json(
        signed_in, ADD_VERIFY, {"credential": device.create(options), "name": " گوشی من "}
    )
    assert response.status_code == 200
    assert response.json()["redirect"] == "/en/account/passkeys/"
    passkey = Passkey.objects.get(user=person)
    assert passkey.credential_id == device.id and passkey.name == "گوشی من"
    assert passkey.user_verified and passkey.revoked_at is None
    assert passkey.transports == ["internal", "hybrid"]
    assert passkey.aaguid == "00010203-0405-0607-0809-0a0b0c0d0e0f"
    assert level(person) == 3
    assert AuthEvent.Kind.PASSKEY_REGISTERED in kinds(person)
    page = signed_in.get("/account/passkeys/").content.decode()
    assert "گوشی من" in page


def test_a_passkey_without_user_verification_is_refused_and_nothing_is_kept(signed_in, person):
    response = add_passkey(signed_in, SoftAuthenticator(), uv=False)
    assert response.status_code == 400
    assert "Your device did not check that it is you" in response.json()["detail"]
    assert not Passkey.objects.exists() and level(person) == 2
    assert AuthEvent.Kind.PASSKEY_FAILED in kinds(person)


def test_a_passkey_from_another_origin_or_for_another_challenge_is_refused(signed_in, person):
    response = add_passkey(signed_in, SoftAuthenticator(), origin="http://evil.example")
    assert response.status_code == 400 and not Passkey.objects.exists()
    # The challenge is used once: answering it again finds none.
    options = post_json(signed_in, ADD_OPTIONS).json()
    answer = SoftAuthenticator().create(options)
    assert post_json(signed_in, ADD_VERIFY, {"credential": answer}).status_code == 200
    again = post_json(signed_in, ADD_VERIFY, {"credential": SoftAuthenticator().create(options)})
    assert again.status_code == 400 and Passkey.objects.count() == 1


@pytest.mark.parametrize("photo", [False, True])
def test_a_passkey_needs_the_registry_checks_and_the_photo_check_first(client, db, photo):
    person = make_citizen()
    if photo:
        person = at_level_2(person)
    client.force_login(person)
    response = post_json(client, ADD_OPTIONS)
    assert response.status_code == (200 if photo else 403)
    if not photo:
        assert "photo check" in response.json()["detail"]
        assert "passkey-add" not in client.get("/account/passkeys/").content.decode()


def test_the_relying_party_id_comes_from_the_setting(signed_in, settings):
    settings.PANJEREH_IDENTITY_WEBAUTHN_RP_ID = "panjereh.example"
    assert post_json(signed_in, ADD_OPTIONS).json()["rp"]["id"] == "panjereh.example"


# -- signing in and stepping up -----------------------------------------------------------------


def registered(client: Client, person: User) -> SoftAuthenticator:
    client.force_login(person)
    device = SoftAuthenticator()
    assert add_passkey(client, device).status_code == 200
    client.post("/account/logout/")
    return device


def test_sign_in_with_a_passkey_needs_no_national_code_nor_sms(client, person):
    device = registered(client, person)
    assert "_auth_user_id" not in client.session
    options = post_json(client, USE_OPTIONS, {"next": "/services/"}).json()
    assert options["allowCredentials"] == [] and options["userVerification"] == "required"
    response = post_json(client, USE_VERIFY, {"credential": device.get(options)})
    assert response.status_code == 200 and response.json()["redirect"] == "/services/"
    assert client.session["_auth_user_id"] == str(person.pk)
    login = AuthEvent.objects.filter(user=person, kind=AuthEvent.Kind.LOGIN).latest("id")
    assert login.detail["method"] == "passkey"
    passkey = Passkey.objects.get()
    assert passkey.sign_count == 1 and passkey.last_used_at is not None


def test_a_sign_in_without_user_verification_is_refused(client, person):
    device = registered(client, person)
    response = use_passkey(client, device, uv=False)
    assert response.status_code == 400 and "_auth_user_id" not in client.session
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.PASSKEY_FAILED, user=person).exists()


def test_a_use_counter_that_goes_back_is_refused_and_recorded(client, person):
    device = registered(client, person)
    clone = device.copy()
    assert use_passkey(client, device, sign_count=5).status_code == 200
    client.post("/account/logout/")
    response = use_passkey(client, clone, sign_count=3)
    assert response.status_code == 400 and "use counter went back" in response.json()["detail"]
    assert "_auth_user_id" not in client.session
    event = AuthEvent.objects.get(kind=AuthEvent.Kind.PASSKEY_CLONED)
    assert event.user == person and event.detail["stored"] == 5 and event.detail["received"] == 3
    assert Passkey.objects.get().sign_count == 5
    # The same count again is refused too; a higher one is accepted.
    assert use_passkey(client, device, sign_count=5).status_code == 400
    assert use_passkey(client, device, sign_count=6).status_code == 200


def test_a_forged_signature_and_an_unknown_passkey_are_refused(client, person):
    device = registered(client, person)
    stranger = SoftAuthenticator()
    assert use_passkey(client, stranger).status_code == 400
    impostor = device.copy()
    impostor.key = SoftAuthenticator().key  # the right credential ID, the wrong key
    assert use_passkey(client, impostor).status_code == 400
    assert "_auth_user_id" not in client.session


def test_level_3_in_a_session_needs_the_passkey_used_in_it(client, person, fake_registry):
    registered(client, person)
    sign_in(client)  # national code + SMS code: level 3 is the account's, not yet the session's
    page = client.get("/account/step-up/?level=3").content.decode()
    assert "step-up-passkey" in page and "step-up-done" not in page
    device = Passkey.objects.get()
    assert device.user == person
    assert passkeys.session_level(_request_of(client)) == 2


def _request_of(client: Client):
    from django.contrib.auth import get_user
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.session = client.session
    request.user = get_user(request)
    return request


def test_stepping_up_with_the_passkey_gives_level_3_to_the_session(client, person, fake_registry):
    device = registered(client, person)
    sign_in(client)
    options = post_json(
        client, USE_OPTIONS, {"next": "/account/step-up/?level=3", "mode": "step_up"}
    ).json()
    # Signed in: only this person's own passkeys are offered.
    assert [c["id"] for c in options["allowCredentials"]] == [device.id]
    response = post_json(client, USE_VERIFY, {"credential": device.get(options)})
    assert response.json()["redirect"] == "/account/step-up/?level=3"
    assert "step-up-done" in client.get("/account/step-up/?level=3").content.decode()


def test_stepping_up_with_someone_elses_passkey_is_refused(client, person, fake_registry):
    theirs = registered(client, person)
    other = at_level_2(make_citizen(OTHER_CODE, OTHER_MOBILE))
    client.force_login(other)
    other_device = SoftAuthenticator()
    assert add_passkey(client, other_device).status_code == 200
    options = post_json(client, USE_OPTIONS, {"mode": "step_up"}).json()
    assert [c["id"] for c in options["allowCredentials"]] == [other_device.id]
    response = post_json(client, USE_VERIFY, {"credential": theirs.get(options)})
    assert response.status_code == 400
    assert client.session["_auth_user_id"] == str(other.pk)
    # Signing in (not stepping up) with it on this browser: its owner is signed in instead,
    # the other person signed out first.
    assert use_passkey(client, theirs).status_code == 200
    assert client.session["_auth_user_id"] == str(person.pk)
    assert AuthEvent.objects.filter(user=other, kind=AuthEvent.Kind.LOGOUT).exists()


# -- several passkeys, renaming, removing, recovery --------------------------------------------


def test_a_second_passkey_needs_the_first_used_in_the_session(client, person, fake_registry):
    first = registered(client, person)
    sign_in(client)
    refused = post_json(client, ADD_OPTIONS)
    assert refused.status_code == 403 and "Use it first" in refused.json()["detail"]
    assert use_passkey(client, first).status_code == 200
    options = post_json(client, ADD_OPTIONS).json()
    assert [c["id"] for c in options["excludeCredentials"]] == [first.id]
    second = SoftAuthenticator()
    response = post_json(
        client, ADD_VERIFY, {"credential": second.create(options), "name": "لپ‌تاپ"}
    )
    assert response.status_code == 200
    assert sorted(Passkey.objects.values_list("name", flat=True)) == sorted(["گوشی من", "لپ‌تاپ"])
    client.post("/account/logout/")
    assert use_passkey(client, second).status_code == 200


def test_removing_passkeys_and_the_last_one_drops_the_level_to_2(client, person):
    first = registered(client, person)
    assert use_passkey(client, first).status_code == 200
    second = SoftAuthenticator()
    assert add_passkey(client, second, name="دوم").status_code == 200
    one, two = Passkey.objects.order_by("id")
    response = client.post(f"/account/passkeys/{one.pk}/remove/")
    assert response.status_code == 302 and level(person) == 3
    client.post("/account/logout/")
    assert use_passkey(client, first).status_code == 400  # removed: it no longer signs in
    assert use_passkey(client, second).status_code == 200
    client.post(f"/account/passkeys/{two.pk}/remove/")
    assert level(person) == 2
    assert kinds(person).count(AuthEvent.Kind.PASSKEY_REVOKED) == 2
    assert AuthEvent.objects.filter(
        user=person, kind=AuthEvent.Kind.LEVEL_CHANGED, detail__new=2
    ).exists()
    page = client.get("/account/passkeys/").content.decode()
    assert "no-passkeys" in page and "passkey-recovery" in page


def test_recovery_after_losing_every_passkey_needs_the_photo_check_again(
    client, person, fake_registry
):
    registered(client, person)
    sign_in(client)  # the registry checks again: national code + SMS code to the mobile
    passkeys.revoke(Passkey.objects.get().pk, actor=person)
    refused = post_json(client, ADD_OPTIONS)
    assert refused.status_code == 403 and "photo check again" in refused.json()["detail"]
    assert "passkey-photo" in client.get("/account/passkeys/").content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile(
        "me.jpg", f"photo of {person.national_code}".encode(), content_type="image/jpeg"
    )
    assert client.post("/account/step-up/photo/", {"photo": photo}).status_code == 302
    new_phone = SoftAuthenticator()
    assert add_passkey(client, new_phone, name="گوشی تازه").status_code == 200
    assert level(person) == 3


def test_renaming_a_passkey_and_a_bad_name_changes_nothing(client, person):
    registered(client, person)
    client.force_login(person)
    passkey = Passkey.objects.get()
    response = client.post(f"/account/passkeys/{passkey.pk}/rename/", {"name": "a\x00b"})
    assert response.status_code == 400  # the window's bad-input guard, before the view
    response = client.post(f"/account/passkeys/{passkey.pk}/rename/", {"name": "a\x07b"})
    assert response.status_code == 200 and "rename-errors" in response.content.decode()
    response = client.post(f"/account/passkeys/{passkey.pk}/rename/", {"name": "x" * 61})
    assert response.status_code == 200
    assert Passkey.objects.get().name == "گوشی من"
    client.post(f"/account/passkeys/{passkey.pk}/rename/", {"name": "گوشی قدیمی"})
    assert Passkey.objects.get().name == "گوشی قدیمی"
    assert AuthEvent.Kind.PASSKEY_RENAMED in kinds(person)


# -- rights: owner, another citizen, anonymous, staff ------------------------------------------


@pytest.fixture
def actors(person, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    other = at_level_2(make_citizen(OTHER_CODE, OTHER_MOBILE))
    staff = django_user_model.objects.create_user("officer", password="x", is_staff=True)
    staff.is_superuser = True
    staff.save()
    return {"owner": person, "other": other, "anonymous": AnonymousUser(), "staff": staff}


def _session_request(user):
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    request = RequestFactory().post("/", HTTP_HOST="testserver")
    request.session = SessionStore()
    request.user = user
    return request


@pytest.mark.parametrize("who", ["owner", "other", "anonymous", "staff"])
def test_only_the_owner_registers_a_passkey(actors, who):
    owner, actor = actors["owner"], actors[who]
    request = _session_request(actor)
    if who != "owner":
        with pytest.raises(roles.NotPermitted):
            passkeys.registration_options(request, owner, actor=actor)
        with pytest.raises(roles.NotPermitted):
            passkeys.register(request, owner, {}, actor=actor)
        assert not Passkey.objects.exists()
        return
    options = passkeys.registration_options(request, owner, actor=actor)
    passkey = passkeys.register(request, owner, SoftAuthenticator().create(options), actor=actor)
    assert passkey.user == owner


@pytest.mark.parametrize("who", ["owner", "other", "anonymous", "staff"])
@pytest.mark.parametrize("action", ["rename", "revoke"])
def test_only_the_owner_renames_or_removes_a_passkey(client, actors, who, action):
    owner = actors["owner"]
    registered(client, owner)
    passkey = Passkey.objects.get()
    actor = actors[who]
    call = (
        (lambda: passkeys.rename(passkey.pk, "تازه", actor=actor))
        if action == "rename"
        else (lambda: passkeys.revoke(passkey.pk, actor=actor))
    )
    if who == "owner":
        call()
        passkey.refresh_from_db()
        assert passkey.name == "تازه" if action == "rename" else passkey.revoked_at is not None
        return
    with pytest.raises(roles.NotPermitted):
        call()
    passkey.refresh_from_db()
    assert passkey.name == "گوشی من" and passkey.revoked_at is None and level(owner) == 3


def test_the_pages_refuse_anonymous_and_other_peoples_passkeys(client, actors):
    registered(client, actors["owner"])
    passkey = Passkey.objects.get()
    assert post_json(client, ADD_OPTIONS).status_code == 403
    assert post_json(client, ADD_VERIFY, {"credential": {}}).status_code == 403
    assert client.post(f"/account/passkeys/{passkey.pk}/remove/").status_code == 302  # to sign-in
    client.force_login(actors["other"])
    assert client.post(f"/account/passkeys/{passkey.pk}/remove/").status_code == 403
    assert Passkey.objects.get().revoked_at is None


# -- bad input, rate limits -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"credential": "a\\u0000b"}',
        b"\xff\xfe",
        b"[1, 2]",
        json.dumps({"credential": {"id": "x" * 40_000}}).encode(),
        json.dumps({"credential": {"id": 5, "response": None}}).encode(),
    ],
)
def test_bad_input_gets_a_clear_error_and_changes_nothing(signed_in, person, body):
    post_json(signed_in, ADD_OPTIONS)
    urls = [ADD_VERIFY, USE_VERIFY]
    if body.startswith(b"{not") or b"\\u0000" in body or not body.startswith(b"{"):
        urls.append(USE_OPTIONS)  # a readable object is all the options need
    for url in urls:
        response = post_json(signed_in, url, body)
        assert response.status_code in (400, 403), (url, body)
        assert response.json()["detail"]
    assert not Passkey.objects.exists() and level(person) == 2


def test_refusals_are_persian_on_persian_pages(client, person):
    client.force_login(person)
    response = post_json(client, "/account/passkeys/add/verify/", b"{not json")
    assert response.json()["detail"] == fa("Your browser sent something we could not read.")


def test_the_ceremonies_are_rate_limited_per_address(client, db):
    for _ in range(passkeys.CEREMONIES.limit - 1):
        assert post_json(client, USE_OPTIONS).status_code == 200
    response = post_json(client, USE_OPTIONS)
    assert response.status_code == 429 and response.json()["detail"]


def test_the_pages_without_javascript_say_what_to_do(client, person):
    page = client.get("/account/login/").content.decode()
    assert "<noscript>" in page and "passkey-sign-in" in page
    assert "identity/js/passkeys" in page and "<script>" not in page


def test_an_agency_window_asking_for_level_3_has_the_person_use_their_passkey(
    client, person, fake_registry
):
    from authlib.common.security import generate_token
    from authlib.integrations.requests_client import OAuth2Session

    from panjereh.identity.clients import register_agency_client

    callback = "http://127.0.0.1:8765/callback"
    application, secret = register_agency_client(
        "پنجره آزمایشی", [callback], client_id="test-rp", backchannel_logout_uri=""
    )
    window = OAuth2Session(
        application.client_id,
        secret,
        scope="openid",
        redirect_uri=callback,
        code_challenge_method="S256",
    )
    url, _state = window.create_authorization_url(
        "http://testserver/oidc/authorize/",
        code_verifier=generate_token(48),
        nonce=generate_token(16),
        acr_values="3",
    )
    device = registered(client, person)
    sign_in(client)  # by SMS code: the account is at level 3, this session not yet
    response = client.get(url)
    assert response.status_code == 302
    step_up = response["Location"]
    assert step_up.startswith("/account/step-up/?level=3&next=")
    assert "step-up-passkey" in client.get(step_up).content.decode()
    assert use_passkey(client, device).status_code == 200
    response = client.get(url)
    assert response.status_code == 200  # now the consent screen, not the step-up page
    assert "step-up" not in response.get("Location", "")


def test_a_challenge_older_than_five_minutes_is_refused(signed_in, person):
    import datetime as dt

    import time_machine

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        options = post_json(signed_in, ADD_OPTIONS).json()
    answer = SoftAuthenticator().create(options)
    with time_machine.travel(start + dt.timedelta(seconds=passkeys.CHALLENGE_SECONDS + 1)):
        response = post_json(signed_in, ADD_VERIFY, {"credential": answer})
    assert response.status_code == 400 and "expired" in response.json()["detail"]
    assert not Passkey.objects.exists() and level(person) == 2
