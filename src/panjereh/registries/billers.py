"""Simulated billers: the water, power, gas, telephone companies, municipalities, the tax
administration and the traffic police, as one exchange member that holds their open bills.

Run as a registry process (``python -m panjereh.registries.server --registry billers``), it
publishes two data services, reached only through the exchange:

* ``GET /bill/{bill_id}?payment_id=…``: is this bill (this period's payment ID) open, for how
  much and whose it is; 404 ``{"found": false}`` when the biller has no such bill or period;
* ``POST /bill-payment/{bill_id}`` with ``{"payment_id", "reference", "amount"}``: the window
  tells the biller the bill was paid (``reference``: the window's payment reference); the
  biller records it once per reference and answers its confirmation reference. The same
  notice again answers the same confirmation; a bill already paid under another reference
  answers 409; a wrong amount 400. ``GET /bill-payment/{bill_id}?reference=…`` reads a
  recorded confirmation back.

The open bills are generated from the seed (the same bills in every run), and ``POST /_bills``
(not published on the exchange, like ``/_control``) adds a bill for tests and demos. The bill
and payment IDs follow the banks' mod-11 rule (docs/payments.md); the code is the biller's own,
not the window's (a registry imports no app).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import threading
from typing import Any

from . import catalogue
from .population import legal_person_check_digit

NAME = "billers"
Answer = tuple[int, dict[str, Any]]


def _member_code() -> str:
    body = f"{1010000000 + 18:010d}"
    return body + str(legal_person_check_digit(body))


MEMBER_CODE = _member_code()
NAME_FA = "شرکت‌های صادرکننده قبوض (آب، برق، گاز، مخابرات، شهرداری‌ها، مالیات، راهور)"
NAME_EN = "Billers (water, power, gas, telephone, municipalities, tax, traffic police)"

# The kind of bill (the bill ID's second-to-last digit) and who issues it.
ISSUERS: dict[str, tuple[str, str]] = {
    "1": ("شرکت آب و فاضلاب", "Water and Wastewater Company"),
    "2": ("شرکت توزیع نیروی برق", "Electricity Distribution Company"),
    "3": ("شرکت ملی گاز ایران", "National Iranian Gas Company"),
    "4": ("شرکت مخابرات ایران", "Telecommunication Company of Iran"),
    "5": ("اپراتور تلفن همراه", "Mobile operator"),
    "6": ("شهرداری", "Municipality"),
    "7": ("شهرداری", "Municipality"),
    "8": ("سازمان امور مالیاتی کشور", "Iranian National Tax Administration"),
    "9": ("پلیس راهنمایی و رانندگی", "Traffic Police"),
}

SERVICES: list[dict[str, Any]] = [
    {
        "code": "bill",
        "title_en": "Bill status (open or paid, amount, biller)",
        "title_fa": "استعلام وضعیت قبض (پرداخت‌نشده یا پرداخت‌شده، مبلغ، صادرکننده)",
        "param": "bill_id",
        "query": ["payment_id"],
        "key_fields": ["bill_id", "payment_id"],
        "items": {
            "billers.bill": ["status", "amount", "kind", "biller_fa", "biller_en", "period", "year"]
        },
        "methods": ["get"],
    },
    {
        "code": "bill-payment",
        "title_en": "Bill payment notice and the biller's confirmation",
        "title_fa": "اعلام پرداخت قبض و تأیید صادرکننده",
        "param": "bill_id",
        "query": ["reference"],
        "key_fields": ["bill_id", "payment_id", "reference"],
        "items": {"billers.payment": ["confirmation", "confirmed_at", "amount"]},
        "methods": ["get", "post"],
    },
]


def mod11(digits: str) -> int:
    """The bills' check digit: weights 2..7 from the right, 0 when the remainder is below 2."""
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(digits)))
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder


def bill_id_of(body: str) -> str:
    return body + str(mod11(body))


def payment_id_of(bill_id: str, amount_thousands: int, year: int, period: int) -> str:
    head = f"{amount_thousands}{year % 10}{period:02d}"
    head += str(mod11(head))
    return head + str(mod11(bill_id + head))


