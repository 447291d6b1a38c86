"""Simulated asset registries for a judge's asset inquiry (issue 17 part 7, docs/assets.md).

Two new registry processes and asset services on two existing ones, reached only through the
exchange:

* ``banks`` (the Central Bank's accounts inquiry, سامانه استعلام حساب‌ها): ``GET
  /accounts/{national_code}`` every account of a person or company at every bank, with its
  balance and the amount already blocked; ``POST /block/{order_id}`` with ``{"national_code",
  "iban", "amount", "case_number"}`` blocks up to ``amount`` on that account (what is available
  if less) and answers the bank's reference; ``GET /block/{order_id}`` reads it back.
* ``stock`` (the Central Securities Depository, سمات): ``GET /holdings/{national_code}``.
  Freezing holdings is not online: the inquiry says so (``freeze_online``: false).
* ``ssaa`` (deeds): ``GET /properties/{national_code}`` registered properties with an estimated
  value and their seizures; ``POST /seizure/{order_id}`` with ``{"national_code", "serial",
  "case_number"}`` records a seizure (بازداشت) on the deed; ``GET /seizure/{order_id}``.
* ``vehicle`` (traffic police): ``GET /vehicle-assets/{national_code}``; stopping a vehicle
  (توقیف پلاک) is not online.

A freeze is idempotent per order id: the same order again answers the same reference; another
order id with the same account blocks again (the window keeps one order id per order). An
order id reused with another account or property answers 409. Records are computed from the
population seed (the same in every run); only the freezes are state, kept in memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from typing import Any

from . import catalogue
from .population import (
    Population,
    is_valid_legal_person_id,
    is_valid_national_code,
    legal_person_check_digit,
)

Answer = tuple[int, dict[str, Any]]
NAMES: tuple[str, ...] = ("banks", "stock")  # processes of their own, like the billers


def _member_code(n: int) -> str:
    body = f"{1010000000 + n:010d}"
    return body + str(legal_person_check_digit(body))


ORGANISATIONS: dict[str, tuple[str, str, str]] = {
    "banks": (
        _member_code(41),
        "بانک مرکزی جمهوری اسلامی ایران (سامانه استعلام حساب‌ها)",
        "Central Bank of Iran (accounts inquiry)",
    ),
    "stock": (
        _member_code(42),
        "شرکت سپرده‌گذاری مرکزی اوراق بهادار و تسویه وجوه",
        "Central Securities Depository of Iran",
    ),
}

BANKS = (
    ("017", "بانک ملی ایران", "Bank Melli Iran"),
    ("018", "بانک تجارت", "Tejarat Bank"),
    ("012", "بانک ملت", "Bank Mellat"),
    ("019", "بانک صادرات ایران", "Bank Saderat Iran"),
    ("015", "بانک سپه", "Bank Sepah"),
    ("054", "بانک پارسیان", "Parsian Bank"),
    ("057", "بانک پاسارگاد", "Pasargad Bank"),
)
SYMBOLS = (
    ("فولاد", "فولاد مبارکه اصفهان", "Mobarakeh Steel", 5_400),
    ("فملی", "ملی صنایع مس ایران", "National Iranian Copper", 6_100),
    ("خودرو", "ایران خودرو", "Iran Khodro", 2_300),
    ("شپنا", "پالایش نفت اصفهان", "Isfahan Oil Refining", 7_800),
    ("وبملت", "بانک ملت", "Bank Mellat", 2_900),
    ("اخابر", "مخابرات ایران", "Telecommunication Company of Iran", 3_300),
    ("کگل", "معدنی و صنعتی گل گهر", "Gol Gohar Mining", 4_700),
)

# code → (registry, title_en, title_fa, param, key fields, items, methods)
SERVICES: dict[str, list[dict[str, Any]]] = {
    "banks": [
        {
            "code": "accounts",
            "title_en": "Bank accounts of a person or company, with balances (for a court)",
            "title_fa": "استعلام حساب‌های بانکی شخص حقیقی یا حقوقی و موجودی آن‌ها (برای مرجع قضایی)",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {"banks.accounts": ["accounts", "total_balance", "freeze_online"]},
            "methods": ["get"],
        },
        {
            "code": "block",
            "title_en": "Blocking an amount on a bank account by a court order",
            "title_fa": "مسدودسازی مبلغ در حساب بانکی به دستور مرجع قضایی",
            "param": "order_id",
            "key_fields": ["order_id"],
            "items": {
                "banks.block": [
                    "reference",
                    "iban",
                    "requested",
                    "blocked",
                    "case_number",
                    "blocked_at",
                ]
            },
            "methods": ["get", "post"],
        },
    ],
    "stock": [
        {
            "code": "holdings",
            "title_en": "Securities held by a person or company (for a court)",
            "title_fa": "استعلام دارایی سهام و اوراق بهادار شخص (برای مرجع قضایی)",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {"stock.holdings": ["holdings", "total_value", "freeze_online"]},
            "methods": ["get"],
        },
    ],
    "ssaa": [
        {
            "code": "properties",
            "title_en": "Registered properties of a person or company, with seizures (for a court)",
            "title_fa": "استعلام املاک ثبت‌شده به نام شخص و بازداشت‌های آن‌ها (برای مرجع قضایی)",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {"ssaa.properties": ["properties", "total_value", "freeze_online"]},
            "methods": ["get"],
        },
        {
            "code": "seizure",
            "title_en": "Seizure of a registered property by a court order",
            "title_fa": "بازداشت ملک ثبت‌شده به دستور مرجع قضایی",
            "param": "order_id",
            "key_fields": ["order_id"],
            "items": {"ssaa.seizure": ["reference", "serial", "case_number", "seized_at"]},
            "methods": ["get", "post"],
        },
    ],
    "vehicle": [
        {
            "code": "vehicle-assets",
            "title_en": "Vehicles registered to a person or company, with values (for a court)",
            "title_fa": "استعلام خودروهای به نام شخص و ارزش آن‌ها (برای مرجع قضایی)",
            "param": "national_code",
            "key_fields": ["national_code"],
            "items": {"vehicle.assets": ["vehicles", "total_value", "freeze_online"]},
            "methods": ["get"],
        },
    ],
}
FREEZE_ONLINE = {"banks": True, "ssaa": True, "stock": False, "vehicle": False}


def _digest(*parts: object) -> bytes:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()


def _number(seed: bytes, low: int, high: int) -> int:
    return low + int.from_bytes(seed[:8], "big") % (high - low)


def iban(bank_code: str, account: str) -> str:
    """An IR IBAN (شبا) with its ISO 7064 check digits."""
    bban = f"0{bank_code}{account:0>18}"[-22:]
    numeric = int(bban + "182700")  # "IR" = 18 27, then "00"
    return f"IR{98 - numeric % 97:02d}{bban}"


class AssetBook:
    """What the asset registries hold about people and companies, and the freezes ordered."""

    def __init__(self, population: Population) -> None:
        self.pop = population
        self.seed = population.seed
        self.lock = threading.Lock()
        self.blocks: dict[str, dict[str, Any]] = {}  # order id → the bank's answer
        self.blocked: dict[str, int] = {}  # IBAN → amount blocked
        self.seizures: dict[str, dict[str, Any]] = {}  # order id → the deed office's answer
        self.seized: dict[str, list[dict[str, Any]]] = {}  # deed serial → seizures

    # -- who is asked about -------------------------------------------------------------------

    def known(self, code: str) -> bool:
        if is_valid_national_code(code or ""):
            return self.pop.index_of(code) is not None
        if is_valid_legal_person_id(code or ""):
            return self.pop.company_of_id(code) is not None
        return False

    # -- the records ----------------------------------------------------------------------------

    def accounts(self, code: str) -> list[dict[str, Any]]:
        seed = _digest(self.seed, "banks", code)
        company = len(code) == 11
        count = seed[0] % (5 if company else 4)  # some people have none
        rows = []
        for n in range(count):
            d = _digest(self.seed, "account", code, n)
            bank = BANKS[d[0] % len(BANKS)]
            number = f"{_number(d[1:], 10**9, 10**10)}"
            scale = 10**10 if company else 10**9
            balance = _number(d[9:], 0, scale) // 10_000 * 10_000  # rials
            account_iban = iban(bank[0], number)
            with self.lock:
                blocked = min(balance, self.blocked.get(account_iban, 0))
            rows.append(
                {
                    "iban": account_iban,
                    "bank_fa": bank[1],
                    "bank_en": bank[2],
                    "kind": ("current", "savings", "deposit")[d[20] % 3],
                    "balance": balance,
                    "blocked": blocked,
                    "available": balance - blocked,
                }
            )
        return rows

    def holdings(self, code: str) -> list[dict[str, Any]]:
        seed = _digest(self.seed, "stock", code)
        count = 0 if seed[0] % 3 == 0 else seed[1] % 4
        rows = []
        for n in range(count):
            d = _digest(self.seed, "holding", code, n)
            symbol, name_fa, name_en, price = SYMBOLS[d[0] % len(SYMBOLS)]
            shares = _number(d[1:], 100, 200_000)
            rows.append(
                {
                    "symbol": symbol,
                    "company_fa": name_fa,
                    "company_en": name_en,
                    "shares": shares,
                    "price": price * 10,  # rials a share
                    "value": shares * price * 10,
                }
            )
        return rows

    def _deeds(self, code: str) -> list[dict[str, Any]]:
        i = self.pop.index_of(code) if len(code) == 10 else None
        if i is not None:
            return [d for d in self.pop.deeds(i) if d]
        j = self.pop.company_of_id(code) if len(code) == 11 else None
        if j is None:
            return []
        # A company's properties: some households' deeds, drawn from the company's number.
        d = _digest(self.seed, "company-deeds", code)
        found = []
        for n in range(d[0] % 3):
            k = _number(_digest(self.seed, "company-deed", code, n), 0, self.pop.households)
            deed = self.pop.deed(k)
            if deed:
                found.append({**deed, "owner_national_code": code})
        return found

    def properties(self, code: str) -> list[dict[str, Any]]:
        rows = []
        for deed in self._deeds(code):
            d = _digest(self.seed, "deed-value", deed["serial"])
            area = deed.get("area_m2") or 80
            value = area * _number(d, 200, 1500) * 1_000_000  # rials
            with self.lock:
                seizures = list(self.seized.get(deed["serial"], []))
            rows.append(
                {
                    "serial": deed["serial"],
                    "registry_plate": deed.get("registry_plate"),
                    "area_m2": deed.get("area_m2"),
                    "postcode": deed.get("postcode"),
                    "value": value,
                    "seized": bool(seizures),
                    "seizures": [
                        {"reference": s["reference"], "case_number": s["case_number"]}
                        for s in seizures
                    ],
                }
            )
        return rows

    def vehicles(self, code: str) -> list[dict[str, Any]]:
        i = self.pop.index_of(code) if len(code) == 10 else None
        vehicles = self.pop.owned_vehicles(i) if i is not None else []
        rows = []
        for v in vehicles:
            age = 2025 - int(v.get("model_year") or 2010)
            base = _number(_digest(self.seed, "vehicle-value", v["vin"]), 300, 3000)
            value = max(50, base - 60 * age) * 1_000_000  # rials
            rows.append(
                {
                    "vin": v["vin"],
                    "plate": v["plate"],
                    "make_model": v["make_model"],
                    "model_year": v["model_year"],
                    "status": v["status"],
                    "value": value,
                }
            )
        return rows

    # -- freezing -------------------------------------------------------------------------------

    def block(self, order_id: str, data: dict[str, Any]) -> Answer:
        code = str(data.get("national_code", ""))
        account_iban = str(data.get("iban", ""))
        case_number = str(data.get("case_number", ""))[:32]
        try:
            amount = int(data.get("amount"))
        except (TypeError, ValueError):
            return 400, {"detail": "give an amount in rials", "code": "bad_request"}
        with self.lock:
            known = self.blocks.get(order_id)
        if known is not None:
            if known["iban"] != account_iban:
                return 409, {"detail": "this order id blocked another account", "code": "reused"}
            return 200, known
        if amount <= 0 or not case_number:
            return 400, {"detail": "an amount above zero and a case number", "code": "bad_request"}
        account = next((a for a in self.accounts(code) if a["iban"] == account_iban), None)
        if account is None:
            return 404, {"found": False, "detail": "no such account of this person"}
        with self.lock:
            if order_id in self.blocks:  # a concurrent same order got here first
                return 200, self.blocks[order_id]
            already = self.blocked.get(account_iban, 0)
            blocked = max(0, min(amount, account["balance"] - already))
            self.blocked[account_iban] = already + blocked
            answer = {
                "order_id": order_id,
                "reference": f"B{int.from_bytes(_digest('block', order_id)[:6], 'big'):015d}",
                "iban": account_iban,
                "requested": amount,
                "blocked": blocked,
                "case_number": case_number,
                "blocked_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
            self.blocks[order_id] = answer
        return 200, answer

    def seize(self, order_id: str, data: dict[str, Any]) -> Answer:
        code = str(data.get("national_code", ""))
        serial = str(data.get("serial", ""))
        case_number = str(data.get("case_number", ""))[:32]
        with self.lock:
            known = self.seizures.get(order_id)
        if known is not None:
            if known["serial"] != serial:
                return 409, {"detail": "this order id seized another deed", "code": "reused"}
            return 200, known
        if not case_number:
            return 400, {"detail": "a case number", "code": "bad_request"}
        if not any(p["serial"] == serial for p in self.properties(code)):
            return 404, {"found": False, "detail": "no such property of this person"}
        with self.lock:
            if order_id in self.seizures:
                return 200, self.seizures[order_id]
            answer = {
                "order_id": order_id,
                "reference": f"S{int.from_bytes(_digest('seize', order_id)[:6], 'big'):015d}",
                "serial": serial,
                "case_number": case_number,
                "seized_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
            self.seizures[order_id] = answer
            self.seized.setdefault(serial, []).append(answer)
        return 200, answer


def _total(rows: list[dict[str, Any]], field: str) -> int:
    return sum(int(r.get(field) or 0) for r in rows)


def handlers(registry: str, book: AssetBook) -> dict[str, dict[str, Any]]:
    """Service code → {method → handler(param, query, body) → (status, record)}; empty for a
    registry without asset services."""

    def inquiry(kind: str, build, total_field: str):
        def handler(param: str, query: dict[str, str], body: bytes) -> Answer:
            if not book.known(param):
                return 404, {"found": False, "detail": "no person or company with this code"}
            rows = build(param)
            return 200, {
                "national_code": param,
                kind: rows,
                "total_value" if kind != "accounts" else "total_balance": _total(rows, total_field),
                "freeze_online": FREEZE_ONLINE[registry],
            }

        return handler

    def freeze(orders: dict[str, dict[str, Any]], act):
        def read(param: str, query: dict[str, str], body: bytes) -> Answer:
            with book.lock:
                known = orders.get(param)
            return (200, known) if known else (404, {"found": False, "detail": "no such order"})

        def write(param: str, query: dict[str, str], body: bytes) -> Answer:
            if not (0 < len(param) <= 64):
                return 400, {"detail": "an order id", "code": "bad_request"}
            try:
                data = json.loads(body or b"{}")
                if not isinstance(data, dict):
                    raise TypeError
            except (ValueError, TypeError):
                return 400, {"detail": "a JSON object", "code": "bad_request"}
            return act(param, data)

        return {"GET": read, "POST": write}

    table = {
        "banks": {
            "accounts": {"GET": inquiry("accounts", book.accounts, "balance")},
            "block": freeze(book.blocks, book.block),
        },
        "stock": {"holdings": {"GET": inquiry("holdings", book.holdings, "value")}},
        "ssaa": {
            "properties": {"GET": inquiry("properties", book.properties, "value")},
            "seizure": freeze(book.seizures, book.seize),
        },
        "vehicle": {"vehicle-assets": {"GET": inquiry("vehicles", book.vehicles, "value")}},
    }
    return table.get(registry, {})


def _paths(registry: str) -> dict[str, Any]:
    return catalogue.paths(SERVICES.get(registry, []))


def openapi(registry: str, description: dict[str, Any] | None = None) -> dict[str, Any]:
    """The published description of ``banks`` or ``stock``; for ``ssaa`` and ``vehicle`` their
    own ``description`` with the asset services added."""
    if description is not None:
        return {**description, "paths": {**description["paths"], **_paths(registry)}}
    return catalogue.describe(registry, *ORGANISATIONS[registry], _paths(registry))
