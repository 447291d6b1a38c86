"""Fixtures of the citizen API's tests: the app's public client, two people with something
of everything (an application, an inbox message, an official notice, an appointment, a
document, a fee due), and access tokens minted for the app as the token endpoint would."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone
from oauth2_provider.models import AccessToken

from panjereh.appointments import operations as appointments
from panjereh.citizenapi.client import ensure_app_client
from panjereh.identity import registry_checks
from panjereh.mailbox import operations as mailbox
from tests.appointments.conftest import make_office, make_slot
from tests.appointments.conftest import national_code as new_national_code
from tests.factories import UserFactory, issue_certificate, make_agency

API = "/api/me/v1/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    """Signing keys and the SMS files of each test in its own directory."""
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def app_client(db):
    return ensure_app_client()


def make_person(**fields):
    code = new_national_code()
    user = UserFactory(
        national_code=code,
        mobile="0912" + code[-7:],
        is_staff=False,
        first_name=fields.pop("first_name", "مریم"),
        last_name=fields.pop("last_name", "رضایی"),
        assurance_level=fields.pop("assurance_level", 2),
        **fields,
    )
    user.save()
    return user


def token_for(user, application, scope: str = "openid profile citizen", **fields) -> str:
    value = secrets.token_urlsafe(30)
    AccessToken.objects.create(
        user=user,
        application=application,
        token=value,
        scope=scope,
        expires=fields.pop("expires", timezone.now() + dt.timedelta(minutes=10)),
    )
    return value


@dataclass
class Holdings:
    """What one person has: the references of each kind of object."""

    user: Any
    token: str
    application: str = ""
    message: int = 0
    notice: str = ""
    appointment: str = ""
    document: str = ""
    extra: dict = field(default_factory=dict)


class FakeCivil:
    def __init__(self):
        self.people: set[str] = set()

    def civil_identity(self, code):
        if code not in self.people:
            return None
        return registry_checks.CivilRecord(
            code, "سارا", "محمدی", "علی", dt.date(1990, 1, 1), "f", True
        )


@pytest.fixture
def civil(monkeypatch) -> FakeCivil:
    fake = FakeCivil()
    monkeypatch.setattr(registry_checks, "civil_identity", fake.civil_identity)
    return fake


def send_notice(agency, user, civil: FakeCivil, subject: str = "احضاریه دادگاه") -> str:
    civil.people.add(user.national_code)
    data = {
        "to": {"national_code": user.national_code},
        "subject": subject,
        "body": "متن ابلاغیه برای " + user.last_name,
    }
    draft = mailbox.check(data)
    notice, _created = mailbox.send(
        agency,
        "court-system",
        draft,
        idempotency_key=uuid.uuid4().hex,
        digest=mailbox.request_hash(data),
    )
    return notice.reference


def holdings(user, application, civil: FakeCivil) -> Holdings:
    """One of everything for ``user``, and a token of the app for them."""
    from panjereh.inbox.models import Message

    held = Holdings(user=user, token=token_for(user, application))
    document = issue_certificate(user)
    held.application = document.application.tracking_code
    held.document = f"cert-{document.number}"
    held.message = Message.objects.create(
        user=user,
        kind=Message.Kind.choices[0][0],
        dedupe_key=f"t-{uuid.uuid4().hex}",
        subject_fa="پیام آزمایشی",
        subject_en="A test message",
        body_fa="متن پیام",
        body_en="The message",
    ).pk
    held.notice = send_notice(make_agency(name_fa="دادگستری", name_en="Judiciary"), user, civil)
    slot = make_slot(make_office(), days=3)
    booking = appointments.confirm(user, appointments.hold(user, slot))
    held.appointment = booking.reference
    return held


@pytest.fixture
def people(app_client, civil):
    """Two people, each with one of everything and a token."""
    me = holdings(make_person(), app_client, civil)
    them = holdings(make_person(first_name="علی", last_name="کریمی"), app_client, civil)
    return me, them


def call(client, method: str, path: str, token: str | None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    headers.update(extra.pop("headers", {}))
    if method == "post":
        extra.setdefault("content_type", "application/json")
        extra.setdefault("data", "")
    return getattr(client, method)(API + path, **extra, **headers)


def body(response) -> Any:
    return json.loads(response.content)
