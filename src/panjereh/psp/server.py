"""The simulated PSP as a WSGI app, and a small threaded server to run it in its own process.

Run: ``python -m panjereh.psp.server --port 0 --merchant panjereh`` with the merchant's shared
secret as the first line of standard input (the bank gives it to the merchant; here the
supervisor writes the window's, so it appears in no command line nor environment). The process
prints one JSON line ``{"psp": ..., "port": ...}`` once it listens and serves until SIGTERM or
until its parent dies.

The merchant's calls (``POST /api/v1/<call>``, JSON) carry ``X-PSP-Merchant`` and
``X-PSP-Signature``: HMAC-SHA256 of the body under the merchant's secret. Calls:

* ``token`` {order_id, amount, callback_url}: a payment token and the bank page's address; the
  same order with the same amount gets the same token (idempotent), another amount a 409;
* ``verify`` {token}: the merchant confirms a paid transaction; only within
  ``verify_deadline`` seconds of the payment, after which the bank has reversed it;
* ``reverse`` {token}: give a paid, unverified payment back to the payer;
* ``inquiry`` {token}: where the transaction is;
* ``refund`` {token, refund_id, amount}: idempotent per refund_id, never more than verified;
* ``settlement`` {day}: the day's settlement file (CSV), signed in ``X-PSP-Signature``.

The payer's pages: ``GET|POST /pay/<token>`` (card number, expiry, CVV2, dynamic password),
``POST /pay/<token>/cancel``. The result goes back through the payer's browser as a form posted
to the merchant's callback address, its fields signed (``sig``).

``GET|POST /_control``: the switch of tests and demos: ``mode`` (``normal``, ``down``: every API
call answers 503, ``slow``: waits ``delay_ms``), ``verify_deadline`` (seconds), ``clock_offset``
(seconds added to the bank's clock), ``tamper`` ({"drop": [tokens], "amount": {token:
amount}, "extra": [{...line}]}) applied to settlement files, ``hang`` ({"call": "verify",
"seconds": 30, "then": "drop" | "answer"}: that call is held, and either dropped (answered 503,
never reaching the bank's ledger) or answered after the wait (applied at once, its answer late);
``{}`` releases the held calls; the state counts them in ``held``), ``ledger`` ({"day":
"2026-11-20", "prefix": "bench-", "count": 1000000, "amount": 10000}: that many verified
payments of that Tehran day, tokens ``prefix0`` … , written into that day's settlement file
without a row each in memory; ``[]`` forgets them) and ``reset`` (forget every transaction).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import hmac
import html
import io
import json
import os
import secrets
import signal
import sys
import threading
import time
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from zoneinfo import ZoneInfo

from . import TEST_CARDS

TEHRAN = ZoneInfo("Asia/Tehran")
MAX_BODY = 64 * 1024
SETTLEMENT_COLUMNS = ("day", "kind", "token", "order_id", "ref", "amount", "at")
PERSIAN_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def sign(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def canonical(fields: dict[str, str]) -> bytes:
    """The signed text of a callback: its fields but ``sig``, sorted, one ``name=value`` a line."""
    return "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "sig").encode()


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


class Bank:
    """The bank's transactions, in memory, shared by the request threads."""

    def __init__(self, merchant: str, secret: bytes, verify_deadline: float, token_life: float):
        self.merchant, self.secret = merchant, secret
        self.verify_deadline, self.token_life = verify_deadline, token_life
        self.lock = threading.Lock()
        self.by_token: dict[str, dict[str, Any]] = {}
        self.by_order: dict[str, str] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.mode, self.delay_ms, self.clock_offset = "normal", 0, 0.0
        self.tamper: dict[str, Any] = {}
        self.calls = 0
        # Faults of tests and benchmarks: a call held (``hang``), bulk ledgers (``ledger``).
        self.hang: dict[str, Any] = {}
        self.release = threading.Event()
        self.held = 0
        self.ledgers: list[dict[str, Any]] = []

    def now(self) -> float:
        return time.time() + self.clock_offset

    # -- the bank's own rule: no verify in time, the money goes back -----------------------------

    def expire(self, tx: dict[str, Any]) -> None:
        """Reverse a paid transaction past its verify deadline; drop an unused token past its life
        (under ``self.lock``)."""
        now = self.now()
        if tx["status"] == "paid" and now > tx["paid_at"] + self.verify_deadline:
            tx.update(status="reversed", reversed_at=now, reversed_by="bank")
        elif tx["status"] == "issued" and now > tx["issued_at"] + self.token_life:
            tx.update(status="expired")

    def public(self, tx: dict[str, Any]) -> dict[str, Any]:
        self.expire(tx)
        keys = ("token", "order_id", "amount", "status", "ref", "card", "code", "refunded")
        answer = {k: tx.get(k) for k in keys}
        for stamp in ("paid_at", "verified_at", "reversed_at"):
            if tx.get(stamp):
                answer[stamp] = tx[stamp]
        answer["verify_by"] = tx["paid_at"] + self.verify_deadline if tx.get("paid_at") else None
        return answer

    # -- merchant calls ------------------------------------------------------------------------

    def call(self, name: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        handler = getattr(self, f"api_{name}", None)
        if handler is None:
            return 404, {"error": "unknown_call"}
        with self.lock:
            self.calls += 1
            return handler(data)

    def api_token(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        order, amount, callback = data.get("order_id"), data.get("amount"), data.get("callback_url")
        if not (isinstance(order, str) and order and isinstance(amount, int) and amount > 0):
            return 400, {"error": "bad_request"}
        if not (isinstance(callback, str) and callback.startswith(("http://", "https://"))):
            return 400, {"error": "bad_callback_url"}
        known = self.by_order.get(order)
        if known:
            tx = self.by_token[known]
            if tx["amount"] != amount or tx["callback_url"] != callback:
                return 409, {"error": "order_id_reused"}
            return 200, {"token": known, "repeated": True, **self.public(tx)}
        token = secrets.token_urlsafe(18)
        tx = {
            "token": token,
            "order_id": order,
            "amount": amount,
            "callback_url": callback,
            "status": "issued",
            "issued_at": self.now(),
            "refunded": 0,
        }
        self.by_token[token], self.by_order[order] = tx, token
        return 200, {"token": token, "repeated": False, **self.public(tx)}

    def _tx(self, data: dict[str, Any]) -> dict[str, Any] | None:
        token = data.get("token")
        if not token and data.get("order_id"):
            token = self.by_order.get(str(data["order_id"]))
        return self.by_token.get(str(token or ""))

    def api_inquiry(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        tx = self._tx(data)
        return (200, self.public(tx)) if tx else (404, {"error": "unknown_token"})

    def api_verify(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        tx = self._tx(data)
        if not tx:
            return 404, {"error": "unknown_token"}
        self.expire(tx)
        if tx["status"] == "verified":
            return 200, {**self.public(tx), "repeated": True}
        if tx["status"] != "paid":
            return 409, {"error": "not_verifiable", **self.public(tx)}
        tx.update(status="verified", verified_at=self.now())
        return 200, {**self.public(tx), "repeated": False}

    def api_reverse(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        tx = self._tx(data)
        if not tx:
            return 404, {"error": "unknown_token"}
        self.expire(tx)
        if tx["status"] == "reversed":
            return 200, {**self.public(tx), "repeated": True}
        if tx["status"] != "paid":
            return 409, {"error": "not_reversible", **self.public(tx)}
        tx.update(status="reversed", reversed_at=self.now(), reversed_by="merchant")
        return 200, {**self.public(tx), "repeated": False}

    def api_refund(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        tx, refund_id, amount = self._tx(data), data.get("refund_id"), data.get("amount")
        if not tx:
            return 404, {"error": "unknown_token"}
        if not (
            isinstance(refund_id, str) and refund_id and isinstance(amount, int) and amount > 0
        ):
            return 400, {"error": "bad_request"}
        known = self.refunds.get(refund_id)
        if known:
            if known["token"] != tx["token"] or known["amount"] != amount:
                return 409, {"error": "refund_id_reused"}
            return 200, {**known, "repeated": True}
        if tx["status"] != "verified":
            return 409, {"error": "not_refundable", "status": tx["status"]}
        if tx["refunded"] + amount > tx["amount"]:
            return 409, {"error": "exceeds_payment", "refundable": tx["amount"] - tx["refunded"]}
        tx["refunded"] += amount
        refund = {
            "refund_id": refund_id,
            "token": tx["token"],
            "order_id": tx["order_id"],
            "amount": amount,
            "status": "refunded",
            "ref": f"RF{secrets.randbelow(10**10):010d}",
            "at": self.now(),
        }
        self.refunds[refund_id] = refund
        return 200, {**refund, "repeated": False}

    def settlement(self, day: str) -> str:
        """The day's settlement file: verified payments and refunds of that Tehran day."""
        lines: list[dict[str, Any]] = []
        with self.lock:
            for tx in self.by_token.values():
                self.expire(tx)
                if tx["status"] == "verified" and self._day(tx["verified_at"]) == day:
                    lines.append(self._line(day, "payment", tx, tx["amount"], tx["verified_at"]))
            for refund in self.refunds.values():
                if self._day(refund["at"]) == day:
                    tx = self.by_token[refund["token"]]
                    line = self._line(day, "refund", tx, refund["amount"], refund["at"])
                    lines.append({**line, "ref": refund["ref"]})
            tamper = dict(self.tamper)
        dropped = set(tamper.get("drop", ()))
        amounts = tamper.get("amount", {})
        lines = [
            {**line, "amount": amounts.get(line["token"], line["amount"])}
            for line in lines
            if line["token"] not in dropped
        ]
        lines += [
            {**{c: "" for c in SETTLEMENT_COLUMNS}, "day": day, **extra}
            for extra in tamper.get("extra", ())
        ]
        out = io.StringIO()
        writer = csv.DictWriter(out, SETTLEMENT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(sorted(lines, key=lambda line: (str(line["at"]), line["token"])))
        self.write_ledgers(out, day, dropped, amounts)
        return out.getvalue()

    def write_ledgers(
        self, out: io.StringIO, day: str, dropped: set[str], amounts: dict[str, Any]
    ) -> None:
        """The bulk ledgers of ``day`` (``ledger`` in the switch), written line by line."""
        writer = csv.writer(out, lineterminator="\n")
        for ledger in list(self.ledgers):
            if ledger["day"] != day:
                continue
            at = dt.datetime.combine(
                dt.date.fromisoformat(day), dt.time(12), tzinfo=TEHRAN
            ).astimezone(dt.UTC)
            stamp = at.isoformat(timespec="seconds")
            prefix, amount = ledger["prefix"], ledger["amount"]
            for i in range(ledger["count"]):
                token = f"{prefix}{i}"
                if token in dropped:
                    continue
                ref = f"{i:012d}"
                writer.writerow(
                    (day, "payment", token, f"9{i:011d}", ref, amounts.get(token, amount), stamp)
                )

    @staticmethod
    def _day(at: float) -> str:
        return dt.datetime.fromtimestamp(at, TEHRAN).date().isoformat()

    @staticmethod
    def _line(day: str, kind: str, tx: dict[str, Any], amount: int, at: float) -> dict[str, Any]:
        return {
            "day": day,
            "kind": kind,
            "token": tx["token"],
            "order_id": tx["order_id"],
            "ref": tx.get("ref", ""),
            "amount": amount,
            "at": dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="seconds"),
        }

    # -- the payer's page -------------------------------------------------------------------------

    def pay(self, token: str, form: dict[str, str]) -> tuple[str, dict[str, Any] | None, int]:
        """Take the card on the bank page: (an error to show, or "", the callback, repeat)."""
        with self.lock:
            tx = self.by_token.get(token)
            if tx is None:
                return "unknown", None, 0
            self.expire(tx)
            if tx["status"] != "issued":
                return "used", None, 0
            card = form.get("card", "").translate(PERSIAN_DIGITS).replace(" ", "").replace("-", "")
            expiry = form.get("expiry", "").translate(PERSIAN_DIGITS).replace(" ", "")
            cvv2 = form.get("cvv2", "").translate(PERSIAN_DIGITS).strip()
            otp = form.get("otp", "").translate(PERSIAN_DIGITS).strip()
            if not (len(card) == 16 and card.isdigit() and luhn_ok(card)):
                return "card", None, 0
            if not (len(expiry) == 5 and expiry[2] == "/" and expiry.replace("/", "").isdigit()):
                return "expiry", None, 0
            if not (cvv2.isdigit() and 3 <= len(cvv2) <= 4):
                return "cvv2", None, 0
            if not (otp.isdigit() and 5 <= len(otp) <= 8):
                return "otp", None, 0
            behaviour = TEST_CARDS.get(card, "declined")
            tx["card"] = f"{card[:6]}******{card[-4:]}"
            if behaviour in ("success", "no_callback", "duplicate_callback"):
                tx.update(
                    status="paid",
                    paid_at=self.now(),
                    code="00",
                    ref=f"{secrets.randbelow(10**12):012d}",
                )
            else:
                tx.update(status="failed", code=behaviour, failed_at=self.now())
            repeat = {"no_callback": 0, "duplicate_callback": 2}.get(behaviour, 1)
            return "", self.callback(tx), repeat

    def cancel(self, token: str) -> dict[str, Any] | None:
        with self.lock:
            tx = self.by_token.get(token)
            if tx is None or tx["status"] != "issued":
                return None
            tx.update(status="cancelled", code="cancelled")
            return self.callback(tx)

    def callback(self, tx: dict[str, Any]) -> dict[str, Any]:
        status = {"paid": "paid", "cancelled": "cancelled"}.get(tx["status"], "failed")
        fields = {
            "token": tx["token"],
            "order_id": tx["order_id"],
            "status": status,
            "code": tx.get("code", ""),
            "amount": str(tx["amount"]),
            "ref": tx.get("ref", ""),
            "card": tx.get("card", ""),
            "ts": str(int(self.now())),
        }
        fields["sig"] = sign(self.secret, canonical(fields))
        return {"url": tx["callback_url"], "fields": fields}


ERRORS = {
    "card": "شماره کارت درست نیست: ۱۶ رقم روی کارت را وارد کنید.",
    "expiry": "تاریخ انقضا را به شکل ماه/سال وارد کنید، مثلاً ۰۵/۰۶.",
    "cvv2": "کد امنیتی کارت (CVV۲) سه یا چهار رقم پشت کارت است.",
    "otp": "رمز دوم (رمز پویا) پنج تا هشت رقم است.",
}


def _fa(number: int | str) -> str:
    return f"{int(number):,}".replace(",", "٬").translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


PAGE = """<!doctype html>
<html lang="fa" dir="rtl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:Vazirmatn,Tahoma,sans-serif;margin:0;background:#f3f4f6;color:#111}}
main{{max-width:26rem;margin:0 auto;padding:1rem;box-sizing:border-box}}
h1{{font-size:1.25rem}} label{{display:block;margin:.75rem 0 .25rem;font-weight:bold}}
input{{width:100%;box-sizing:border-box;font-size:1.1rem;padding:.6rem;direction:ltr}}
button{{font-size:1.1rem;padding:.7rem 1.2rem;margin-top:1rem;width:100%}}
.error{{border-right:5px solid #b00;background:#fff;padding:.5rem;color:#b00}}
.amount{{font-size:1.4rem;font-weight:bold}} .note{{color:#555;font-size:.9rem}}
</style></head><body><main>{body}</main></body></html>"""


def page(title: str, body: str) -> bytes:
    return PAGE.format(title=html.escape(title), body=body).encode()


def card_page(tx: dict[str, Any], error: str = "", form: dict[str, str] | None = None) -> bytes:
    form = form or {}
    alert = (
        f'<div class="error" role="alert" id="error" tabindex="-1">{html.escape(ERRORS[error])}</div>'
        if error
        else ""
    )

    def field(name: str, label: str, mode: str, auto: str, hint: str = "") -> str:
        value = html.escape(form.get(name, "")) if name != "otp" else ""
        return (
            f'<label for="{name}">{label}</label>'
            + (f'<div class="note" id="{name}-hint">{hint}</div>' if hint else "")
            + f'<input id="{name}" name="{name}" inputmode="{mode}" autocomplete="{auto}"'
            f' value="{value}"' + (f' aria-describedby="{name}-hint"' if hint else "") + ">"
        )

    body = (
        "<h1>درگاه پرداخت اینترنتی (آزمایشی)</h1>"
        f'<p>مبلغ: <span class="amount">{_fa(tx["amount"])} ریال</span></p>'
        '<p class="note">این بانک شبیه‌سازی است و هیچ پولی جابه‌جا نمی‌کند.</p>'
        + alert
        + f'<form method="post" action="/pay/{html.escape(tx["token"])}">'
        + field("card", "شماره کارت", "numeric", "cc-number", "۱۶ رقم روی کارت")
        + field("expiry", "تاریخ انقضا", "numeric", "cc-exp", "ماه/سال، مثلاً ۰۵/۰۶")
        + field("cvv2", "کد امنیتی (CVV۲)", "numeric", "cc-csc", "سه یا چهار رقم پشت کارت")
        + field("otp", "رمز دوم (رمز پویا)", "numeric", "one-time-code")
        + '<button type="submit">پرداخت</button></form>'
        + f'<form method="post" action="/pay/{html.escape(tx["token"])}/cancel">'
        '<button type="submit">انصراف و بازگشت</button></form>'
    )
    return page("درگاه پرداخت", body)


def callback_page(callback: dict[str, Any], repeat: int) -> bytes:
    """The result page: a form posted back to the merchant (``repeat`` times: 0 when the
    callback never comes, 2 for a duplicated one)."""
    status = callback["fields"]["status"]
    said = {
        "paid": "پرداخت انجام شد.",
        "cancelled": "پرداخت لغو شد.",
    }.get(status, "پرداخت ناموفق بود.")
    if repeat == 0:
        return page("درگاه پرداخت", f"<h1>{said}</h1><p>بازگشت به سایت پذیرنده ممکن نشد.</p>")
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in callback["fields"].items()
    )
    body = (
        f"<h1>{said}</h1>"
        f'<form id="back" method="post" action="{html.escape(callback["url"])}"'
        f' data-repeat="{repeat}">{inputs}<button type="submit">بازگشت به سایت پذیرنده</button>'
        "</form>"
    )
    return page("درگاه پرداخت", body)


class App:
    def __init__(self, bank: Bank) -> None:
        self.bank = bank

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            return self.json(start_response, 413, {"error": "too_large"})
        body = environ["wsgi.input"].read(length) if length else b""
        path, method = environ.get("PATH_INFO", "/"), environ["REQUEST_METHOD"]
        if path == "/_health":
            return self.json(start_response, 200, {"ok": True})
        if path == "/_control":
            return self.control(start_response, method, body)
        if path.startswith("/api/v1/"):
            return self.api(start_response, path.removeprefix("/api/v1/"), environ, body)
        if path.startswith("/pay/"):
            return self.payer(start_response, path.removeprefix("/pay/"), method, body)
        return self.json(start_response, 404, {"error": "not_found"})

    def control(self, start_response: Any, method: str, body: bytes) -> list[bytes]:
        bank = self.bank
        if method == "POST":
            data = json.loads(body or b"{}")
            with bank.lock:
                if "mode" in data:
                    if data["mode"] not in ("normal", "down", "slow"):
                        return self.json(start_response, 400, {"error": "bad_mode"})
                    bank.mode = data["mode"]
                    bank.delay_ms = int(data.get("delay_ms", 2000 if bank.mode == "slow" else 0))
                for name in ("verify_deadline", "clock_offset", "token_life"):
                    if name in data:
                        setattr(bank, name, float(data[name]))
                if "tamper" in data:
                    bank.tamper = dict(data["tamper"] or {})
                if "hang" in data:
                    bank.hang = dict(data["hang"] or {})
                    bank.release.set()  # the calls held so far go on
                    bank.release = threading.Event()
                if "ledger" in data:
                    ledgers = data["ledger"] or []
                    ledgers = [ledgers] if isinstance(ledgers, dict) else ledgers
                    try:
                        bank.ledgers = [
                            {
                                "day": dt.date.fromisoformat(str(one["day"])).isoformat(),
                                "prefix": str(one["prefix"])[:60],
                                "count": max(0, min(int(one["count"]), 10_000_000)),
                                "amount": int(one["amount"]),
                            }
                            for one in ledgers
                        ]
                    except (KeyError, TypeError, ValueError):
                        return self.json(start_response, 400, {"error": "bad_ledger"})
                if data.get("reset"):  # forget every transaction (tests start afresh)
                    bank.by_token.clear()
                    bank.by_order.clear()
                    bank.refunds.clear()
                    bank.ledgers, bank.hang, bank.held = [], {}, 0
                    bank.release.set()
                    bank.release = threading.Event()
        with bank.lock:
            state = {
                "mode": bank.mode,
                "verify_deadline": bank.verify_deadline,
                "clock_offset": bank.clock_offset,
                "calls": bank.calls,
                "transactions": len(bank.by_token),
                "held": bank.held,
                "ledgers": sum(one["count"] for one in bank.ledgers),
            }
        return self.json(start_response, 200, state)

    def api(self, start_response: Any, name: str, environ: dict, body: bytes) -> list[bytes]:
        bank = self.bank
        if bank.mode == "down":
            return self.json(start_response, 503, {"error": "unavailable"})
        if bank.mode == "slow":
            time.sleep(bank.delay_ms / 1000)
        merchant = environ.get("HTTP_X_PSP_MERCHANT", "")
        signature = environ.get("HTTP_X_PSP_SIGNATURE", "")
        if merchant != bank.merchant or not hmac.compare_digest(signature, sign(bank.secret, body)):
            return self.json(start_response, 401, {"error": "bad_signature"})
        try:
            data = json.loads(body)
        except ValueError:
            return self.json(start_response, 400, {"error": "bad_json"})
        if not isinstance(data, dict):
            return self.json(start_response, 400, {"error": "bad_json"})
        if name == "settlement":
            day = str(data.get("day", ""))
            try:
                dt.date.fromisoformat(day)
            except ValueError:
                return self.json(start_response, 400, {"error": "bad_day"})
            text = bank.settlement(day).encode()
            start_response(
                "200 OK",
                [
                    ("Content-Type", "text/csv; charset=utf-8"),
                    ("Content-Length", str(len(text))),
                    ("X-PSP-Signature", sign(bank.secret, text)),
                ],
            )
            return [text]
        hang = bank.hang if bank.hang.get("call") == name else {}
        if not hang:
            status, answer = bank.call(name, data)
            return self.json(start_response, status, answer)
        if hang.get("then") == "answer":  # applied at once; its answer comes late
            status, answer = bank.call(name, data)
        else:  # lost on its way: the ledger never sees it
            status, answer = 503, {"error": "unavailable"}
        with bank.lock:
            bank.held += 1
            release = bank.release
        release.wait(float(hang.get("seconds", 30)))
        return self.json(start_response, status, answer)

    def payer(self, start_response: Any, rest: str, method: str, body: bytes) -> list[bytes]:
        bank = self.bank
        token, _, action = rest.partition("/")
        with bank.lock:
            tx = bank.by_token.get(token)
            if tx is not None:
                bank.expire(tx)
            tx = dict(tx) if tx else None
        if tx is None:
            return self.html(start_response, 404, page("درگاه پرداخت", "<h1>پرداخت پیدا نشد.</h1>"))
        if method == "POST" and action == "cancel":
            callback = bank.cancel(token)
            if callback is None:
                return self.html(
                    start_response, 409, page("درگاه پرداخت", "<h1>این پرداخت دیگر باز نیست.</h1>")
                )
            return self.html(start_response, 200, callback_page(callback, 1))
        if tx["status"] != "issued":
            return self.html(
                start_response, 409, page("درگاه پرداخت", "<h1>این پرداخت دیگر باز نیست.</h1>")
            )
        if method != "POST":
            return self.html(start_response, 200, card_page(tx))
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        error, callback, repeat = bank.pay(token, form)
        if error in ERRORS:
            return self.html(start_response, 400, card_page(tx, error, form))
        if callback is None:
            return self.html(
                start_response, 409, page("درگاه پرداخت", "<h1>این پرداخت دیگر باز نیست.</h1>")
            )
        return self.html(start_response, 200, callback_page(callback, repeat))

    @staticmethod
    def json(start_response: Any, status: int, data: dict[str, Any]) -> list[bytes]:
        body = json.dumps(data).encode()
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    @staticmethod
    def html(start_response: Any, status: int, body: bytes) -> list[bytes]:
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(
    host: str,
    port: int,
    merchant: str,
    secret: bytes,
    verify_deadline: float,
    token_life: float,
    parent_pid: int | None,
) -> None:
    bank = Bank(merchant, secret, verify_deadline, token_life)
    server = make_server(host, port, App(bank), server_class=_Server, handler_class=_Quiet)
    print(json.dumps({"psp": merchant, "port": server.server_address[1]}), flush=True)

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if parent_pid:

        def watch() -> None:  # never outlive the supervisor
            while os.getppid() == parent_pid:
                time.sleep(0.5)
            stop()

        threading.Thread(target=watch, daemon=True).start()
    server.serve_forever(poll_interval=0.2)
    server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the simulated payment service provider.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--merchant", default="panjereh")
    parser.add_argument("--verify-deadline", type=float, default=900.0)
    parser.add_argument("--token-life", type=float, default=1200.0)
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args(argv)
    secret = sys.stdin.readline().strip()
    if not secret:
        parser.error("give the merchant's shared secret as the first line of standard input")
    serve(
        args.host,
        args.port,
        args.merchant,
        secret.encode(),
        args.verify_deadline,
        args.token_life,
        args.parent_pid,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
