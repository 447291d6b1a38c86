"""The simulated PSP (``panjereh.psp``), reached over HTTP like a real bank's gateway.

Every call is JSON signed with the merchant's shared secret (HMAC-SHA256 in
``X-PSP-Signature``); the callback's fields are signed the same way (``sig``), and the
settlement file's body too. Calls go through the one pooled HTTP client
(:mod:`panjereh.common.httpclient`) with a size cap and a deadline.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from panjereh.common import httpclient

from .. import conf
from . import (
    CANCELLED,
    FAILED,
    PAID,
    UNKNOWN,
    BadCallback,
    Callback,
    Provider,
    ProviderRefused,
    ProviderUnavailable,
    RefundDone,
    SettlementLine,
    Started,
    Status,
    register,
)

MAX_ANSWER = 256 * 1024
MAX_SETTLEMENT = 512 * 1024 * 1024
CALLBACK_FIELDS = ("token", "order_id", "status", "code", "amount", "ref", "card", "ts", "sig")


def _canonical(fields: Mapping[str, str]) -> bytes:
    return "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "sig").encode()


def _sign(body: bytes) -> str:
    return hmac.new(conf.psp_secret(), body, hashlib.sha256).hexdigest()


def _moment(seconds: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(float(seconds), dt.UTC) if seconds else None


@register("simulated")
class SimulatedPSP(Provider):
    label = "Simulated bank (no money moves)"

    def _post(self, call: str, data: dict[str, Any], *, cap: int = MAX_ANSWER) -> httpx.Response:
        body = json.dumps(data, separators=(",", ":")).encode()
        timeout = float(conf.get("PSP_TIMEOUT"))
        client = httpclient.pooled("payments")
        try:
            request = client.build_request(
                "POST",
                f"{conf.get('PSP_URL').rstrip('/')}/api/v1/{call}",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-PSP-Merchant": conf.get("PSP_MERCHANT"),
                    "X-PSP-Signature": _sign(body),
                },
                timeout=timeout,
            )
            response = client.send(request, stream=True)
            content = httpclient.read_capped(response, cap, time.monotonic() + timeout)
        except (httpx.HTTPError, httpclient.TooLarge, OSError) as exc:
            raise ProviderUnavailable(f"{call}: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise ProviderUnavailable(f"{call}: HTTP {response.status_code}")
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def _json(self, call: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = self._post(call, data)
        try:
            answer = response.json()
        except ValueError as exc:
            raise ProviderUnavailable(f"{call}: not JSON") from exc
        if response.status_code == 401:
            # Our own signature refused: a configuration fault, never the payer's.
            raise ProviderUnavailable(f"{call}: the PSP refused the merchant's signature")
        return response.status_code, answer

    @staticmethod
    def _status(answer: dict[str, Any]) -> Status:
        return Status(
            state=str(answer.get("status") or UNKNOWN),
            amount=answer.get("amount"),
            ref=str(answer.get("ref") or ""),
            card=str(answer.get("card") or ""),
            code=str(answer.get("code") or ""),
            verify_by=_moment(answer.get("verify_by")),
        )

    def start(self, payment: Any, callback_url: str) -> Started:
        status, answer = self._json(
            "token",
            {"order_id": payment.reference, "amount": payment.amount, "callback_url": callback_url},
        )
        if status != 200:
            raise ProviderRefused(str(answer.get("error", status)), answer)
        token = str(answer["token"])
        return Started(token=token, redirect_url=f"{conf.get('PSP_URL').rstrip('/')}/pay/{token}")

    def read_callback(self, data: Mapping[str, str]) -> Callback:
        fields = {name: str(data.get(name, "")) for name in CALLBACK_FIELDS}
        if not fields["token"] or not fields["sig"]:
            raise BadCallback("missing fields")
        if not hmac.compare_digest(fields["sig"], _sign(_canonical(fields))):
            raise BadCallback("bad signature")
        state = {"paid": PAID, "cancelled": CANCELLED, "failed": FAILED}.get(fields["status"])
        if state is None or not fields["amount"].isdigit() or not fields["ts"].isdigit():
            raise BadCallback("bad values")
        return Callback(
            token=fields["token"],
            order_id=fields["order_id"],
            state=state,
            amount=int(fields["amount"]),
            ref=fields["ref"],
            card=fields["card"],
            code=fields["code"],
            signed_at=dt.datetime.fromtimestamp(int(fields["ts"]), dt.UTC),
        )

    def _about(self, call: str, payment: Any) -> Status:
        status, answer = self._json(call, {"token": payment.provider_token})
        if status == 404:
            return Status(state=UNKNOWN)
        return self._status(answer)

    def verify(self, payment: Any) -> Status:
        return self._about("verify", payment)

    def reverse(self, payment: Any) -> Status:
        return self._about("reverse", payment)

    def inquire(self, payment: Any) -> Status:
        return self._about("inquiry", payment)

    def refund(self, refund: Any) -> RefundDone:
        status, answer = self._json(
            "refund",
            {
                "token": refund.payment.provider_token,
                "refund_id": refund.idempotency_key,
                "amount": refund.amount,
            },
        )
        if status != 200:
            raise ProviderRefused(str(answer.get("error", status)), answer)
        return RefundDone(ref=str(answer.get("ref", "")))

    def settlement(self, day: dt.date) -> tuple[bytes, Iterable[SettlementLine]]:
        response = self._post("settlement", {"day": day.isoformat()}, cap=MAX_SETTLEMENT)
        if response.status_code != 200:
            raise ProviderUnavailable(f"settlement: HTTP {response.status_code}")
        body = response.content
        if not hmac.compare_digest(response.headers.get("X-PSP-Signature", ""), _sign(body)):
            raise ProviderUnavailable("settlement: the file's signature does not match")
        return body, _lines(body)

    def settlement_csv(self, body: bytes) -> dict[str, str] | None:
        # The file is CSV with a header (day,kind,token,order_id,ref,amount,at).
        return {name: name for name in ("kind", "token", "order_id", "ref", "amount")}


def _lines(body: bytes) -> Iterable[SettlementLine]:
    reader = csv.DictReader(io.StringIO(body.decode("utf-8")))
    for number, row in enumerate(reader, start=1):
        amount = (row.get("amount") or "").strip()
        yield SettlementLine(
            number=number,
            kind=(row.get("kind") or "").strip(),
            token=(row.get("token") or "").strip(),
            order_id=(row.get("order_id") or "").strip(),
            ref=(row.get("ref") or "").strip(),
            amount=int(amount) if amount.isdigit() else None,
        )
