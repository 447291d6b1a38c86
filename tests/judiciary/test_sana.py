"""SANA registration without a visit: who may register (a person as themself), the window's
assurance level, the civil registry and Shahkar checks and the judiciary's answer, all through
the real exchange (a live server's gateway) to real registry processes; refusals in plain
words; nothing half-done when a registry fails; idempotent; and the judiciary's notice system
set up as a sender of the official mailbox."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from panjereh.catalogue import operations as catalogue_operations
from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency
from panjereh.exchange import breaker, gateway, provision
from panjereh.exchange.client import generate_key, make_assertion, public_jwks
from panjereh.exchange.models import ConsumerSystem, LogRecord
from panjereh.identity import assurance, registry_checks
from panjereh.identity.management.commands.identity_exchange import PLATFORM_AGENCY
from panjereh.identity.models import Delegation, User
from panjereh.inbox.models import Message
from panjereh.judiciary import sana
from panjereh.judiciary.models import SanaAccount
from panjereh.registries import sana as judiciary_sana
from panjereh.registries.catalogue import ORGANISATIONS
from panjereh.registries.population import Population
from panjereh.registries.supervisor import Cluster

SEED, SIZE = 1404, 10_000


# -- the world: registries, the exchange, the window as consumer ---------------------------------


@pytest.fixture(scope="session")
def sana_registries():
    cluster = Cluster(
        "small", seed=SEED, registries=("civil", "shahkar", "ssaa", "judiciary")
    ).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def sana_population() -> Population:
    return Population(seed=SEED, size=SIZE)


@pytest.fixture
def sana_exchange(live_server, sana_registries, settings, tmp_path):
    """The exchange knows the civil, Shahkar and judiciary registries; the national window is
    its consumer with identity's grants and the SANA grants; calls go to the live server."""
    settings.VAR_DIR = tmp_path
    settings.PANJEREH_IDENTITY_EXCHANGE_URL = live_server.url
    settings.PANJEREH_EXCHANGE_SEAL_INTERVAL = 0
    gateway.clear_caches()
    breaker.reset()
    cache.clear()
    provision.register_registries(sana_registries.addresses())
    operator = catalogue_operations.save_agency(
        Agency(), dict(PLATFORM_AGENCY), author=catalogue_operations.SYSTEM
    )
    registry_checks.provision(operator, resolution_number="1404/test")
    sana.provision(operator, resolution_number="1404/test-sana")
    yield sana_registries
    for name in ("civil", "shahkar", "judiciary"):
        sana_registries.control(name, mode="normal")
    breaker.reset()
    cache.clear()


_taken: set[int] = set()


def person_of(population: Population, *, in_person: bool = False, start: int = 300) -> dict:
    """A living adult with a mobile, not used by another test of this run; one who already
    opened SANA at an office when ``in_person``."""
    book = judiciary_sana.SanaBook(population, lambda: dt.datetime.now(dt.UTC))
    for i in range(start, population.size):
        person = population.person(i)
        if i in _taken or not person["alive"] or person["age"] < 18 or not population.mobile(i):
            continue
        if book.in_person(i) != in_person:
            continue
        _taken.add(i)
        return {
            "index": i,
            "national_code": population.national_code(i),
            "birth_date": person["birth_date"],
            "mobile": population.mobile(i),
            "first_name": person["first_name"],
            "last_name": person["last_name"],
        }
    raise AssertionError("no such person")


def citizen(found: dict, *, level: int = 2, mobile: str | None = None) -> User:
    """The person's national window account at ``level`` (1: registry and mobile; 2: and the
    photo check)."""
    now = timezone.now()
    user = User(
        username=f"c-{found['national_code']}",
        national_code=found["national_code"],
        mobile=mobile or found["mobile"],
        first_name=found["first_name"],
        last_name=found["last_name"],
        birth_date=found["birth_date"],
        registry_verified_at=now,
        mobile_verified_at=now,
        photo_verified_at=now if level >= 2 else None,
        is_staff=False,
    )
    user.set_unusable_password()
    user.save()
    assurance.recompute(user)
    assert user.assurance_level == level
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sana_calls(code: str) -> list[str]:
    return list(
        LogRecord.objects.filter(subject=code, service__code__startswith="sana-")
        .order_by("pk")
        .values_list("service__code", flat=True)
    )


# -- through the exchange ---------------------------------------------------------------------

live = pytest.mark.django_db(transaction=True)


