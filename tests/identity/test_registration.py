"""Registration at the national window: the happy path, and each refusal changes nothing."""

from __future__ import annotations

import re

import time_machine
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from panjereh.common import messaging
from panjereh.identity.models import AuthEvent, OneTimeCode, SsoSession, User
from panjereh.identity.views import REG_KEY

from .conftest import OTHER_MOBILE, PERSON_CODE, PERSON_MOBILE
from .helpers import last_code

REGISTER = "/account/register/"
VERIFY = "/account/register/verify/"
CONFIRM = "/account/register/confirm/"
GOOD = {"national_code": "۰۴۹۹۳۷۰۸۹۹", "birth_date": "۱۳۷۰/۰۶/۳۱", "mobile": "۰۹۱۲۱۲۳۴۵۶۷"}


def fa(msgid: str) -> str:
    """The message as a Persian reader sees it (and it must be Persian)."""
    with translation.override("fa"):
        text = gettext(msgid)
    assert re.search("[\u0600-\u06ff]", text), f"no Persian translation for {msgid!r}"
    return text


def assert_nothing_changed(client, users_before: int) -> None:
    assert User.objects.count() == users_before
    assert REG_KEY not in client.session
    assert not SsoSession.objects.exists()


def start(client, **changes):
    return client.post(REGISTER, {**GOOD, **changes})


def test_urls_are_where_the_templates_expect():
    assert reverse("identity:register") == REGISTER
    assert reverse("oauth2_provider:authorize") == "/oidc/authorize/"


def test_register_end_to_end_with_registry_data_shown(client, db, fake_registry):
    response = start(client)
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert not User.objects.exists()  # nothing is created before the code and confirmation
    page = client.get(VERIFY)
    assert "4567" in page.content.decode() or "۴۵۶۷" in page.content.decode()
    response = client.post(VERIFY, {"code": last_code(PERSON_MOBILE)})
    assert response["Location"] == CONFIRM
    page = client.get(CONFIRM).content.decode()
    assert "مریم" in page and "رضایی" in page and "حسن" in page  # the registry's record
    assert "۱۳۷۰" in page
    assert not User.objects.exists()
    response = client.post(CONFIRM)
    assert response.status_code == 302
    user = User.objects.get(national_code=PERSON_CODE)
    assert user.first_name == "مریم" and user.mobile == PERSON_MOBILE
    assert user.assurance_level == 1
    assert not user.has_usable_password()
    assert client.session["_auth_user_id"] == str(user.pk)
    kinds = set(AuthEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert {"registered", "login", "level_changed"} <= kinds


def test_bad_national_code_refused(client, db, fake_registry):
    response = start(client, national_code="0499370898")
    assert response.status_code == 200
    assert fa("This national code is not valid.") in response.content.decode()
    assert_nothing_changed(client, 0)
    assert fake_registry.calls == []  # never sent to the registry
    response = start(client, national_code="12345")
    assert fa("A national code has exactly 10 digits.") in response.content.decode()


NO_MATCH = (
    "These details do not match the civil registration records. Check your national code "
    "and birth date, and use a mobile number registered in your own name."
)


def _refusal(response) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return re.sub(r'value="[^"]*"', "", html)  # the typed values differ, the answer must not


def test_a_wrong_birth_date_and_a_wrong_mobile_read_the_same(client, db, fake_registry):
    wrong_birth = _refusal(start(client, birth_date="1370/06/30"))
    wrong_mobile = _refusal(start(client, mobile=OTHER_MOBILE))
    unknown_code = _refusal(start(client, national_code="۰۰۱۲۳۴۵۶۷۹"))
    assert fa(NO_MATCH) in wrong_birth
    assert wrong_birth == wrong_mobile == unknown_code
    # Each check was made every time, whichever failed.
    assert [kind for kind, _code in fake_registry.calls] == ["identity", "mobile"] * 3


def test_mismatched_birth_date_refused(client, db, fake_registry):
    response = start(client, birth_date="1370/06/30")
    body = response.content.decode()
    assert fa(NO_MATCH) in body
    assert_nothing_changed(client, 0)
    assert not OneTimeCode.objects.exists() and messaging.sent_sms(PERSON_MOBILE) == []


def test_invalid_birth_date_text_refused(client, db, fake_registry):
    response = start(client, birth_date="1370/13/40")
    assert (
        fa("Enter the birth date as year/month/day in the solar calendar, for example 1370/06/31.")
        in response.content.decode()
    )
    assert_nothing_changed(client, 0)


def test_someone_elses_mobile_refused(client, db, fake_registry):
    response = start(client, mobile=OTHER_MOBILE)
    body = response.content.decode()
    assert fa(NO_MATCH) in body
    assert_nothing_changed(client, 0)
    assert messaging.sent_sms(OTHER_MOBILE) == [] and messaging.sent_sms(PERSON_MOBILE) == []


def test_registry_down_refused_clearly(client, db, fake_registry):
    fake_registry.down = True
    response = start(client)
    assert response.status_code == 503
    assert (
        fa(
            "The civil registration service is not answering right now. Nothing was saved; "
            "please try again in a few minutes."
        )
        in response.content.decode()
    )
    assert_nothing_changed(client, 0)


def test_wrong_code_refused(client, db, fake_registry):
    start(client)
    good = last_code(PERSON_MOBILE)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post(VERIFY, {"code": wrong})
    assert fa("The code is not correct.") in response.content.decode()
    assert client.session[REG_KEY]["verified"] is False
    assert client.get(CONFIRM)["Location"] == REGISTER  # cannot skip to confirmation
    assert not User.objects.exists()


def test_expired_code_refused(client, db, fake_registry):
    start(client)
    code = last_code(PERSON_MOBILE)
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=3)):
        response = client.post(VERIFY, {"code": code})
    assert fa("The code has expired. Ask for a new code.") in response.content.decode()
    assert not User.objects.exists()


