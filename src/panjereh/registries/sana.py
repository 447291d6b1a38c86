"""SANA (سامانه ثنا) at the simulated judiciary: the judiciary's electronic-service accounts.

Two data services of the ``judiciary`` registry process, reached only through the exchange
(the national window is the consumer, the person's national code the ``X-Road-UserId``):

* ``POST /sana-register/{national_code}`` with ``{"national_code", "mobile", "assurance"}``:
  opens the person's SANA account without a visit. ``201 {"national_code", "registered":
  true, "sana_id", "registered_at"}`` the first time, ``200`` with the same account after
  that (idempotent per national code: the same ``sana_id`` again). Refusals: ``400`` a
  malformed body or a body naming another person than the path; ``404`` no such person;
  ``403 {"code": "assurance"}`` below :data:`MIN_ASSURANCE`; ``422 {"code": "deceased"}``;
  ``422 {"code": "mobile"}`` a mobile number that is not the person's (the judiciary sends
  its SMS alerts there, so it checks the number's owner itself).
* ``GET /sana-account/{national_code}`` (and ``GET /sana-register/{national_code}``): the
  account, ``{"national_code", "registered", "sana_id", "registered_at"}``; ``registered``
  false (``sana_id`` null) for a person without one; 404 for no such person.

About one in ten adults already holds an account opened at a judicial service office
(:func:`SanaBook.in_person`, the same people in every run), so registering at the window then
only links it. A SANA number is derived from the seed and the national code: a registry
restarted (its book in memory lost) gives a person the same number again.

A registry imports no app (``registries/__init__.py``): the logic here is the judiciary's own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any

Answer = tuple[int, dict[str, Any]]

# The judiciary's own floor: an account opened without a visit needs the window's identity at
# least at level 2 (a photo checked against the civil registration photo).
MIN_ASSURANCE = 2
FIELDS = ["registered", "sana_id", "registered_at", "channel"]

SERVICES: list[dict[str, Any]] = [
    {
        "code": "sana-register",
        "title_en": "SANA registration without a visit (judicial electronic-service account)",
        "title_fa": "ثبت‌نام غیرحضوری در سامانه ثنا (حساب خدمات الکترونیک قضایی)",
        "param": "national_code",
        "key_fields": ["national_code"],
        "items": {"judiciary.sana_account": FIELDS},
        "methods": ["get", "post"],
    },
    {
        "code": "sana-account",
        "title_en": "SANA account (whether a person holds one, and its number)",
        "title_fa": "استعلام حساب ثنا (داشتن حساب و شناسه آن)",
        "param": "national_code",
        "key_fields": ["national_code"],
        "items": {"judiciary.sana_account": FIELDS},
    },
]
CODES = frozenset(s["code"] for s in SERVICES)


class SanaBook:
    """The judiciary's SANA accounts: national code → account; shared by request threads."""

    def __init__(self, population: Any, now: Callable[[], dt.datetime]) -> None:
        self.population = population
        self.now = now
        self.lock = threading.Lock()
        self.accounts: dict[str, dict[str, Any]] = {}

    def sana_id(self, national_code: str) -> str:
        digest = hashlib.sha256(f"sana:{self.population.seed}:{national_code}".encode()).digest()
        return str(10**15 + int.from_bytes(digest[:8], "big") % (9 * 10**15))

    def in_person(self, i: int) -> bool:
        """Whether person ``i`` opened an account at a judicial service office (one adult in
        ten, chosen by the seed)."""
        person = self.population.person(i)
        if not person["alive"] or person["age"] < 18:
            return False
        code = self.population.national_code(i)
        digest = hashlib.sha256(f"sana-office:{self.population.seed}:{code}".encode()).digest()
        return digest[0] % 10 == 0

    def account(self, i: int) -> dict[str, Any]:
        code = self.population.national_code(i)
        with self.lock:
            known = self.accounts.get(code)
        if known is not None:
            return dict(known)
        if self.in_person(i):
            person = self.population.person(i)
            opened = dt.date(max(2020, person["birth_date"].year + 18), 3, 21)
            return {
                "national_code": code,
                "registered": True,
                "sana_id": self.sana_id(code),
                "registered_at": f"{opened.isoformat()}T09:00:00+00:00",
                "channel": "office",
            }
        return {
            "national_code": code,
            "registered": False,
            "sana_id": None,
            "registered_at": None,
            "channel": None,
        }

    def register(self, i: int, mobile: str, assurance: int) -> Answer:
        existing = self.account(i)
        if existing["registered"]:
            return 200, existing
        if assurance < MIN_ASSURANCE:
            return 403, {
                "code": "assurance",
                "detail": f"registration without a visit needs assurance level {MIN_ASSURANCE}",
            }
        if not self.population.person(i)["alive"]:
            return 422, {"code": "deceased", "detail": "the civil registry records a death"}
        if self.population.mobile_owner(mobile) != i:
            return 422, {"code": "mobile", "detail": "the mobile number is not the person's"}
        code = self.population.national_code(i)
        with self.lock:
            known = self.accounts.get(code)
            if known is not None:  # another request registered the person meanwhile
                return 200, dict(known)
            record = {
                "national_code": code,
                "registered": True,
                "sana_id": self.sana_id(code),
                "registered_at": self.now().isoformat(timespec="seconds"),
                "channel": "online",
            }
            self.accounts[code] = record
        return 201, dict(record)


def read_handlers(book: SanaBook) -> dict[tuple[str, str], Callable[..., Answer]]:
    """The GET answers in the shape of the registry's other handlers (param, query)."""

    def read(param: str, query: dict[str, str]) -> Answer:
        i = book.population.index_of(param)
        if i is None:
            return 404, {"found": False, "detail": "no person with this national code"}
        return 200, book.account(i)

    return {("judiciary", code): read for code in CODES}


def handles(path: str) -> bool:
    return path.strip("/").split("/")[0] in CODES


def answer(book: SanaBook, environ: dict[str, Any], path: str, method: str) -> Answer:
    """The answer to a request for one of the SANA services (:func:`handles` said yes)."""
    parts = path.strip("/").split("/")
    if len(parts) != 2 or not parts[1]:
        return 404, {"detail": "national_code required"}
    service, national_code = parts
    allowed = ("GET", "POST") if service == "sana-register" else ("GET",)
    if method not in allowed:
        return 405, {"detail": f"only {', '.join(allowed)}"}
    i = book.population.index_of(national_code)
    if i is None:
        return 404, {"found": False, "detail": "no person with this national code"}
    if method == "GET":
        return 200, book.account(i)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    try:
        data = json.loads(body or b"{}")
        if not isinstance(data, dict):
            raise TypeError("the body is a JSON object")
        mobile = str(data["mobile"])
        assurance = int(data["assurance"])
        named = str(data.get("national_code") or national_code)
    except (ValueError, KeyError, TypeError):
        return 400, {"code": "bad_request", "detail": "give national_code, mobile, assurance"}
    if named != national_code:
        return 400, {"code": "bad_request", "detail": "the body names another person"}
    if not (mobile.isascii() and mobile.isdigit() and len(mobile) == 11):
        return 400, {"code": "bad_request", "detail": "the mobile number is 11 digits"}
    return book.register(i, mobile, assurance)
