"""Fixtures of the official mailbox's tests: a sending agency with a registered system and
key (as an exchange member), citizens with valid national codes, and a client that signs each
call's assertion as agency systems do."""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache

from panjereh.exchange import gateway, provision
from panjereh.exchange.client import generate_key, make_assertion, public_jwks
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