class BillBook:
    """The billers' bills: ``bill_id`` → {``payment_id`` → the period's record}."""

    def __init__(self, seed: int, count: int = 400) -> None:
        self.lock = threading.Lock()
        self.bills: dict[str, dict[str, dict[str, Any]]] = {}
        rng = random.Random(f"billers:{seed}")  # noqa: S311 -- simulated data, not secrets
        for n in range(count):
            kind = str(1 + n % 9)
            body = f"{rng.randrange(10**7, 10**8)}{rng.randrange(1, 1000):03d}{kind}"
            period = 1 + rng.randrange(12)
            # One in ten is already paid (at a bank's counter, before the window is asked).
            self.add(
                bill_id_of(body),
                amount_thousands=rng.randrange(20, 3000),
                year=1404,
                period=period,
                paid=n % 10 == 9,
            )

    def add(
        self, bill_id: str, *, amount_thousands: int, year: int, period: int, paid: bool = False
    ) -> dict[str, Any]:
        if not (bill_id.isdigit() and 6 <= len(bill_id) <= 13):
            raise ValueError("a bill ID has 6 to 13 digits")
        if int(bill_id[-1]) != mod11(bill_id[:-1]) or bill_id[-2] not in ISSUERS:
            raise ValueError("the bill ID does not check")
        if not 0 < amount_thousands < 10**8 or not 1 <= period <= 99:
            raise ValueError("amount in thousands of rials above zero; period 1 to 99")
        payment_id = payment_id_of(bill_id, amount_thousands, year, period)
        record = {
            "bill_id": bill_id,
            "payment_id": payment_id,
            "amount": amount_thousands * 1000,
            "kind": bill_id[-2],
            "period": f"{period:02d}",
            "year": year,
            "payments": {},  # reference → confirmation
            "paid_by": "counter" if paid else "",
        }
        with self.lock:
            self.bills.setdefault(bill_id, {})[payment_id] = record
        return record

    def find(self, bill_id: str, payment_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.bills.get(bill_id, {}).get(payment_id.lstrip("0"))

    def status(self, record: dict[str, Any]) -> dict[str, Any]:
        issuer_fa, issuer_en = ISSUERS[record["kind"]]
        company = record["bill_id"][-5:-2]
        return {
            "bill_id": record["bill_id"],
            "payment_id": record["payment_id"],
            "status": "paid" if record["paid_by"] else "open",
            "amount": record["amount"],
            "kind": record["kind"],
            "biller_fa": f"{issuer_fa} (کد شرکت {company})",
            "biller_en": f"{issuer_en} (company {company})",
            "period": record["period"],
            "year": record["year"],
        }

    def pay(self, record: dict[str, Any], reference: str, amount: int) -> Answer:
        """Record a payment once per reference (the same answer again for the same one)."""
        with self.lock:
            known = record["payments"].get(reference)
            if known is not None:
                return 200, known
            if record["paid_by"]:
                return 409, {"detail": "this bill was already paid", "code": "already_paid"}
            if amount != record["amount"]:
                return 400, {"detail": "the amount is not the bill's", "code": "amount"}
            digest = hashlib.sha256(f"{record['bill_id']}:{reference}".encode()).hexdigest()
            confirmation = {
                "bill_id": record["bill_id"],
                "payment_id": record["payment_id"],
                "reference": reference,
                "confirmation": str(10**11 + int(digest[:12], 16) % (9 * 10**11)),
                "confirmed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "amount": record["amount"],
            }
            record["payments"][reference] = confirmation
            record["paid_by"] = reference
            return 200, confirmation

    def open_bills(self, limit: int = 20) -> list[dict[str, Any]]:
        with self.lock:
            records = [r for periods in self.bills.values() for r in periods.values()]
        return [self.status(r) for r in records if not r["paid_by"]][:limit]


def _not_found() -> Answer:
    return 404, {"found": False, "detail": "no such bill"}


def handlers(book: BillBook) -> dict[str, Any]:
    """Service code → {method → handler(param, query, body) → (status, record)}."""

    def bill(param: str, query: dict[str, str], body: bytes) -> Answer:
        record = book.find(param, query.get("payment_id", ""))
        return (200, book.status(record)) if record else _not_found()

    def read_payment(param: str, query: dict[str, str], body: bytes) -> Answer:
        reference = query.get("reference", "")
        with book.lock:
            periods = list(book.bills.get(param, {}).values())
        for record in periods:
            if reference and reference in record["payments"]:
                return 200, record["payments"][reference]
        return _not_found()

    def record_payment(param: str, query: dict[str, str], body: bytes) -> Answer:
        try:
            data = json.loads(body or b"{}")
            payment_id = str(data["payment_id"])
            reference = str(data["reference"])
            amount = int(data["amount"])
        except (ValueError, KeyError, TypeError):
            return 400, {"detail": "give payment_id, reference and amount", "code": "bad_request"}
        if not reference.isdigit() or len(reference) > 20:
            return 400, {"detail": "the reference is digits", "code": "bad_request"}
        record = book.find(param, payment_id)
        if record is None:
            return _not_found()
        return book.pay(record, reference, amount)

    return {
        "bill": {"GET": bill},
        "bill-payment": {"GET": read_payment, "POST": record_payment},
    }


def control(book: BillBook, method: str, body: bytes) -> Answer:
    """``/_bills``: GET lists some open bills (the demo prints them); POST adds one:
    ``{"bill_id", "amount_thousands", "year", "period", "paid"}`` or ``"body"`` instead of
    ``bill_id`` (the number without its check digit)."""
    if method != "POST":
        return 200, {"bills": book.open_bills()}
    try:
        data = json.loads(body or b"{}")
        bill_id = str(data.get("bill_id") or bill_id_of(str(data["body"])))
        record = book.add(
            bill_id,
            amount_thousands=int(data["amount_thousands"]),
            year=int(data.get("year", 1404)),
            period=int(data.get("period", 1)),
            paid=bool(data.get("paid", False)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        return 400, {"detail": str(exc)}
    return 200, book.status(record)


def openapi() -> dict[str, Any]:
    """The billers' published description (the exchange registers a data service per path)."""
    return catalogue.describe(
        NAME, MEMBER_CODE, NAME_FA, NAME_EN, catalogue.paths(SERVICES, not_found="No such bill")
    )
