"""Businesses and their representatives: adding a company, the profile switch, delegations,
the registry re-checked at each acting request, and who may do what.

Most tests put a fake company registry in place of ``registry_checks.company_record`` (their
subject is the window's rules); ``test_through_the_exchange_*`` use the real registry process."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from panjereh.common.persian import to_persian_digits
from panjereh.identity import businesses, registry_checks
from panjereh.identity.models import (
    AuthEvent,
    CompanyDelegation,
    LegalPerson,
    Representative,
)
from panjereh.identity.operations import IdentityError
from panjereh.registries.population import Population

from .conftest import OTHER_CODE, OTHER_MOBILE, PERSON_CODE, make_citizen
from .helpers import national_code

pytestmark = pytest.mark.django_db

POP = Population(seed=1404, size=10_000)
COMPANY_ID = POP.company_id(3)
OTHER_COMPANY_ID = POP.company_id(4)
BOARD_CODE = national_code("222333444")
ACCOUNTANT_CODE = national_code("555666777")
ACCOUNTANT_MOBILE = "09120000077"
WRONG_CHECK_DIGIT = COMPANY_ID[:10] + str((int(COMPANY_ID[10]) + 1) % 10)


def _unknown_valid_id() -> str:
    from panjereh.identity.validators import is_valid_legal_national_id

    for n in range(1, 10_000):
        body = str(10**9 + n)
        for digit in range(10):
            code = body + str(digit)
            if is_valid_legal_national_id(code) and code not in (COMPANY_ID, OTHER_COMPANY_ID):
                return code
    raise AssertionError


UNKNOWN_ID = _unknown_valid_id()


class FakeCompanies:
    """The company registry as the window sees it through the exchange."""

    def __init__(self) -> None:
        self.boards = {
            COMPANY_ID: [
                (PERSON_CODE, "ceo", "2010-01-01"),
                (PERSON_CODE, "signatory", "2010-01-01"),
                (BOARD_CODE, "board", "2015-05-05"),
            ],
            OTHER_COMPANY_ID: [(OTHER_CODE, "ceo", "2012-02-02")],
        }
        self.names = {COMPANY_ID: "شرکت پارس نوین", OTHER_COMPANY_ID: "شرکت البرز سازه"}
        self.dissolved: set[str] = set()
        self.down = False
        self.calls = 0

    def company_record(self, national_id):
        self.calls += 1
        if self.down:
            raise registry_checks.RegistryUnavailable("down")
        if national_id not in self.boards:
            return None
        return registry_checks.CompanyRecord(
            national_id=national_id,
            name=self.names[national_id],
            active=national_id not in self.dissolved,
            representatives=tuple(self.boards[national_id]),
        )

    def remove(self, national_id, code):
        self.boards[national_id] = [r for r in self.boards[national_id] if r[0] != code]


@pytest.fixture
def registry(monkeypatch):
    fake = FakeCompanies()
    monkeypatch.setattr(registry_checks, "company_record", fake.company_record)
    return fake


@pytest.fixture
def ceo(db):
    return make_citizen()


@pytest.fixture
def board_member(db):
    return make_citizen(BOARD_CODE, "09120000066", first_name="رضا", last_name="محمدی")


@pytest.fixture
def stranger(db):
    return make_citizen(OTHER_CODE, OTHER_MOBILE, first_name="علی", last_name="کریمی")


@pytest.fixture
def accountant(db):
    return make_citizen(ACCOUNTANT_CODE, ACCOUNTANT_MOBILE, first_name="سارا", last_name="نیکو")


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _add(client, national_id, lang=""):
    return client.post(f"{lang}/account/companies/", {"national_id": national_id})


def _switch(client, national_id):
    return client.post("/account/companies/switch/", {"national_id": national_id})


def _future(days: int) -> str:
    from panjereh.common import jalali

    return jalali.format_fa(timezone.localdate() + dt.timedelta(days=days), with_month_name=False)


def _grant(client, company=COMPANY_ID, code=ACCOUNTANT_CODE, scopes=("apply", "read"), days=30):
    return client.post(
        f"/account/companies/{company}/",
        {"delegate_national_code": code, "scopes": list(scopes), "expires_on": _future(days)},
    )


# -- adding a company -----------------------------------------------------------------------


def test_a_named_director_adds_the_company_and_its_rows_come_from_the_registry(registry, ceo):
    client = browser(ceo)
    response = _add(client, to_persian_digits(COMPANY_ID))  # Persian digits are accepted
    assert response.status_code == 302
    company = LegalPerson.objects.get(national_id=COMPANY_ID)
    assert company.name == registry.names[COMPANY_ID]
    roles = set(Representative.objects.filter(person=ceo).values_list("role", flat=True))
    assert roles == {"ceo", "signatory"}
    event = AuthEvent.objects.get(kind=AuthEvent.Kind.COMPANY_ADDED)
    assert event.user == ceo and event.acting_company == company
    page = client.get("/en/account/companies/").content.decode()
    assert registry.names[COMPANY_ID] in page and "Chief executive" in page


@pytest.mark.parametrize(
    ("national_id", "message"),
    [
        (WRONG_CHECK_DIGIT, "This national ID is not valid."),
        ("123", "exactly 11 digits"),
        (UNKNOWN_ID, "holds no legal person with this national ID"),
        (OTHER_COMPANY_ID, "does not name you as a director"),
    ],
)
def test_refusals_are_clear_and_change_nothing(registry, ceo, national_id, message):
    client = browser(ceo)
    response = _add(client, national_id, lang="/en")
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page and "There is a problem" in page  # the error summary
    assert f'value="{national_id}"' in page  # the form is kept
    assert not LegalPerson.objects.exists() and not Representative.objects.exists()


def test_refusal_in_persian(registry, ceo):
    page = _add(browser(ceo), WRONG_CHECK_DIGIT).content.decode()
    assert "شناسه ملی" in page and "This national ID" not in page


def test_a_dissolved_company_and_a_registry_that_does_not_answer(registry, ceo):
    registry.dissolved.add(COMPANY_ID)
    page = _add(browser(ceo), COMPANY_ID, lang="/en").content.decode()
    assert "dissolved" in page and not Representative.objects.exists()
    registry.dissolved.clear()
    registry.down = True
    response = _add(browser(ceo), COMPANY_ID, lang="/en")
    assert response.status_code == 503 and "not answering" in response.content.decode()
    assert not Representative.objects.exists()


def test_nul_bytes_and_odd_text_change_nothing(registry, ceo):
    client = browser(ceo)
    response = _add(client, COMPANY_ID[:5] + "\x00" + COMPANY_ID[5:], lang="/en")
    assert response.status_code in (200, 400)
    response = _add(client, "\u202e" + "ABC" * 1000, lang="/en")
    assert response.status_code == 200
    response = client.post("/en/account/companies/switch/", {"national_id": "1\x00"})
    assert response.status_code in (302, 400)
    assert not LegalPerson.objects.exists() and client.session.get(businesses.SESSION_KEY) is None


# -- the profile switch and the registry at each request ---------------------------------------


def test_switching_shows_acting_as_and_is_recorded(registry, ceo):
    client = browser(ceo)
    _add(client, COMPANY_ID)
    response = _switch(client, COMPANY_ID)
    assert response.status_code == 302
    assert client.session[businesses.SESSION_KEY]["national_id"] == COMPANY_ID
    page = client.get("/en/account/").content.decode()
    assert 'id="acting-as"' in page and registry.names[COMPANY_ID] in page
    event = AuthEvent.objects.get(kind=AuthEvent.Kind.ACTING_FOR_COMPANY)
    assert event.user == ceo and event.acting_company.national_id == COMPANY_ID
    # Back to oneself.
    _switch(client, "")
    assert businesses.SESSION_KEY not in client.session
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.ACTING_AS_SELF).count() == 1
    page = client.get("/en/account/").content.decode()
    assert "yourself" in page


def test_switching_to_a_company_that_does_not_name_you_is_refused(registry, ceo, stranger):
    _add(browser(stranger), OTHER_COMPANY_ID)
    client = browser(ceo)
    response = client.post("/en/account/companies/switch/", {"national_id": OTHER_COMPANY_ID})
    assert response.status_code == 302
    assert businesses.SESSION_KEY not in client.session
    assert "does not name you" in client.get("/en/account/companies/").content.decode()


def test_a_director_removed_by_the_registry_stops_acting_at_the_next_acting_request(
    registry, ceo, settings
):
    settings.PANJEREH_IDENTITY_REPRESENTATION_TTL = 60
    client = browser(ceo)
    _add(client, COMPANY_ID)
    _switch(client, COMPANY_ID)
    registry.remove(COMPANY_ID, PERSON_CODE)
    # The next request that acts asks the registry afresh: the choice is dropped, with a message.
    response = client.post("/en/account/companies/", {"national_id": COMPANY_ID}, follow=True)
    page = response.content.decode()
    assert businesses.SESSION_KEY not in client.session
    assert "You no longer act for" in page
    assert 'id="acting-as"' not in page or "yourself" in page
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.ACTING_ENDED, user=ceo).exists()
    # The copied rows are ended, and that is recorded too.
    assert not Representative.objects.filter(person=ceo, valid_until__isnull=True).exists()
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.REPRESENTATION_ENDED, user=ceo).exists()
    with pytest.raises(businesses.CannotAct) as refused:
        businesses.require_can_act(ceo, COMPANY_ID, "apply")
    assert refused.value.code == "not_representative"


def test_signing_in_again_asks_the_registry_afresh(registry, ceo, settings):
    settings.PANJEREH_IDENTITY_REPRESENTATION_TTL = 60
    from importlib import import_module

    from django.contrib.auth import login
    from django.test import RequestFactory

    from panjereh.identity.operations import BACKEND

    client = browser(ceo)
    _add(client, COMPANY_ID)
    _switch(client, COMPANY_ID)

    browser_session = {"key": client.session.session_key}

    def sign_in_again():  # the same person signs in again in this browser (a step-up)
        request = RequestFactory().get("/account/")
        request.session = import_module(settings.SESSION_ENGINE).SessionStore(
            browser_session["key"]
        )
        assert request.session.get("_auth_user_id") == str(ceo.pk)
        request.user = ceo
        login(request, ceo, backend=BACKEND)
        request.session.save()
        browser_session["key"] = request.session.session_key
        return request.session

    assert sign_in_again()[businesses.SESSION_KEY]["national_id"] == COMPANY_ID
    registry.remove(COMPANY_ID, PERSON_CODE)
    assert businesses.SESSION_KEY not in sign_in_again()
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.ACTING_ENDED, user=ceo).exists()


def test_pages_reuse_the_registry_answer_within_the_ttl_and_not_beyond(registry, ceo, settings):
    settings.PANJEREH_IDENTITY_REPRESENTATION_TTL = 60
    client = browser(ceo)
    _add(client, COMPANY_ID)
    _switch(client, COMPANY_ID)
    before = registry.calls
    client.get("/en/account/")
    client.get("/en/account/")
    assert registry.calls == before  # showing pages: the kept answer
    settings.PANJEREH_IDENTITY_REPRESENTATION_TTL = 0
    registry.remove(COMPANY_ID, PERSON_CODE)
    page = client.get("/en/account/", follow=True).content.decode()
    assert "You no longer act for" in page and businesses.SESSION_KEY not in client.session


def test_require_can_act_follows_roles_and_scopes(registry, ceo, board_member):
    found = businesses.require_can_act(ceo, COMPANY_ID, "pay")
    assert found.role == "ceo" and found.scopes == {"apply", "pay", "read"}
    assert businesses.require_can_act(board_member, COMPANY_ID, "read").role == "board"
    with pytest.raises(businesses.CannotAct) as refused:
        businesses.require_can_act(board_member, COMPANY_ID, "pay")
    assert refused.value.code == "out_of_scope"
    registry.down = True
    with pytest.raises(businesses.CannotAct) as refused:
        businesses.require_can_act(ceo, COMPANY_ID, "apply")
    assert refused.value.code == "registry_unavailable"


# -- delegations ------------------------------------------------------------------------------


def test_a_delegate_acts_within_scope_until_revoked(registry, ceo, accountant):
    client = browser(ceo)
    _add(client, COMPANY_ID)
    response = _grant(client)
    assert response.status_code == 302
    delegation = CompanyDelegation.objects.get()
    assert delegation.scopes == ["apply", "read"] and delegation.granted_by == ceo
    assert AuthEvent.objects.filter(
        kind=AuthEvent.Kind.COMPANY_DELEGATION_GRANTED, acting_company__national_id=COMPANY_ID
    ).exists()
    # The accountant sees the company and may switch to it.
    helper = browser(accountant)
    assert registry.names[COMPANY_ID] in helper.get("/account/companies/").content.decode()
    _switch(helper, COMPANY_ID)
    assert helper.session[businesses.SESSION_KEY]["role"] == "delegate"
    assert businesses.require_can_act(accountant, COMPANY_ID, "apply").delegation_id
    with pytest.raises(businesses.CannotAct):
        businesses.require_can_act(accountant, COMPANY_ID, "pay")
    # A delegate cannot authorise anyone else.
    response = _grant(helper, code=BOARD_CODE, scopes=("read",))
    assert response.status_code == 404 or "cannot authorise others" in response.content.decode()
    with pytest.raises(IdentityError) as refused:
        businesses.grant_delegation(
            accountant, COMPANY_ID, BOARD_CODE, ["read"], timezone.localdate() + dt.timedelta(5)
        )
    assert refused.value.code == "no_redelegation"
    # Revoked: the accountant's next acting request no longer acts.
    client.post(f"/account/companies/authorisations/{delegation.pk}/revoke/")
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None and delegation.revoked_by == ceo
    helper.post("/en/account/companies/", {"national_id": "x"})
    assert businesses.SESSION_KEY not in helper.session
    with pytest.raises(businesses.CannotAct):
        businesses.require_can_act(accountant, COMPANY_ID, "apply")


def test_delegation_limits(registry, ceo, board_member, accountant):
    _add(browser(ceo), COMPANY_ID)
    today = timezone.localdate()
    cases = [
        (board_member, ["pay"], today + dt.timedelta(10), "beyond_scope"),
        (ceo, [], today + dt.timedelta(10), "beyond_scope"),
        (ceo, ["apply"], today + dt.timedelta(366), "expiry"),
        (ceo, ["apply"], today, "expiry"),
        (ceo, ["apply"], today - dt.timedelta(3), "expiry"),
    ]
    for who, scopes, until, code in cases:
        with pytest.raises(IdentityError) as refused:
            businesses.grant_delegation(who, COMPANY_ID, ACCOUNTANT_CODE, scopes, until)
        assert refused.value.code == code, (who, scopes, until)
    with pytest.raises(IdentityError) as refused:
        businesses.grant_delegation(ceo, COMPANY_ID, PERSON_CODE, ["read"], today + dt.timedelta(9))
    assert refused.value.code == "self"
    assert not CompanyDelegation.objects.exists()
    # Through the page: the error is on the field, the form kept.
    page = _grant(browser(ceo), days=400).content.decode()
    assert "at most one year" in page or "یک سال" in page
    # A board member may give what they hold (reading), a year at most.
    businesses.grant_delegation(
        board_member, COMPANY_ID, ACCOUNTANT_CODE, ["read"], today + dt.timedelta(365)
    )
    assert CompanyDelegation.objects.count() == 1


def test_a_delegation_ends_at_its_expiry_and_with_its_grantor(registry, ceo, accountant):
    _add(browser(ceo), COMPANY_ID)
    today = timezone.localdate()
    businesses.grant_delegation(
        ceo, COMPANY_ID, ACCOUNTANT_CODE, ["apply"], today + dt.timedelta(3)
    )
    assert businesses.require_can_act(accountant, COMPANY_ID, "apply")
    with time_machine.travel(timezone.now() + dt.timedelta(days=5)):
        with pytest.raises(businesses.CannotAct):
            businesses.require_can_act(accountant, COMPANY_ID, "apply")
    # The grantor no longer named: the delegation lapses with them.
    registry.remove(COMPANY_ID, PERSON_CODE)
    with pytest.raises(businesses.CannotAct):
        businesses.require_can_act(accountant, COMPANY_ID, "apply")


# -- who may do what -------------------------------------------------------------------------


def test_role_by_action_matrix(registry, ceo, stranger, accountant):
    owner = browser(ceo)
    _add(owner, COMPANY_ID)
    _grant(owner)
    delegation = CompanyDelegation.objects.get()
    writes = [
        ("/account/companies/", {"national_id": COMPANY_ID}),
        ("/account/companies/switch/", {"national_id": COMPANY_ID}),
        (
            f"/account/companies/{COMPANY_ID}/",
            {"delegate_national_code": OTHER_CODE, "scopes": ["read"], "expires_on": _future(5)},
        ),
        (f"/account/companies/authorisations/{delegation.pk}/revoke/", {}),
    ]
    # Not signed in: sent to sign in, nothing written.
    for url, data in writes:
        response = Client().post(url, data)
        assert response.status_code == 302 and "/account/login/" in response["Location"]
    # Another person: another company's page, grant and revoke are not found; the switch refused.
    other = browser(stranger)
    assert other.get(f"/account/companies/{COMPANY_ID}/").status_code == 404
    assert other.post(writes[2][0], writes[2][1]).status_code == 404
    assert other.post(writes[3][0]).status_code == 404
    assert (
        other.post(f"/account/companies/authorisations/{delegation.pk + 99}/revoke/").status_code
        == 404
    )
    other.post(writes[1][0], writes[1][1])
    assert businesses.SESSION_KEY not in other.session
    # The delegate may see the company but not its delegations, nor revoke or grant.
    helper = browser(accountant)
    page = helper.get(f"/account/companies/{COMPANY_ID}/")
    assert page.status_code == 200 and "delegations-table" not in page.content.decode()
    assert helper.post(writes[3][0]).status_code == 404
    assert helper.post(writes[2][0], writes[2][1]).status_code == 404
    delegation.refresh_from_db()
    assert delegation.revoked_at is None
    assert CompanyDelegation.objects.count() == 1
    # A GET cannot write; the owner's writes succeed.
    assert owner.get(writes[3][0]).status_code == 405
    assert owner.post(writes[3][0]).status_code == 302
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None


def test_events_name_the_person_and_the_company_and_are_shown(registry, ceo):
    client = browser(ceo)
    _add(client, COMPANY_ID)
    _switch(client, COMPANY_ID)
    _grant(client)
    page = client.get("/en/account/companies/").content.decode()
    for label in ("Company added", "Started acting for a company", "Company authorisation granted"):
        assert label in page
    assert all(
        e.acting_company and e.acting_company.national_id == COMPANY_ID
        for e in AuthEvent.objects.filter(user=ceo).exclude(kind__in=["login"])
        if e.kind.startswith("company") or e.kind.startswith("acting")
    )


# -- the real registry, through the exchange ---------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_through_the_exchange_a_director_removed_by_the_registry_stops_acting(
    through_exchange, registry_cluster, population
):
    national_id = population.company_id(3)
    seeded = population.company_representatives(3)
    ceo_code = seeded[0]["national_code"]
    person = make_citizen(ceo_code, "09120000099")
    client = browser(person)
    assert _add(client, national_id).status_code == 302
    company = LegalPerson.objects.get(national_id=national_id)
    assert company.name == population.company(3)["name"]  # from the registry, never typed
    _switch(client, national_id)
    assert client.session[businesses.SESSION_KEY]["role"] == "ceo"
    try:
        registry_cluster.control(
            "ssaa",
            representatives={national_id: [r for r in seeded if r["national_code"] != ceo_code]},
        )
        page = client.post("/en/account/companies/", {"national_id": national_id}, follow=True)
        assert businesses.SESSION_KEY not in client.session
        assert "You no longer act for" in page.content.decode()
        with pytest.raises(businesses.CannotAct):
            businesses.require_can_act(person, national_id, "apply")
    finally:
        registry_cluster.control("ssaa", representatives={national_id: None})
    assert businesses.require_can_act(person, national_id, "apply").role == "ceo"
    # The exchange's log files the inquiries under the company, their subject.
    from panjereh.exchange.models import LogRecord

    assert LogRecord.objects.filter(subject=national_id).exists()


# -- the org claim of agency windows -------------------------------------------------------------


def _csrf(http, url) -> str:
    from .helpers import forms_of

    page = http.get(url)
    return next(
        f["fields"]["csrfmiddlewaretoken"]
        for f in forms_of(page.text)
        if "csrfmiddlewaretoken" in f["fields"]
    )


@pytest.mark.django_db(transaction=True)
def test_the_org_claim_only_with_the_scope_and_only_while_acting(live_server, registry):
    import requests

    from panjereh.identity.clients import register_agency_client

    from .conftest import PERSON_MOBILE
    from .oidc_helpers import op_sign_in
    from .test_oidc import CALLBACK, code_flow, discover, verify_id_token

    make_citizen()
    secrets = {
        name: register_agency_client(
            f"پنجره {name}", [CALLBACK], client_id=name, backchannel_logout_uri=""
        )[1]
        for name in ("org-a", "org-b", "org-c", "org-d")
    }
    meta = discover(live_server.url)
    assert "org" in meta["scopes_supported"] and "org" in meta["claims_supported"]
    http = requests.Session()
    op_sign_in(http, live_server.url, PERSON_CODE, PERSON_MOBILE)

    def claims_of(client_id, scope):
        _client, token, nonce = code_flow(http, meta, client_id, secrets[client_id], scope=scope)
        return token, verify_id_token(meta, token, client_id, nonce)

    # Acting as oneself: no org claim, even with the scope.
    _token, claims = claims_of("org-a", "openid org")
    assert "org" not in claims
    url = f"{live_server.url}/account/companies/"
    token = _csrf(http, url)
    http.post(url, data={"national_id": COMPANY_ID, "csrfmiddlewaretoken": token})
    http.post(f"{url}switch/", data={"national_id": COMPANY_ID, "csrfmiddlewaretoken": token})
    # Acting for the company, with the scope: the claim, in the ID token and at userinfo.
    token, claims = claims_of("org-b", "openid org")
    assert claims["org"] == {
        "national_id": COMPANY_ID,
        "name": registry.names[COMPANY_ID],
        "role": "ceo",
        "scopes": ["apply", "pay", "read"],
    }
    userinfo = requests.get(
        meta["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    ).json()
    assert userinfo["org"]["national_id"] == COMPANY_ID
    # Without the scope: no claim.
    _token, claims = claims_of("org-c", "openid profile")
    assert "org" not in claims
    # The registry no longer names the person: the next token carries no claim, nor userinfo.
    registry.remove(COMPANY_ID, PERSON_CODE)
    _token, claims = claims_of("org-d", "openid org")
    assert "org" not in claims
    userinfo = requests.get(
        meta["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    ).json()
    assert "org" not in userinfo