@live
def test_a_person_registers_without_a_visit_and_sees_the_account(sana_exchange, sana_population):
    found = person_of(sana_population)
    user = citizen(found)
    client = signed_in(user)
    page = client.get("/en/judiciary/sana/")
    assert page.status_code == 200 and b"sana-form" in page.content

    answer = client.post("/en/judiciary/sana/", {"consent": "on"})
    assert answer.status_code == 302 and answer["Location"].endswith("/judiciary/sana/")
    account = SanaAccount.objects.get(user=user)
    assert len(account.sana_id) == 16 and account.sana_id.isdigit()
    assert account.assurance == 2 and account.mobile == found["mobile"]
    assert account.data["channel"] == "online"
    # The judiciary holds the same account (asked directly, as the judiciary would answer).
    held = httpx.get(
        f"{sana_exchange.url('judiciary')}/sana-account/{found['national_code']}", trust_env=False
    ).json()
    assert held["registered"] and held["sana_id"] == account.sana_id

    # Every call went through the exchange under the person's national code, so they see
    # them in "who read my data": the civil registry, Shahkar, the judiciary's two services.
    services = set(
        LogRecord.objects.filter(subject=found["national_code"]).values_list(
            "service__code", flat=True
        )
    )
    assert {"identity", "mobile-owner", "sana-account", "sana-register"} <= services
    # The person is told in the inbox (and by SMS) with the number.
    message = Message.objects.get(user=user, dedupe_key=f"sana:{account.sana_id}")
    assert account.sana_id in message.body_fa

    shown = client.get("/judiciary/sana/").content.decode()
    assert "sana-account" in shown and "sana-form" not in shown
    assert account.sana_id not in shown  # Persian digits on the Persian page
    from panjereh.common.persian import to_persian_digits

    assert to_persian_digits(account.sana_id) in shown


@live
def test_registering_again_is_idempotent_and_asks_nobody(sana_exchange, sana_population):
    found = person_of(sana_population)
    user = citizen(found)
    first, created = sana.register(user)
    assert created
    calls = len(sana_calls(found["national_code"]))
    again, created_again = sana.register(user)
    assert (again.pk, created_again) == (first.pk, False)
    assert len(sana_calls(found["national_code"])) == calls  # already registered: no call
    # A second POST (a double click) lands on the account, nothing new.
    response = signed_in(user).post("/judiciary/sana/", {"consent": "on"})
    assert response.status_code == 302 and SanaAccount.objects.filter(user=user).count() == 1

    # The window lost its copy (or never got the answer): the judiciary answers the same
    # number again, so a retry links the account it opened.
    sana_id = first.sana_id
    SanaAccount.objects.filter(pk=first.pk).delete()
    retried, created = sana.register(user)
    assert created and retried.sana_id == sana_id
    assert Message.objects.filter(user=user, dedupe_key=f"sana:{sana_id}").count() == 1


@live
def test_an_account_opened_at_an_office_is_linked(sana_exchange, sana_population):
    found = person_of(sana_population, in_person=True)
    user = citizen(found)
    account, created = sana.register(user)
    assert created and account.data["channel"] == "office"
    assert sana_calls(found["national_code"]) == ["sana-account"]  # nothing to register
    page = signed_in(user).get("/en/judiciary/sana/").content.decode()
    assert "At a judicial e-services office" in page


