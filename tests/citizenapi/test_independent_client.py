"""Done when (issue 18): an independent client, written without the window's code
(``independent_client.py``: the standard library and httpx only), signs a person in with PKCE
against a real server, lists their applications, applies to a smart service (the registries
run as their own processes and the engine runs the application through the exchange), reads
the inbox, opens an official notice and downloads a document; another person's objects answer
404, and a refresh rotates the refresh token.

The person's part of the sign-in (their national code and the one-time code from their SMS) is
typed by the client into the window's own HTML sign-in forms over HTTP; the one-time code is
read from the SMS the window sent (the person's phone)."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest

from tests.exchange.conftest import _clean_state, population, registries  # noqa: F401
from tests.identity.helpers import last_code
from tests.services.conftest import clean_adult, run_until_settled, smart  # noqa: F401

from . import independent_client
from .conftest import FakeCivil, holdings, make_person, send_notice

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_client_imports_nothing_of_the_window():
    tree = ast.parse(Path(independent_client.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {
        "__future__",
        "base64",
        "hashlib",
        "secrets",
        "collections",
        "dataclasses",
        "html",
        "urllib",
        "json",
        "httpx",
    }, imported


@pytest.fixture
def person(smart, population, monkeypatch):  # noqa: F811
    from django.utils import timezone

    from panjereh.citizenapi.client import ensure_app_client
    from panjereh.identity import registry_checks
    from panjereh.identity.models import User

    ensure_app_client()
    for i in range(population.size):
        if clean_adult(population, i) and population.mobile(i):
            break
    person = population.person(i)
    now = timezone.now()
    user = User.objects.create(
        username=f"c{population.national_code(i)}",
        national_code=population.national_code(i),
        first_name=person["first_name"],
        last_name=person["last_name"],
        mobile=population.mobile(i),
        registry_verified_at=now,
        mobile_verified_at=now,
        assurance_level=3,
    )
    civil = FakeCivil()
    monkeypatch.setattr(registry_checks, "civil_identity", civil.civil_identity)
    return user, civil


def test_an_independent_client_signs_in_with_pkce_applies_reads_and_downloads(
    smart,  # noqa: F811
    person,
):
    from panjereh.catalogue.models import Agency
    from panjereh.services.models import Application

    user, civil = person
    notice = send_notice(Agency.objects.first(), user, civil, subject="اخطاریه آزمایشی")
    other = holdings(make_person(), _app(), civil)

    app = independent_client.CitizenApp(smart.url)
    try:
        app.discover()
        app.sign_in_on_the_web_forms(user.national_code, lambda: last_code(user.mobile))
        tokens = app.authorize()
        assert "citizen" in tokens.scope.split()

        assert app.profile()["assurance_level"] == 3
        assert app.applications() == []

        key = uuid.uuid4().hex
        made = app.apply("no-criminal-record", {"purpose": "بانک ملی"}, key)
        assert made.status_code == 201, made.text[:300]
        tracking = made.json()["tracking_code"]
        again = app.apply("no-criminal-record", {"purpose": "بانک ملی"}, key)
        assert again.status_code == 201
        assert again.json()["tracking_code"] == tracking
        assert again.headers["Idempotent-Replayed"] == "true"
        other_body = app.apply("no-criminal-record", {"purpose": "دانشگاه"}, key)
        assert other_body.status_code == 422
        assert other_body.json()["code"] == "idempotency_key_reused"
        assert Application.objects.filter(user=user).count() == 1

        # The engine runs it through the exchange to the registry processes.
        settled = run_until_settled(Application.objects.get(tracking_code=tracking), timeout=60)
        assert settled.state == "issued", settled.state

        listed = app.applications()
        assert [a["tracking_code"] for a in listed] == [tracking]
        assert listed[0]["state"]["code"] == "issued"
        journey = app.application(tracking)["journey"]
        assert journey[0]["kind"]["code"] == "submitted"

        inbox = app.messages()
        assert inbox, "the decision message is in the inbox"
        assert app.message(inbox[0]["id"])["body"]

        notices = app.notices()
        assert [n["reference"] for n in notices] == [notice]
        opened = app.open_notice(notice)
        assert opened["opened_at"] and opened["text"]

        documents = app.documents()
        certificates = [d for d in documents if d["kind"]["code"] == "certificate"]
        assert len(certificates) == 1 and certificates[0]["status"]["code"] == "valid"
        # The opened notice is a document the person holds too (the mailbox's signed notice).
        assert {d["kind"]["code"] for d in documents} >= {"certificate", "notice"}
        token = app.download_token(certificates[0]["reference"])
        header, claims = independent_client.jws_parts(token)
        assert header["alg"] in ("ES256", "RS256", "EdDSA")
        assert certificates[0]["number"] in str(claims)
        assert app.download_pdf(certificates[0]["reference"]).startswith(b"%PDF-")

        # Another person's objects: 404, as if they did not exist.
        for path in (
            f"applications/{other.application}/",
            f"messages/{other.message}/",
            f"notices/{other.notice}/",
            f"documents/{other.document}/",
            f"documents/{other.document}/token/",
            f"documents/{other.document}/pdf/",
            f"appointments/{other.appointment}/",
        ):
            assert app.api("GET", path).status_code == 404, path
        assert app.api("POST", f"notices/{other.notice}/opened/").status_code == 404

        # Refresh: a new refresh token; the old one no longer works.
        first = app.tokens
        second = app.refresh()
        assert second.refresh_token != first.refresh_token
        assert second.access_token != first.access_token
        assert app.profile()["assurance_level"] == 3
        app.tokens = first
        with pytest.raises(independent_client.ClientError):
            app.refresh()
    finally:
        app.close()


def _app():
    from panjereh.citizenapi.client import ensure_app_client

    return ensure_app_client()
