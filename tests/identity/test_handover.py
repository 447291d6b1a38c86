"""Hand-over signed in (OIDC Core §4, third-party-initiated login): a service an agency's own
window handles is started from its card; the person, signed in at the national window, is sent
to the window's registered initiate-login URI with ``iss``, ``login_hint`` (their pairwise
subject there) and ``target_link_uri``, and the window signs them in through its code flow
without a second sign-in. The card offers it only when that window answers."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone

from panjereh.identity import clients
from panjereh.identity.models import ClientProfile
from panjereh.identity.oidc import pairwise_subject
from panjereh.status.models import System, SystemKind
from tests.factories import make_agency, make_service

from .conftest import PERSON_CODE, PERSON_MOBILE
from .helpers import form_with, last_code
from .oidc_helpers import consent

WINDOW = "https://window.shilat.example"


def _answering(url: str, ok: bool = True) -> None:
    System.objects.create(
        key=urlsplit(url).hostname,
        kind=SystemKind.AGENCY_WINDOW,
        name_fa="پنجره",
        check_url=url,
        last_ok=ok,
        last_checked_at=timezone.now(),
    )


@pytest.fixture
def registered(db):
    agency = make_agency(code="shilat-test")
    client, _secret = clients.register_agency_client(
        "پنجره شیلات",
        [f"{WINDOW}/callback"],
        client_id="shilat-window",
        initiate_login_uri=f"{WINDOW}/initiate-login",
        agency=agency,
    )
    service = make_service(agency, online_url=f"{WINDOW}/licences/new")
    return {"agency": agency, "client": client, "service": service}


def _card(client, service, lang: str = "/en") -> str:
    response = client.get(f"{lang}/services/{service.service_id}/")
    assert response.status_code == 200
    return response.content.decode()


# -- the registration and the address ---------------------------------------------------------


def test_the_window_is_found_by_its_agency_and_origin(registered):
    agency, client = registered["agency"], registered["client"]
    assert ClientProfile.objects.get(application=client).initiate_login_uri.endswith(
        "/initiate-login"
    )
    assert clients.window_for(agency.pk, f"{WINDOW}/anything?x=1") == client
    assert clients.window_for(agency.pk, "https://elsewhere.example/licences/new") is None
    assert clients.window_for(make_agency(code="another").pk, f"{WINDOW}/x") is None
    assert clients.window_for(agency.pk, "javascript:alert(1)") is None


def test_the_initiate_login_address_names_issuer_person_and_target(registered, citizen):
    client = registered["client"]
    url = clients.initiate_login_url(
        client, citizen, f"{WINDOW}/licences/new", "https://panjereh.example"
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{WINDOW}/initiate-login"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "iss": "https://panjereh.example",
        "login_hint": pairwise_subject(citizen, client),
        "target_link_uri": f"{WINDOW}/licences/new",
    }
    assert citizen.national_code not in url  # a pairwise subject, never the national code
    with pytest.raises(ValueError):
        clients.initiate_login_url(client, citizen, "https://evil.example/", "https://x")


# -- the card ---------------------------------------------------------------------------------


def test_the_card_hands_over_when_the_window_answers(registered, client):
    service = registered["service"]
    _answering(f"{WINDOW}/status")
    page = _card(client, service)
    assert f'href="/en/services/handover/{service.service_id}/"' in page
    assert 'id="handover-notice"' in page and "you do not sign in again" in page
    assert f'href="{WINDOW}' not in page  # not a plain link out
    fa = _card(client, service, lang="")
    assert 'id="handover-start"' in fa and "دوباره وارد شوید" in fa


def test_the_card_never_links_a_window_that_does_not_answer(registered, client):
    service = registered["service"]
    _answering(f"{WINDOW}/status", ok=False)
    page = _card(client, service)
    assert "handover" not in page and f'href="{WINDOW}' not in page
    assert 'id="not-online"' in page and 'id="outside-unavailable"' in page
    assert 'id="agency-contact"' in page


def test_a_card_with_no_way_online_says_so_with_the_agency(db, client):
    agency = make_agency(code="no-window")
    service = make_service(agency, connected=False)
    page = _card(client, service)
    assert 'id="not-online"' in page and 'id="agency-contact"' in page
    assert f'href="/en/agencies/{agency.code}/"' in page
    assert 'class="button button-start"' not in page


def test_an_exempt_card_says_so(db, client):
    service = make_service(
        make_agency(code="exempt-agency"),
        scope="exempt",
        connected=False,
        exemption_reason="security",
        exemption_document="1404/1",
    )
    page = _card(client, service)
    assert "exempt from being offered online" in page and 'id="agency-contact"' in page


# -- the hand-over address --------------------------------------------------------------------


def test_the_handover_needs_a_signed_in_person_and_sends_them_to_the_window(
    registered, client, citizen
):
    service = registered["service"]
    response = client.get(f"/services/handover/{service.service_id}/")
    assert response.status_code == 302 and "/account/login/" in response["Location"]
    client.force_login(citizen)
    response = client.get(f"/services/handover/{service.service_id}/")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{WINDOW}/initiate-login?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["iss"] == "http://testserver"
    assert query["target_link_uri"] == service.online_url
    assert query["login_hint"] == pairwise_subject(citizen, registered["client"])


def test_no_handover_for_a_service_without_a_registered_window(db, client, citizen):
    service = make_service(make_agency(code="plain"), online_url="https://plain.example/x")
    client.force_login(citizen)
    assert client.get(f"/services/handover/{service.service_id}/").status_code == 404
    assert client.get("/services/handover/0000000000/").status_code == 404


# -- end to end, with the sample agency window as its own process ------------------------------


def _sign_in_national(http: requests.Session, base: str) -> None:
    response = http.get(f"{base}/account/login/")
    form = form_with(response.text, "national_code")
    form["fields"]["national_code"] = PERSON_CODE
    response = http.post(response.url, data=form["fields"])
    form = form_with(response.text, "code")
    form["fields"]["code"] = last_code(PERSON_MOBILE)
    response = http.post(response.url, data=form["fields"])
    assert "/account/login/" not in response.url


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_start_now_signs_the_person_in_at_the_agency_window(live_server, citizen, agency_windows):
    a = agency_windows["a"]
    agency = make_agency(code="window-a-agency")
    ClientProfile.objects.filter(application__client_id=a["client_id"]).update(agency=agency)
    service = make_service(agency, online_url=a["base_url"] + "/")
    _answering(a["base_url"] + "/status")
    http = requests.Session()
    _sign_in_national(http, live_server.url)

    card = http.get(f"{live_server.url}/services/{service.service_id}/").text
    start = f"/services/handover/{service.service_id}/"
    assert f'href="{start}"' in card
    response = http.get(live_server.url + start)
    if "authorizationForm" in response.text:  # the window's consent, the first time only
        response = http.get(consent(http, response).headers["Location"])
    assert response.url == a["base_url"] + "/" and "signed-in" in response.text
    assert not any("/account/login/" in r.url for r in response.history)
    window = requests.get(a["base_url"] + "/status", timeout=5).json()
    assert window["handovers"] == 1 and window["sessions"] == 1
    # A second hand-over: straight through, no consent, no sign-in.
    again = http.get(live_server.url + start)
    assert again.url == a["base_url"] + "/" and "signed-in" in again.text
    assert not any("/account/login/" in r.url for r in again.history)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_window_follows_only_its_issuer_to_its_own_pages(live_server, agency_windows):
    a = agency_windows["a"]
    base = a["base_url"] + "/initiate-login"
    wrong_issuer = requests.get(
        base,
        params={"iss": "https://evil.example", "target_link_uri": a["base_url"] + "/"},
        timeout=10,
    )
    assert wrong_issuer.status_code == 400
    elsewhere = requests.get(
        base,
        params={"iss": live_server.url, "target_link_uri": "https://evil.example/"},
        allow_redirects=False,
        timeout=10,
    )
    assert elsewhere.status_code == 400
    good = requests.get(
        base,
        params={"iss": live_server.url, "target_link_uri": a["base_url"] + "/"},
        allow_redirects=False,
        timeout=10,
    )
    assert good.status_code == 302 and "/oidc/authorize/" in good.headers["Location"]
