"""Fixtures of the official mailbox's tests: a sending agency with a registered system and
key (as an exchange member), citizens with valid national codes, and a client that signs each
call's assertion as agency systems do."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import pytest
from django.core.cache import cache

from panjereh.exchange import gateway, provision
from panjereh.exchange.client import generate_key, make_assertion, public_jwks
from panjereh.identity import registry_checks
from panjereh.registries.population import legal_person_check_digit, national_code_check_digit
from tests.factories import UserFactory, make_agency

AUDIENCE = "urn:panjereh:nix"
_serial = itertools.count(100_001)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def national_code() -> str:
    body = f"{next(_serial):09d}"
    return body + str(national_code_check_digit(body))


def national_id() -> str:
    body = f"1{next(_serial):09d}"
    return body + str(legal_person_check_digit(body))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass
class Sender:
    agency: Any
    system: Any
    key: Any
    client: Any

    def headers(self, key: str | None = None, **extra: str) -> dict[str, str]:
        headers = {
            "HTTP_X_ROAD_CLIENT": self.system.client_id,
            "HTTP_AUTHORIZATION": "Bearer "
            + make_assertion(self.key, self.system.client_id, AUDIENCE),
        }
        if key is not None:
            headers["HTTP_IDEMPOTENCY_KEY"] = key
        headers.update(extra)
        return headers

    def post(self, path: str, data: Any, key: str | None = "k-1", **extra: str):
        body = data if isinstance(data, (bytes, str)) else json.dumps(data, ensure_ascii=False)
        return self.client.post(
            f"/api/mailbox/v1/{path}",
            data=body,
            content_type="application/json",
            **self.headers(key, **extra),
        )

    def get(self, path: str, **extra: str):
        return self.client.get(f"/api/mailbox/v1/{path}", **self.headers(None, **extra))

    def send(self, to: str, key: str = "k-1", **fields: Any):
        data = {"to": {"national_code": to}, "subject": "احضاریه", "body": "متن ابلاغیه"}
        data.update(fields)
        return self.post("notices", data, key)


@dataclass
class FakeRegistries:
    """The civil and company registries as the mailbox asks them (``registry_checks``): the
    people the civil registry knows, the companies and representatives the company registry
    names, and whether they answer. A company not named here is answered from the window's
    copy (its ``LegalPerson`` and current ``Representative`` rows)."""

    people: set = dataclass_field(default_factory=set)
    companies: dict = dataclass_field(default_factory=dict)
    calls: list = dataclass_field(default_factory=list)
    down: bool = False

    def civil_identity(self, code):
        self.calls.append(("civil", code))
        if self.down:
            raise registry_checks.RegistryUnavailable("down")
        if code not in self.people:
            return None
        return registry_checks.CivilRecord(
            code, "سارا", "محمدی", "علی", dt.date(1990, 1, 1), "f", True
        )

    def company_record(self, national_id):
        from panjereh.identity.models import LegalPerson, Representative

        self.calls.append(("company", national_id))
        if self.down:
            raise registry_checks.RegistryUnavailable("down")
        if national_id in self.companies:
            if self.companies[national_id] is None:
                return None
            name, reps = self.companies[national_id]
        else:
            company = LegalPerson.objects.filter(national_id=national_id).first()
            if company is None:
                return None
            name = company.name
            reps = [
                (r.person.national_code, r.role)
                for r in Representative.objects.filter(
                    legal_person=company, valid_until__isnull=True
                ).select_related("person")
            ]
        return registry_checks.CompanyRecord(
            national_id, name, True, tuple((code, role, "1400-01-01") for code, role in reps)
        )


@pytest.fixture(autouse=True)
def registries(monkeypatch) -> FakeRegistries:
    fake = FakeRegistries()
    monkeypatch.setattr(registry_checks, "civil_identity", fake.civil_identity)
    monkeypatch.setattr(registry_checks, "company_record", fake.company_record)
    return fake


@pytest.fixture(autouse=True)
def _clean():
    gateway.clear_caches()
    cache.clear()
    yield
    cache.clear()


def make_sender(client, **agency_fields) -> Sender:
    agency = make_agency(**agency_fields)
    key = generate_key()
    system = provision.register_consumer(agency, "court-system", public_jwks(key))
    return Sender(agency, system, key, client)


@pytest.fixture
def sender(db, client) -> Sender:
    return make_sender(client, name_fa="دادگاه عمومی تهران", name_en="Tehran General Court")


@pytest.fixture
def citizen(db):
    user = UserFactory(national_code=national_code(), mobile="09121234567", is_staff=False)
    user.save()
    return user
