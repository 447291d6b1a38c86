"""A client of the window's citizen API written without the window's code.

It imports only the standard library and httpx, and knows the window only by what is public:
the OpenID discovery document, the sign-in pages' HTML forms, and docs/api.md ("Citizen
API"). It plays the window's mobile app: a public OAuth 2.0 client (no secret) that signs the
person in with the authorization code flow and PKCE (RFC 7636, S256), then calls the API with
the access token and refreshes it (rotation: each refresh gives a new refresh token).

The human part of the sign-in (typing the national code, then the one-time code the window
sends by SMS) is done over HTTP on the window's own HTML forms, as a browser would submit
them; the one-time code comes from ``otp`` (the person's phone: in the test, the SMS the
window wrote). The redirect to the app's private-use URI scheme is not followed: the code is
read from its ``Location``, as the phone's operating system hands it to the app.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

CLIENT_ID = "panjereh-app"
REDIRECT_URI = "ir.gov.panjereh.app:/oauth/callback"
SCOPE = "openid profile citizen"


class ClientError(Exception):
    pass


class _Forms(HTMLParser):
    """Every form of a page: its action and its named inputs' values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "fields": {}})
        elif tag in ("input", "button") and self.forms and attrs.get("name"):
            if attrs.get("type") in ("submit", "button") or tag == "button":
                return
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def _form_with(html: str, name: str) -> dict:
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        if name in form["fields"]:
            return form
    raise ClientError(f"no form with a field {name!r} on the page")


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge), RFC 7636 4.1 and 4.2."""
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Tokens:
    access_token: str
    refresh_token: str
    scope: str
    expires_in: int


@dataclass
class CitizenApp:
    base_url: str
    language: str = "fa"
    http: httpx.Client = field(init=False)
    meta: dict = field(default_factory=dict)
    tokens: Tokens | None = None

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        # The "browser" half keeps the window's cookies; API calls carry only the token.
        self.http = httpx.Client(base_url=self.base_url, timeout=30.0, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    # -- discovery and sign-in ------------------------------------------------------------

    def discover(self) -> dict:
        response = self.http.get("/.well-known/openid-configuration")
        response.raise_for_status()
        self.meta = response.json()
        if "S256" not in self.meta.get("code_challenge_methods_supported", []):
            raise ClientError("the provider does not offer PKCE S256")
        if "none" not in self.meta.get("token_endpoint_auth_methods_supported", []):
            raise ClientError("the provider does not take public clients")
        return self.meta

    def sign_in_on_the_web_forms(self, national_code: str, otp: Callable[[], str]) -> None:
        """The person signs in at the window in the app's browser tab: national code, then the
        one-time code sent by SMS."""
        page = self.http.get("/account/login/")
        form = _form_with(page.text, "national_code")
        form["fields"]["national_code"] = national_code
        self.http.post(
            urljoin(str(page.url), form["action"] or "/account/login/"), data=form["fields"]
        )
        page = self.http.get("/account/login/verify/")
        form = _form_with(page.text, "code")
        form["fields"]["code"] = otp()
        done = self.http.post(
            urljoin(str(page.url), form["action"] or "/account/login/verify/"), data=form["fields"]
        )
        if done.status_code != 302:
            raise ClientError(f"sign-in refused: {done.status_code}")

    def authorize(self) -> Tokens:
        """The authorization code flow with PKCE, then the code redeemed without a secret."""
        if not self.meta:
            self.discover()
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(16)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": CLIENT_ID,
                "redirect_uri": REDIRECT_URI,
                "scope": SCOPE,
                "state": state,
                "nonce": secrets.token_urlsafe(16),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        response = self.http.get(f"{self.meta['authorization_endpoint']}?{query}")
        location = response.headers.get("Location", "")
        if response.status_code != 302 or not location.startswith(REDIRECT_URI):
            raise ClientError(f"no redirect to the app: {response.status_code} {location[:120]}")
        params = parse_qs(urlsplit(location).query)
        if params.get("state") != [state]:
            raise ClientError("the state came back changed")
        if "code" not in params:
            raise ClientError(f"no code: {params.get('error')}")
        return self._token(
            {
                "grant_type": "authorization_code",
                "code": params["code"][0],
                "redirect_uri": REDIRECT_URI,
                "client_id": CLIENT_ID,
                "code_verifier": verifier,
            }
        )

    def refresh(self) -> Tokens:
        if self.tokens is None:
            raise ClientError("not signed in")
        return self._token(
            {
                "grant_type": "refresh_token",
                "refresh_token": self.tokens.refresh_token,
                "client_id": CLIENT_ID,
            }
        )

    def _token(self, form: dict) -> Tokens:
        # A fresh connection without the browser's cookies: the token endpoint knows the app
        # by its client_id and the PKCE verifier only.
        response = httpx.post(self.meta["token_endpoint"], data=form, timeout=30.0)
        if response.status_code != 200:
            raise ClientError(f"token endpoint: {response.status_code} {response.text[:200]}")
        data = response.json()
        self.tokens = Tokens(
            data["access_token"], data["refresh_token"], data["scope"], data["expires_in"]
        )
        return self.tokens

    # -- the API ------------------------------------------------------------------------------

    def _headers(self, **extra: str) -> dict:
        if self.tokens is None:
            raise ClientError("not signed in")
        return {
            "Authorization": f"Bearer {self.tokens.access_token}",
            "Accept-Language": self.language,
            **extra,
        }

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = self._headers(**kwargs.pop("headers", {}))
        return httpx.request(
            method, f"{self.base_url}/api/me/v1/{path}", headers=headers, timeout=30.0, **kwargs
        )

    def get_json(self, path: str) -> dict:
        response = self.api("GET", path)
        if response.status_code != 200:
            raise ClientError(f"GET {path}: {response.status_code} {response.text[:200]}")
        return response.json()

    def profile(self) -> dict:
        return self.get_json("profile/")

    def applications(self) -> list[dict]:
        return self.get_json("applications/")["results"]

    def application(self, tracking_code: str) -> dict:
        return self.get_json(f"applications/{tracking_code}/")

    def apply(self, service: str, inputs: dict, key: str) -> httpx.Response:
        return self.api(
            "POST",
            "applications/",
            json={"service": service, "inputs": inputs},
            headers={"Idempotency-Key": key},
        )

    def messages(self) -> list[dict]:
        return self.get_json("messages/")["results"]

    def message(self, pk: int) -> dict:
        return self.get_json(f"messages/{pk}/")

    def notices(self) -> list[dict]:
        return self.get_json("notices/")["results"]

    def open_notice(self, reference: str) -> dict:
        response = self.api("POST", f"notices/{reference}/opened/")
        if response.status_code != 200:
            raise ClientError(f"opening {reference}: {response.status_code}")
        return response.json()

    def documents(self) -> list[dict]:
        return self.get_json("documents/")["results"]

    def download_token(self, reference: str) -> str:
        response = self.api("GET", f"documents/{reference}/token/")
        if response.status_code != 200:
            raise ClientError(f"download {reference}: {response.status_code}")
        if not response.headers.get("Content-Type", "").startswith("application/jose"):
            raise ClientError("not a JWS")
        return response.text

    def download_pdf(self, reference: str) -> bytes:
        response = self.api("GET", f"documents/{reference}/pdf/")
        if response.status_code != 200:
            raise ClientError(f"download {reference} as PDF: {response.status_code}")
        if response.headers.get("Content-Type") != "application/pdf":
            raise ClientError("not a PDF")
        return response.content


def jws_parts(token: str) -> tuple[dict, dict]:
    """The header and claims of a compact JWS (read, not verified)."""
    import json

    def part(text: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))

    header, payload, _signature = token.split(".")
    return part(header), part(payload)
