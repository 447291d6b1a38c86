"""A scripted browser (``requests``) for the national window's pages, used by the OIDC tests."""

from __future__ import annotations

from urllib.parse import urljoin

import requests

from .helpers import form_with, last_code


def op_sign_in(http: requests.Session, base: str, national_code: str, mobile: str) -> None:
    """Sign in at the national window with national code and SMS code."""
    page = http.get(f"{base}/account/login/")
    form = form_with(page.text, "national_code")
    form["fields"]["national_code"] = national_code
    http.post(f"{base}/account/login/", data=form["fields"])
    page = http.get(f"{base}/account/login/verify/")
    form = form_with(page.text, "code")
    form["fields"]["code"] = last_code(mobile)
    response = http.post(
        f"{base}/account/login/verify/", data=form["fields"], allow_redirects=False
    )
    assert response.status_code == 302, response.text[:500]


def consent(http: requests.Session, response: requests.Response) -> requests.Response:
    """Press "agree" on the consent page ``response``; the redirect that follows (not followed)."""
    form = form_with(response.text, "client_id")
    data = {**form["fields"], "allow": "Authorize"}
    action = urljoin(response.url, form["action"] or response.url)
    return http.post(action, data=data, allow_redirects=False)
