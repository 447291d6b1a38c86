"""A sample agency window: a separate small web application that signs people in through the
national window with a standard OpenID Connect client library (Authlib for the OAuth 2.0 code
flow with PKCE, joserfc for verifying tokens against the published JWKS).

It shows what every agency window must do and nothing it must not: it never registers users
and never asks for a password; it accepts only ID tokens signed by the national window for
itself, asks for a higher assurance level (``acr_values``) for a service that needs one, and
drops its session when the national window says, over the back channel, that the person
signed out.

Run: ``python -m panjereh.samples.agency_window --config var/samples/window-a.json``
(``panjereh sso_windows`` writes the configurations and starts two windows).
"""

from __future__ import annotations

import argparse
import html
import json
import secrets
import sys
import threading
import time
from http.cookies import SimpleCookie
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
_FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def fa_digits(value: object) -> str:
    """The text with Persian digits: this window's pages are Persian (issue 12 item 27)."""
    return str(value).translate(_FA_DIGITS)


class Window:
    """One agency window: a WSGI application with in-memory sessions."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.name: str = config["name"]
        self.title: str = config.get("title", self.name)
        self.issuer: str = config["issuer"].rstrip("/")
        self.client_id: str = config["client_id"]
        self.client_secret: str = config["client_secret"]
        self.base_url: str = config["base_url"].rstrip("/")
        self.scope: str = config.get("scope", "openid profile")
        self.service_level: int = int(config.get("service_level", 2))
        self.cookie = f"window_{self.name}_session"
        self.sessions: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, dict[str, Any]] = {}
        self.seen_logout_jtis: set[str] = set()
        self.logouts_received = 0
        self.handovers = 0
        self.lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    # -- provider metadata and keys ------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            response = requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=10)
            response.raise_for_status()
            data = response.json()
            if data["issuer"].rstrip("/") != self.issuer:
                raise ValueError("issuer in discovery does not match the configured issuer")
            self._metadata = data
        return self._metadata

    def keys(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            response = requests.get(self.metadata()["jwks_uri"], timeout=10)
            response.raise_for_status()
            self._keys = KeySet.import_key_set(response.json())
        return self._keys

    def _decode(self, token: str):
        try:
            return jwt.decode(token, self.keys(), algorithms=["ES256", "RS256"])
        except JoseError:
            # The provider may have rotated its key since it was fetched.
            return jwt.decode(token, self.keys(refresh=True), algorithms=["ES256", "RS256"])

    def verify_id_token(self, token: str, nonce: str) -> dict[str, Any]:
        decoded = self._decode(token)
        registry = jwt.JWTClaimsRegistry(
            leeway=30,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        registry.validate(decoded.claims)
        return decoded.claims

    def verify_logout_token(self, token: str) -> dict[str, Any]:
        decoded = self._decode(token)
        if decoded.header.get("typ") not in (None, "logout+jwt"):
            raise ValueError("not a logout token")
        registry = jwt.JWTClaimsRegistry(
            leeway=30,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            iat={"essential": True},
            jti={"essential": True},
        )
        claims = decoded.claims
        registry.validate(claims)
        if LOGOUT_EVENT not in (claims.get("events") or {}):
            raise ValueError("logout token without the back-channel logout event")
        if "nonce" in claims or not (claims.get("sid") or claims.get("sub")):
            raise ValueError("malformed logout token")
        return claims

    # -- HTTP -----------------------------------------------------------------------------------

    def oauth(self) -> OAuth2Session:
        return OAuth2Session(
            self.client_id,
            self.client_secret,
            scope=self.scope,
            redirect_uri=f"{self.base_url}/callback",
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
        )

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            if path == "/" and method == "GET":
                return self.home(environ, start_response)
            if path == "/login" and method == "GET":
                return self.login(query, start_response)
            if path == "/initiate-login" and method in ("GET", "POST"):
                if method == "POST":  # OIDC Core §4 allows either
                    length = int(environ.get("CONTENT_LENGTH") or 0)
                    form = parse_qs(environ["wsgi.input"].read(min(length, 8192)).decode())
                    query = {k: v[0] for k, v in form.items()}
                return self.initiate_login(query, start_response)
            if path == "/callback" and method == "GET":
                return self.callback(environ, query, start_response)
            if path == "/service" and method == "GET":
                return self.service(environ, start_response)
            if path == "/logout" and method == "GET":
                return self.logout(environ, start_response)
            if path == "/backchannel-logout" and method == "POST":
                return self.backchannel_logout(environ, start_response)
            if path == "/status" and method == "GET":
                with self.lock:
                    body = {
                        "sessions": len(self.sessions),
                        "logouts": self.logouts_received,
                        "handovers": self.handovers,
                    }
                return self._json(start_response, body)
            return self._page(start_response, "Not found", "<p>Not found.</p>", "404 Not Found")
        except Exception as exc:  # a sample: show the error rather than a bare 500
            print(f"[{self.name}] error: {exc!r}", file=sys.stderr, flush=True)
            message = (
                f"<p role='alert'>{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</p>"
            )
            return self._page(start_response, "Error", message, "500 Internal Server Error")

    def _session(self, environ) -> tuple[str | None, dict[str, Any] | None]:
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        morsel = cookie.get(self.cookie)
        if morsel is None:
            return None, None
        with self.lock:
            return morsel.value, self.sessions.get(morsel.value)

    def _page(self, start_response, title: str, body: str, status="200 OK", headers=()):
        document = (
            "<!doctype html><html lang='fa' dir='rtl'><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}: {html.escape(title)}</title></head><body>"
            f"<header><strong id='window-title'>{html.escape(self.title)}</strong></header>"
            f"<main>{body}</main></body></html>"
        ).encode()
        start_response(
            status,
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Cache-Control", "no-store"),
                ("Content-Length", str(len(document))),
                *headers,
            ],
        )
        return [document]

    def _json(self, start_response, data, status="200 OK"):
        body = json.dumps(data).encode()
        start_response(
            status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    def _redirect(self, start_response, location: str, headers=()):
        start_response(
            "302 Found", [("Location", location), ("Cache-Control", "no-store"), *headers]
        )
        return [b""]

    def home(self, environ, start_response):
        _, session = self._session(environ)
        if session is None:
            body = (
                "<p id='status'>signed-out</p>"
                "<p><a id='sign-in' href='/login'>ورود با پنجره ملی (Sign in with the national window)</a></p>"
            )
        else:
            body = (
                f"<p id='status'>signed-in</p><p>سلام <span id='user-name'>{html.escape(session['name'])}</span></p>"
                f"<p>سطح اطمینان (assurance level): <span id='acr' data-acr='{html.escape(session['acr'])}'>"
                f"{html.escape(fa_digits(session['acr']))}</span></p>"
                f"<p><a id='service' href='/service'>خدمت نیازمند سطح {fa_digits(self.service_level)}</a></p>"
                "<p><a id='sign-out' href='/logout'>خروج از همه‌جا (Sign out everywhere)</a></p>"
            )
        return self._page(start_response, "Home", body)

    def initiate_login(self, query: dict[str, str], start_response):
        """Third-party-initiated login (OIDC Core §4): the national window, where the person
        is signed in, sends them here with ``iss``, ``login_hint`` and ``target_link_uri``.
        Only our own issuer is followed, and only to a page of this window (no open
        redirect); the code flow then runs as usual, without a second sign-in there."""
        if query.get("iss", "").rstrip("/") != self.issuer:
            return self._page(
                start_response, "Error", "<p role='alert'>Unknown issuer.</p>", "400 Bad Request"
            )
        target = query.get("target_link_uri", "") or f"{self.base_url}/"
        if not (target == self.base_url or target.startswith(self.base_url + "/")):
            return self._page(
                start_response,
                "Error",
                "<p role='alert'>The target is not a page of this window.</p>",
                "400 Bad Request",
            )
        with self.lock:
            self.handovers += 1
        next_path = target[len(self.base_url) :] or "/"
        return self.login(
            {"next": next_path, "login_hint": query.get("login_hint", "")[:200]}, start_response
        )

    def login(self, query: dict[str, str], start_response):
        client = self.oauth()
        verifier = generate_token(64)
        nonce = generate_token(24)
        extra = {"nonce": nonce, "ui_locales": "fa"}
        if query.get("acr", "").isdigit():
            extra["acr_values"] = query["acr"]
        if query.get("login_hint"):
            extra["login_hint"] = query["login_hint"]
        uri, state = client.create_authorization_url(
            self.metadata()["authorization_endpoint"], code_verifier=verifier, **extra
        )
        next_path = query.get("next", "/")
        if not next_path.startswith("/") or next_path.startswith("//"):
            next_path = "/"  # a page of this window only
        with self.lock:
            # Sign-ins abandoned half-way are forgotten after ten minutes.
            stale = [key for key, value in self.pending.items() if time.time() - value["at"] > 600]
            for key in stale:
                del self.pending[key]
            self.pending[state] = {
                "verifier": verifier,
                "nonce": nonce,
                "next": next_path,
                "login_hint": query.get("login_hint", ""),
                "at": time.time(),
            }
        return self._redirect(start_response, uri)

    def callback(self, environ, query: dict[str, str], start_response):
        with self.lock:
            pending = self.pending.pop(query.get("state", ""), None)
        if pending is None or time.time() - pending["at"] > 600:
            return self._page(
                start_response,
                "Error",
                "<p role='alert'>Unknown or stale sign-in.</p>",
                "400 Bad Request",
            )
        if "error" in query:
            text = html.escape(query.get("error", ""))
            return self._page(
                start_response, "Error", f"<p role='alert'>{text}</p>", "400 Bad Request"
            )
        client = self.oauth()
        token = client.fetch_token(
            self.metadata()["token_endpoint"],
            code=query["code"],
            code_verifier=pending["verifier"],
        )
        claims = self.verify_id_token(token["id_token"], pending["nonce"])
        if pending.get("login_hint") and claims["sub"] != pending["login_hint"]:
            # Handed over for one person, signed in as another: start again.
            raise ValueError("the person signed in is not the one the national window named")
        userinfo = client.get(self.metadata()["userinfo_endpoint"]).json()
        if userinfo.get("sub") != claims["sub"]:
            raise ValueError("userinfo subject differs from the ID token subject")
        session_id = secrets.token_urlsafe(24)
        with self.lock:
            self.sessions[session_id] = {
                "sub": claims["sub"],
                "sid": claims.get("sid"),
                "acr": str(claims.get("acr", "0")),
                "name": userinfo.get("name") or claims["sub"],
                "id_token": token["id_token"],
            }
        cookie = f"{self.cookie}={session_id}; Path=/; HttpOnly; SameSite=Lax"
        return self._redirect(start_response, pending["next"], [("Set-Cookie", cookie)])

    def service(self, environ, start_response):
        _, session = self._session(environ)
        if session is None or int(session["acr"]) < self.service_level:
            query = urlencode({"acr": self.service_level, "next": "/service"})
            return self._redirect(start_response, f"/login?{query}")
        body = (
            f"<h1 id='service-title'>خدمت سطح {fa_digits(self.service_level)}</h1>"
            f"<p>سطح اطمینان شما: <span id='acr' data-acr='{html.escape(session['acr'])}'>"
            f"{html.escape(fa_digits(session['acr']))}</span></p>"
        )
        return self._page(start_response, "Service", body)

    def logout(self, environ, start_response):
        session_id, session = self._session(environ)
        with self.lock:
            self.sessions.pop(session_id or "", None)
        expire = f"{self.cookie}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
        if session is None:
            return self._redirect(start_response, "/", [("Set-Cookie", expire)])
        query = urlencode(
            {
                "id_token_hint": session["id_token"],
                "client_id": self.client_id,
                "post_logout_redirect_uri": f"{self.base_url}/",
                "state": generate_token(16),
            }
        )
        end = self.metadata()["end_session_endpoint"]
        return self._redirect(start_response, f"{end}?{query}", [("Set-Cookie", expire)])

    def backchannel_logout(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(length).decode())
        token = (form.get("logout_token") or [""])[0]
        try:
            claims = self.verify_logout_token(token)
        except (JoseError, ValueError) as exc:
            return self._json(start_response, {"error": str(exc)}, "400 Bad Request")
        with self.lock:
            if claims["jti"] in self.seen_logout_jtis:
                return self._json(start_response, {"error": "replayed"}, "400 Bad Request")
            self.seen_logout_jtis.add(claims["jti"])
            ended = [
                key
                for key, session in self.sessions.items()
                if (claims.get("sid") and session["sid"] == claims["sid"])
                or (not claims.get("sid") and session["sub"] == claims.get("sub"))
            ]
            for key in ended:
                del self.sessions[key]
            self.logouts_received += 1
        return self._json(start_response, {"ended": len(ended)})


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature is the base class's
        pass


def serve(config: dict[str, Any]) -> None:
    host = config.get("host", "127.0.0.1")
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the sample window binds to loopback only")
    window = Window(config)
    server = make_server(
        host,
        int(config["port"]),
        window,
        server_class=_ThreadingServer,
        handler_class=_QuietHandler,
    )
    print(f"agency window {window.name} on {window.base_url}", flush=True)
    server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="JSON file written by panjereh sso_windows")
    args = parser.parse_args(argv)
    with open(args.config, encoding="utf-8") as handle:
        serve(json.load(handle))


if __name__ == "__main__":
    main()
