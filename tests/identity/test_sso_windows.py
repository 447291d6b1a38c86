"""Single sign-on across two agency windows (separate processes using Authlib), and sign-out
everywhere through back-channel logout."""

from __future__ import annotations

import pytest
import requests

from panjereh.identity.models import AuthEvent

from .conftest import PERSON_CODE, PERSON_MOBILE
from .helpers import form_with, last_code
from .oidc_helpers import consent

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def sign_in_at_window(http: requests.Session, window: dict) -> requests.Response:
    """Open the window's sign-in link; sign in at the national window if asked; agree."""
    response = http.get(window["base_url"] + "/login")
    if "/account/login/" in response.url:
        form = form_with(response.text, "national_code")
        form["fields"]["national_code"] = PERSON_CODE
        response = http.post(response.url, data=form["fields"])
        form = form_with(response.text, "code")
        form["fields"]["code"] = last_code(PERSON_MOBILE)
        response = http.post(response.url, data=form["fields"])
    if "authorizationForm" in response.text:
        redirect = consent(http, response)
        response = http.get(redirect.headers["Location"])
    return response


def status(window: dict) -> dict:
    return requests.get(window["base_url"] + "/status", timeout=5).json()


def test_sign_in_once_use_two_windows_sign_out_everywhere(live_server, citizen, agency_windows):
    a, b = agency_windows["a"], agency_windows["b"]
    http = requests.Session()
    page = sign_in_at_window(http, a)
    assert page.url == a["base_url"] + "/" and "signed-in" in page.text
    assert "مریم رضایی" in page.text
    # Window B: no second sign-in at the national window (only its own consent, once).
    page = sign_in_at_window(http, b)
    assert "signed-in" in page.text
    assert not any("/account/login/" in r.url for r in page.history)
    assert status(a)["sessions"] == 1 and status(b)["sessions"] == 1
    # Sign out at A: the national window ends its session and tells A and B over the back channel.
    page = http.get(a["base_url"] + "/logout")
    assert page.url.startswith(a["base_url"] + "/") and "signed-out" in page.text
    assert status(a)["sessions"] == 0 and status(b)["sessions"] == 0
    assert status(b)["logouts"] == 1
    assert "signed-out" in http.get(b["base_url"] + "/").text
    notified = AuthEvent.objects.filter(user=citizen, kind="backchannel_logout")
    assert sorted(e.detail["ok"] for e in notified) == [True, True]
    # And the national window's own session is over.
    assert "/account/login/" in http.get(f"{live_server.url}/account/").url


def test_window_asks_for_a_higher_level(live_server, citizen, agency_windows):
    a = agency_windows["a"]
    http = requests.Session()
    sign_in_at_window(http, a)
    page = http.get(a["base_url"] + "/service")
    # Level 1 person, level 2 service: the national window offers the step-up path.
    assert "/account/step-up/" in page.url
    assert 'data-step="photo"' in page.text


def test_window_rejects_forged_logout_tokens(live_server, citizen, agency_windows):
    import json
    import time

    from joserfc import jwt
    from joserfc.jwk import RSAKey

    a = agency_windows["a"]
    http = requests.Session()
    sign_in_at_window(http, a)
    forger = RSAKey.generate_key(2048)
    claims = {
        "iss": live_server.url,
        "aud": a["client_id"],
        "iat": int(time.time()),
        "jti": "forged",
        "sub": "x",
        "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
    }
    token = jwt.encode({"alg": "RS256", "typ": "logout+jwt"}, claims, forger)
    response = requests.post(
        a["base_url"] + "/backchannel-logout", data={"logout_token": token}, timeout=10
    )
    assert response.status_code == 400, json.dumps(response.json())
    assert status(a)["sessions"] == 1