@live
def test_assurance_too_low_says_what_to_do_and_asks_nobody(sana_exchange, sana_population):
    found = person_of(sana_population)
    user = citizen(found, level=1)
    response = signed_in(user).post("/en/judiciary/sana/", {"consent": "on"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-code="assurance"' in page and "level 2" in page
    assert "/account/step-up/?level=2" in page  # the way to raise it
    assert not SanaAccount.objects.exists()
    assert not LogRecord.objects.filter(subject=found["national_code"]).exists()


@live
def test_a_mobile_not_in_the_persons_name_is_refused(sana_exchange, sana_population):
    found = person_of(sana_population)
    other = person_of(sana_population)
    user = citizen(found, mobile=other["mobile"])
    response = signed_in(user).post("/en/judiciary/sana/", {"consent": "on"})
    page = response.content.decode()
    assert response.status_code == 200 and 'data-code="mobile"' in page
    assert "not registered in your name" in page
    assert not SanaAccount.objects.exists()
    assert sana_calls(found["national_code"]) == []  # the judiciary was never asked


@live
def test_a_civil_record_that_does_not_match_is_refused(sana_exchange, sana_population):
    found = person_of(sana_population)
    user = citizen(found)
    User.objects.filter(pk=user.pk).update(birth_date=found["birth_date"] - dt.timedelta(days=3))
    user.refresh_from_db()
    with pytest.raises(sana.SanaRefused) as refused:
        sana.register(user)
    assert refused.value.code == "civil"
    assert not SanaAccount.objects.exists()


@live
@pytest.mark.parametrize("registry", ["judiciary", "shahkar", "civil"])
def test_a_registry_failure_leaves_nothing_half_done(sana_exchange, sana_population, registry):
    found = person_of(sana_population)
    user = citizen(found)
    sana_exchange.control(registry, mode="fail", status=503)
    client = signed_in(user)
    response = client.post("/en/judiciary/sana/", {"consent": "on"})
    assert response.status_code == 503
    page = response.content.decode()
    assert "Nothing was registered" in page and 'id="sana-form"' in page  # the form is kept
    assert not SanaAccount.objects.exists()
    assert not Message.objects.filter(user=user).exists()
    # The judiciary opened nothing either.
    sana_exchange.control(registry, mode="normal")
    held = httpx.get(
        f"{sana_exchange.url('judiciary')}/sana-account/{found['national_code']}", trust_env=False
    ).json()
    assert held["registered"] is False

    # Retrying once the registry is back works.
    breaker.reset()
    gateway.clear_caches()
    assert client.post("/en/judiciary/sana/", {"consent": "on"}).status_code == 302
    assert SanaAccount.objects.filter(user=user).count() == 1


@live
def test_the_judiciary_refuses_a_low_level_even_if_the_window_allowed_it(
    sana_exchange, sana_population, settings
):
    """The judiciary's own floor (level 2) holds when the window's setting is lowered."""
    settings.PANJEREH_JUDICIARY_SANA_ASSURANCE = 1
    found = person_of(sana_population)
    user = citizen(found, level=1)
    with pytest.raises(sana.SanaRefused) as refused:
        sana.register(user)
    assert refused.value.code == "judiciary"
    assert not SanaAccount.objects.exists()


# -- the judiciary registry's own answers (its HTTP, not through the exchange) ---------------------


def test_judiciary_register_refuses_bad_bodies(sana_registries, sana_population):
    found = person_of(sana_population)
    base = f"{sana_registries.url('judiciary')}/sana-register/{found['national_code']}"
    good = {"national_code": found["national_code"], "mobile": found["mobile"], "assurance": 2}
    with httpx.Client(trust_env=False) as http:
        assert http.post(base, content=b"not json").status_code == 400
        assert http.post(base, content=b'{"mobile": "0912\\u0000"}').status_code == 400
        other = {**good, "national_code": "0012345679"}
        assert http.post(base, json=other).status_code == 400  # names another person
        assert http.post(base, json={**good, "assurance": 1}).status_code == 403
        wrong = person_of(sana_population)["mobile"]
        assert http.post(base, json={**good, "mobile": wrong}).status_code == 422
        assert http.get(f"{base}").json()["registered"] is False  # nothing kept
        first = http.post(base, json=good)
        second = http.post(base, json=good)
        assert (first.status_code, second.status_code) == (201, 200)
        assert first.json()["sana_id"] == second.json()["sana_id"]
        assert http.delete(base).status_code == 405
        unknown = f"{sana_registries.url('judiciary')}/sana-account/1234567890"
        assert http.get(unknown).status_code == 404


# -- who may: rights checked in the operation -------------------------------------------------


@pytest.mark.django_db
def test_only_the_person_themself_may_register(sana_population):
    found = person_of(sana_population)
    user = citizen(found)
    delegation = Delegation(principal=user, helper_national_code="0012345679", purpose="x")
    with pytest.raises(roles.NotPermitted):
        sana.register(user, delegation=delegation)
    with pytest.raises(roles.NotPermitted):
        sana.register(user, company=object())
    staff = User.objects.create(username="clerk", is_staff=True)
    with pytest.raises(roles.NotPermitted):
        sana.register(staff)
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(roles.NotPermitted):
        sana.register(AnonymousUser())
    assert not SanaAccount.objects.exists()


@pytest.mark.django_db
def test_a_helper_sees_the_persons_account_but_cannot_register_them(sana_population):
    found = person_of(sana_population)
    principal = citizen(found)
    helper = citizen(person_of(sana_population))
    delegation = Delegation.objects.create(
        principal=principal,
        helper_national_code=helper.national_code,
        helper=helper,
        purpose="help",
        accepted_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=3),
    )
    client = signed_in(helper)
    from panjereh.identity.audit import ACTING_SESSION_KEY

    session = client.session
    session[ACTING_SESSION_KEY] = delegation.pk
    session.save()
    page = client.get("/en/judiciary/sana/")
    assert page.status_code == 200 and b"sana-blocked" in page.content
    refused = client.post("/en/judiciary/sana/", {"consent": "on"})
    assert refused.status_code == 403 and not SanaAccount.objects.exists()

    account = SanaAccount.objects.create(
        user=principal, sana_id="1000000000000001", mobile=found["mobile"], assurance=2
    )
    shown = client.get("/en/judiciary/sana/").content.decode()
    assert "helper-note" in shown and "1000000000000001" in shown
    assert found["mobile"] not in shown  # the person's number is not shown to the helper
    # The helper's own page (no delegation chosen) shows the helper's, not the principal's.
    session = client.session
    del session[ACTING_SESSION_KEY]
    session.save()
    own = client.get("/en/judiciary/sana/").content.decode()
    assert account.sana_id not in own and "sana-form" in own


@pytest.mark.django_db
def test_bad_input_changes_nothing(sana_population):
    found = person_of(sana_population)
    user = citizen(found)
    client = signed_in(user)
    # No consent: the error summary first, the form kept, nothing asked.
    response = client.post("/en/judiciary/sana/", {})
    assert response.status_code == 400
    page = response.content.decode()
    assert page.index("error-summary") < page.index('id="sana-form"')
    assert "Confirm that you accept" in page
    # NUL bytes and text that is not UTF-8 are refused before any view runs.
    assert client.post("/en/judiciary/sana/", {"consent": "on\x00"}).status_code == 400
    raw = client.post(
        "/en/judiciary/sana/",
        data=b"consent=%FF%FE",
        content_type="application/x-www-form-urlencoded",
    )
    assert raw.status_code == 400
    huge = client.post("/en/judiciary/sana/", {"consent": "on" * 2_000_000})
    assert huge.status_code in (400, 413)
    assert not SanaAccount.objects.exists()


@pytest.mark.django_db
def test_registration_needs_csrf_and_a_signed_in_person(sana_population):
    user = citizen(person_of(sana_population))
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post("/en/judiciary/sana/", {"consent": "on"}).status_code == 403
    anonymous = Client().get("/en/judiciary/sana/")
    assert anonymous.status_code == 302 and "/account/login/" in anonymous["Location"]
    assert not SanaAccount.objects.exists()


@pytest.mark.django_db
def test_the_landing_lists_the_judicial_services(client):
    page = client.get("/en/judiciary/").content.decode()
    assert 'id="service-sana"' in page and 'id="service-mailbox"' in page
    assert "Register for SANA" in page
    fa = client.get("/judiciary/").content.decode()
    assert "خدمات" in fa or "ثنا" in fa


# -- judicial notices: the judiciary as a sender of the official mailbox ---------------------


@pytest.mark.django_db
def test_the_judiciary_joins_the_mailbox_and_sends_a_notice(client, sana_population):
    judiciary = catalogue_operations.save_agency(
        Agency(),
        {
            "code": "judiciary",
            "name_fa": "قوه قضاییه",
            "name_en": "Judiciary",
            "kind": "public_institution",
            "member_class": "GOV",
            "member_code": ORGANISATIONS["judiciary"][0],
        },
        author=catalogue_operations.SYSTEM,
    )
    key = generate_key()
    system = sana.join_mailbox(public_jwks(key))
    assert system.agency == judiciary and system.subsystem == sana.NOTICE_SUBSYSTEM
    again = sana.join_mailbox(public_jwks(key))  # idempotent
    assert again.pk == system.pk and ConsumerSystem.objects.filter(agency=judiciary).count() == 1

    person = citizen(person_of(sana_population))
    headers = {
        "HTTP_X_ROAD_CLIENT": system.client_id,
        "HTTP_AUTHORIZATION": "Bearer " + make_assertion(key, system.client_id, "urn:panjereh:nix"),
        "HTTP_IDEMPOTENCY_KEY": "sana-test-1",
    }
    body = {"to": {"national_code": person.national_code}, "subject": "ابلاغیه", "body": "متن"}
    sent = client.post(
        "/api/mailbox/v1/notices",
        data=json.dumps(body, ensure_ascii=False),
        content_type="application/json",
        **headers,
    )
    assert sent.status_code == 201, sent.content
    assert sent.json()["status"] == "made_available"

    # The demo's way: the judiciary's exchange key kept in the window's key store.
    demo = sana.join_mailbox(agency=judiciary)
    assert demo.pk == system.pk and demo.jwks["keys"][0]["kid"]
    with pytest.raises(ValueError):
        sana.join_mailbox(agency=Agency(code="x", name_fa="x"))