def test_replayed_code_refused(client, db, fake_registry):
    start(client)
    code = last_code(PERSON_MOBILE)
    assert client.post(VERIFY, {"code": code})["Location"] == CONFIRM
    response = client.post(VERIFY, {"code": code})
    assert fa("This code has already been used. Ask for a new code.") in response.content.decode()
    assert not User.objects.exists()


def test_brute_force_locks_out(client, db, fake_registry):
    start(client)
    good = last_code(PERSON_MOBILE)
    wrong = [f"{(int(good) + i) % 1_000_000:06d}" for i in range(1, 10)]
    statuses = []
    for attempt in wrong[:3]:
        statuses.append(client.post(VERIFY, {"code": attempt}).status_code)
    # The challenge allows three attempts; a new code is needed, and failures add up across
    # challenges for the national code.
    client.post("/account/register/resend/")
    good = last_code(PERSON_MOBILE)
    for attempt in [f"{(int(good) + i) % 1_000_000:06d}" for i in range(1, 3)]:
        statuses.append(client.post(VERIFY, {"code": attempt}).status_code)
    assert statuses[-1] == 429
    assert REG_KEY not in client.session
    # Locked: even the right code and a fresh start are refused for 15 minutes.
    response = start(client)
    assert response.status_code == 429
    assert (
        fa("Too many wrong attempts for this national code. Please try again in 15 minutes.")
        in response.content.decode()
    )
    assert not User.objects.exists()
    assert AuthEvent.objects.filter(kind="locked_out").exists()


def test_registering_twice_signs_in_the_existing_account(client, db, fake_registry):
    for _ in range(2):
        start(client)
        client.post(VERIFY, {"code": last_code(PERSON_MOBILE)})
        client.post(CONFIRM)
        client.post("/account/logout/")
    assert User.objects.filter(national_code=PERSON_CODE).count() == 1


def test_registration_needs_csrf(db, fake_registry):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(REGISTER, GOOD, HTTP_AUTHORIZATION="Bearer some-agency-token")
    assert response.status_code == 403
    assert fake_registry.calls == []
