"""The simulated specialised permit portals as a WSGI app, and a small threaded server.

Run: ``python -m panjereh.portals.server --port 0 --state-dir DIR`` with one JSON line on
standard input, ``{"<portal>": {"key": ..., "secret": ...}, ...}``: the portals to serve and the
window's credentials at each (the supervisor writes it, so no secret is in a command line or the
environment). The process prints one JSON line ``{"portals": [...], "port": ...}`` once it
listens and serves until SIGTERM or until its parent dies. Its state (applications, events,
webhook deliveries, the clock) is the SQLite file ``DIR/portals.sqlite3``: a restarted process
answers for every application it had accepted.

Each portal answers under ``/<portal>/api/v1/`` (docs/portals.md has the protocol):

* ``POST applications``: submit, idempotent on the window's ``reference``;
* ``GET applications/<reference>``: where the application is, with its whole history;
* ``POST applications/<reference>/information``: the applicant's answer to a request for more;
* ``GET events?after=<cursor>&limit=N``: the portal's event feed;
* ``GET permit-types``: the permits it issues (public, unsigned).

The window signs every call with HMAC-SHA256 under its secret at that portal, over the
timestamp, a nonce, the method, the path with its query and the body; a call outside five
minutes of the portal's wall clock or with a nonce already seen is refused. When a submission
names a ``callback_url`` the portal also posts each event of that application there, signed the
same way, again and again until it is acknowledged with a 2xx (at least once).

Applications move on a simulated clock (``now``): each follows a plan drawn from the seed and
its reference, so a run is deterministic; tests fix and advance the clock through ``/_control``,
which is also the fault switch per portal (``normal``, ``slow``, ``fail``, ``drop``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import io
import json
import os
import random
import re
import secrets
import signal
import sqlite3
import sys
import threading
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer
from zoneinfo import ZoneInfo

import jdatetime

from . import FINAL_STATES, PORTALS, TRANSITIONS

Answer = tuple[int, dict[str, Any]]
TEHRAN = ZoneInfo("Asia/Tehran")
MAX_BODY = 64 * 1024
SIGNATURE_WINDOW = 300  # seconds either side of the portal's wall clock
MAX_LIMIT, DEFAULT_LIMIT = 500, 100
CURSOR_RE = re.compile(r"^[0-9]{12}$")
REFERENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
DETAIL_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MODES = ("normal", "slow", "fail", "drop")
HOUR, DAY = 3600, 86400
INFORMATION_DAYS = 15  # an unanswered request for more information ends in a rejection
# Bidirectional embeddings and overrides reorder what a reader sees ("Trojan Source"); the
# joiners and marks Persian text needs (ZWNJ, ZWJ, LRM, RLM) are allowed.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
REQUESTED = "لطفاً تصویر سند مالکیت یا اجاره‌نامه محل و نقشه استقرار را بفرستید."
UNANSWERED = "پاسخ درخواست اطلاعات تکمیلی در مهلت ۱۵ روزه نرسید."


def canonical(timestamp: str, nonce: str, method: str, target: str, body: bytes) -> bytes:
    """The signed text: timestamp, nonce, method and path-with-query, one a line, then the body."""
    return f"{timestamp}\n{nonce}\n{method}\n{target}\n".encode() + body


def sign(secret: bytes, text: bytes) -> str:
    return hmac.new(secret, text, hashlib.sha256).hexdigest()


def signed_headers(
    secret: bytes, key: str, method: str, target: str, body: bytes, now: float | None = None
) -> dict[str, str]:
    """The headers of a signed call (what the window sends; what a webhook carries)."""
    timestamp, nonce = str(int(time.time() if now is None else now)), secrets.token_urlsafe(18)
    return {
        "X-Portal-Key": key,
        "X-Portal-Timestamp": timestamp,
        "X-Portal-Nonce": nonce,
        "X-Portal-Signature": sign(secret, canonical(timestamp, nonce, method, target, body)),
    }


def iso(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).isoformat(timespec="seconds")


def jalali(moment: float) -> str:
    local = dt.datetime.fromtimestamp(moment, TEHRAN)
    return jdatetime.datetime.fromgregorian(datetime=local).strftime("%Y/%m/%d %H:%M")


def jalali_day(day: dt.date) -> str:
    return jdatetime.date.fromgregorian(date=day).strftime("%Y/%m/%d")


def national_code_ok(code: str) -> bool:
    """An Iranian national code: ten ASCII digits, the last a check digit."""
    if not (len(code) == 10 and code.isascii() and code.isdigit()) or len(set(code)) == 1:
        return False
    total = sum(int(code[i]) * (10 - i) for i in range(9)) % 11
    return int(code[9]) == (total if total < 2 else 11 - total)


def text_problem(value: Any, *, max_length: int, multiline: bool = False) -> str | None:
    """Why a text field is refused, or None: empty, too long, control or bidi characters,
    unpaired surrogates, unassigned code points."""
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty text"
    if len(value) > max_length:
        return f"must be at most {max_length} characters"
    for ch in value:
        if multiline and ch in "\n\t":
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs", "Cn", "Co") or ch in BIDI_CONTROLS:
            return f"contains a character that is not allowed (U+{ord(ch):04X})"
    return None


class BadRequest(ValueError):
    def __init__(self, error: str, detail: str, field: str | None = None, status: int = 400):
        super().__init__(detail)
        self.error, self.detail, self.field, self.status = error, detail, field, status

    def answer(self) -> Answer:
        body = {"error": self.error, "detail": self.detail}
        if self.field:
            body["field"] = self.field
        return self.status, body


def validate_submission(portal: str, data: dict[str, Any]) -> dict[str, Any]:
    """The submission, checked; BadRequest names the first field that is wrong."""
    known = {"reference", "permit_type", "applicant", "title", "details", "callback_url"}
    extra = sorted(set(data) - known)
    if extra:
        raise BadRequest("unknown_field", f"unknown field {extra[0]!r}", extra[0])
    reference = data.get("reference")
    if not (isinstance(reference, str) and REFERENCE_RE.match(reference)):
        raise BadRequest(
            "bad_reference",
            "reference: 1-64 of A-Z a-z 0-9 . _ - (a letter or digit first)",
            "reference",
        )
    permit_type = data.get("permit_type")
    if permit_type not in PORTALS[portal]["permit_types"]:
        raise BadRequest(
            "unknown_permit_type",
            f"permit_type must be one of {', '.join(PORTALS[portal]['permit_types'])}",
            "permit_type",
        )
    applicant = data.get("applicant")
    if not isinstance(applicant, dict) or set(applicant) - {"national_code", "national_id", "name"}:
        raise BadRequest(
            "bad_applicant", "applicant: {national_code | national_id, name}", "applicant"
        )
    code, company = applicant.get("national_code"), applicant.get("national_id")
    if (code is None) == (company is None):
        raise BadRequest(
            "bad_applicant",
            "applicant: exactly one of national_code and national_id",
            "applicant",
        )
    if code is not None and not (isinstance(code, str) and national_code_ok(code)):
        raise BadRequest(
            "bad_national_code",
            "national_code: ten digits with a valid check digit",
            "applicant.national_code",
        )
    if company is not None and not (
        isinstance(company, str) and len(company) == 11 and company.isascii() and company.isdigit()
    ):
        raise BadRequest("bad_national_id", "national_id: eleven digits", "applicant.national_id")
    for field, value, length in (
        ("applicant.name", applicant.get("name"), 200),
        ("title", data.get("title"), 200),
    ):
        problem = text_problem(value, max_length=length)
        if problem:
            raise BadRequest("bad_text", f"{field} {problem}", field)
    details = data.get("details", {})
    if not isinstance(details, dict) or len(details) > 50:
        raise BadRequest("bad_details", "details: an object of at most 50 fields", "details")
    for name, value in details.items():
        if not DETAIL_KEY_RE.match(name):
            raise BadRequest("bad_details", "details: names are a-z 0-9 _", f"details.{name}")
        if isinstance(value, bool) or (isinstance(value, int) and abs(value) < 10**15):
            continue
        if not isinstance(value, str):
            raise BadRequest(
                "bad_details", "details: texts, integers or booleans", f"details.{name}"
            )
        problem = text_problem(value, max_length=2000, multiline=True)
        if problem:
            raise BadRequest("bad_text", f"details.{name} {problem}", f"details.{name}")
    callback = data.get("callback_url")
    if callback is not None:
        parts = urlsplit(callback) if isinstance(callback, str) else None
        if (
            parts is None
            or len(callback) > 2000
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or text_problem(callback, max_length=2000)
            or not callback.isascii()
        ):
            raise BadRequest("bad_callback_url", "callback_url: an http(s) URL", "callback_url")
    return data


SCHEMA = """
CREATE TABLE IF NOT EXISTS clock (
  id INTEGER PRIMARY KEY CHECK (id = 1), fixed REAL, offset REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS applications (
  portal TEXT NOT NULL, reference TEXT NOT NULL, permit_type TEXT NOT NULL,
  fingerprint TEXT NOT NULL, body TEXT NOT NULL, callback_url TEXT,
  state TEXT NOT NULL, plan TEXT NOT NULL, next_at REAL,
  received_at REAL NOT NULL, due_by REAL NOT NULL, updated_at REAL NOT NULL,
  outcome TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (portal, reference));
CREATE INDEX IF NOT EXISTS applications_due ON applications (next_at);
CREATE TABLE IF NOT EXISTS events (
  portal TEXT NOT NULL, seq INTEGER NOT NULL, reference TEXT NOT NULL, type TEXT NOT NULL,
  at REAL NOT NULL, data TEXT NOT NULL, PRIMARY KEY (portal, seq));
CREATE INDEX IF NOT EXISTS events_of ON events (portal, reference, seq);
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT, portal TEXT NOT NULL, seq INTEGER NOT NULL,
  reference TEXT NOT NULL, url TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0, next_try REAL NOT NULL, last_error TEXT,
  delivered_at REAL);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (state, portal, reference, id);
CREATE TABLE IF NOT EXISTS nonces (
  portal TEXT NOT NULL, nonce TEXT NOT NULL, seen REAL NOT NULL, PRIMARY KEY (portal, nonce));
CREATE TABLE IF NOT EXISTS decisions (
  portal TEXT NOT NULL, reference TEXT NOT NULL, decision TEXT NOT NULL,
  PRIMARY KEY (portal, reference));
"""


class Faults:
    """The fault switch of one portal (in memory: a restarted process starts normal)."""

    def __init__(self) -> None:
        self.mode, self.delay_ms, self.status, self.rate, self.requests = "normal", 0, 503, 1.0, 0

    def set(self, data: dict[str, Any]) -> None:
        mode = data.get("mode", "normal")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        delay, status, rate = (
            int(data.get("delay_ms", 2000 if mode == "slow" else 0)),
            int(data.get("status", 503)),
            float(data.get("rate", 1.0)),
        )
        if not (0 <= delay <= 120_000 and 400 <= status <= 599 and 0.0 <= rate <= 1.0):
            raise ValueError("delay_ms 0-120000, status 400-599, rate 0-1")
        self.mode, self.delay_ms, self.status, self.rate = mode, delay, status, rate

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "delay_ms": self.delay_ms,
            "status": self.status,
            "rate": self.rate,
            "requests": self.requests,
        }

    def draw(self, rng: random.Random) -> str:
        self.requests += 1
        if self.mode == "normal" or rng.random() >= self.rate:
            return "normal"
        return self.mode


class Office:
    """The portals' shared state: one SQLite file, one lock (a simulator's load is small)."""

    def __init__(
        self,
        path: Path,
        credentials: dict[str, dict[str, str]],
        seed: int,
        webhook_backoff: float = 1.0,
        webhook_max_attempts: int = 10,
    ) -> None:
        unknown = set(credentials) - set(PORTALS)
        if unknown or not credentials:
            raise ValueError(f"portals are {', '.join(PORTALS)}; got {sorted(credentials)}")
        self.credentials = {
            name: (c.get("key") or "panjereh", c["secret"].encode())
            for name, c in credentials.items()
        }
        self.portals = tuple(name for name in PORTALS if name in credentials)
        self.seed = seed
        self.lock = threading.RLock()
        self.faults = {name: Faults() for name in self.portals}
        self.fault_rng = random.Random(seed)  # noqa: S311 -- a simulation's faults
        self.webhook_backoff, self.webhook_max_attempts = webhook_backoff, webhook_max_attempts
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # an accepted application survives a crash
        self.db.executescript(SCHEMA)
        self.db.execute("INSERT OR IGNORE INTO clock (id, fixed, offset) VALUES (1, NULL, 0)")

    # -- the clock -------------------------------------------------------------------------

    def now(self) -> float:
        row = self.db.execute("SELECT fixed, offset FROM clock WHERE id = 1").fetchone()
        return row["fixed"] if row["fixed"] is not None else time.time() + row["offset"]

    def set_clock(self, value: str | None) -> None:
        """Fix "now" at a moment (never earlier than the clock already is), or let it run on."""
        current = self.now()
        if value is None:
            self.db.execute("UPDATE clock SET fixed = NULL, offset = ?", (current - time.time(),))
            return
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("now must carry its time zone")
        if moment.timestamp() < current - 1e-6 and self._any_event():
            raise ValueError("the clock never goes back")
        self.db.execute("UPDATE clock SET fixed = ?", (moment.timestamp(),))

    def advance(self, seconds: float) -> None:
        if not 0 < seconds <= 366 * DAY:
            raise ValueError("advance: seconds between 0 and a year")
        self.db.execute("UPDATE clock SET fixed = fixed + ? WHERE fixed IS NOT NULL", (seconds,))
        self.db.execute("UPDATE clock SET offset = offset + ? WHERE fixed IS NULL", (seconds,))

    def _any_event(self) -> bool:
        return self.db.execute("SELECT 1 FROM events LIMIT 1").fetchone() is not None

    # -- the plan and its steps --------------------------------------------------------------

    def plan(self, portal: str, reference: str, permit_type: str) -> dict[str, Any]:
        """How this application will go: drawn from the seed and the reference alone."""
        rng = random.Random(f"{self.seed}:{portal}:{reference}")  # noqa: S311 -- a simulation
        kind = PORTALS[portal]["permit_types"][permit_type]
        plan = {
            "review_after": rng.randrange(2 * HOUR, 8 * HOUR),
            "inspection": kind["inspection"],
            "schedule_after": rng.randrange(DAY, 2 * DAY),
            "inspection_lead": rng.randrange(3 * DAY, 7 * DAY),
            "ask_information": rng.random() < 0.2,
            "ask_after": rng.randrange(DAY, 2 * DAY),
            "decide_after": rng.randrange(DAY, 4 * DAY),
            "outcome": "rejected" if rng.random() < 0.15 else "approved",
            "reason": rng.choice(PORTALS[portal]["reasons"]),
            "permit_number": f"{PORTALS[portal]['prefix']}-{rng.randrange(10**9, 10**10)}",
            "validity_years": kind["validity_years"],
            "asked": False,
            "inspected": False,
        }
        return self._with_decision(portal, reference, plan)

    def _with_decision(self, portal: str, reference: str, plan: dict[str, Any]) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT decision FROM decisions WHERE portal = ? AND reference = ?", (portal, reference)
        ).fetchone()
        if row:
            plan.update(json.loads(row["decision"]))
        return plan

    def _next(self, plan: dict[str, Any], at: float) -> tuple[str, float]:
        """After (re)entering review at ``at``: the next move and when."""
        if plan["ask_information"] and not plan["asked"]:
            return "more_information_requested", at + plan["ask_after"]
        if plan["inspection"] and not plan["inspected"]:
            return "inspection_scheduled", at + plan["schedule_after"]
        return plan["outcome"], at + plan["decide_after"]

    def tick(self) -> int:
        """Take every application whose next move is due by now; the events carry the moment
        each move was due, so the feed reads the same whenever it was computed."""
        moved, now = 0, self.now()
        while True:
            row = self.db.execute(
                "SELECT * FROM applications WHERE next_at IS NOT NULL AND next_at <= ?"
                " ORDER BY next_at, portal, reference LIMIT 1",
                (now,),
            ).fetchone()
            if row is None:
                return moved
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self._step(row)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            moved += 1

    def _step(self, row: sqlite3.Row) -> None:
        plan, outcome = json.loads(row["plan"]), json.loads(row["outcome"])
        at, state = row["next_at"], row["state"]
        data: dict[str, Any] = {}
        if state == "received":
            target = "under_review"
            following, next_at = self._next(plan, at)
            plan["following"] = following
        elif state == "more_information_requested":  # the answer never came
            target, data = "rejected", {"reason": UNANSWERED}
            next_at = None
        else:
            target = plan.pop("following")
            if target == "more_information_requested":
                plan["asked"] = True
                data = {"requested": REQUESTED, "answer_by": iso(at + INFORMATION_DAYS * DAY)}
                next_at = at + INFORMATION_DAYS * DAY
            elif target == "inspection_scheduled":
                plan["inspected"] = True
                inspection = at + plan["inspection_lead"]
                data = {
                    "inspection_at": iso(inspection),
                    "inspection_at_jalali": jalali(inspection),
                    "inspection": "بازدید کارشناسی از محل",
                }
                plan["following"] = plan["outcome"]
                next_at = inspection + plan["decide_after"]
            elif target == "approved":
                data = {"permit": self._permit(plan, at)}
                next_at = None
            else:
                data = {"reason": plan["reason"]}
                next_at = None
        self._move(row["portal"], row["reference"], state, target, at, data, plan, outcome)
        self.db.execute(
            "UPDATE applications SET next_at = ? WHERE portal = ? AND reference = ?",
            (next_at, row["portal"], row["reference"]),
        )

    @staticmethod
    def _permit(plan: dict[str, Any], at: float) -> dict[str, Any]:
        start = dt.datetime.fromtimestamp(at, TEHRAN).date()
        try:
            until = start.replace(year=start.year + plan["validity_years"])
        except ValueError:  # 29 February
            until = start.replace(year=start.year + plan["validity_years"], day=28)
        return {
            "number": plan["permit_number"],
            "valid_from": start.isoformat(),
            "valid_until": until.isoformat(),
            "valid_from_jalali": jalali_day(start),
            "valid_until_jalali": jalali_day(until),
        }

    def _move(
        self,
        portal: str,
        reference: str,
        source: str,
        target: str,
        at: float,
        data: dict[str, Any],
        plan: dict[str, Any],
        outcome: dict[str, Any],
    ) -> None:
        """The one way an application changes state: check the move, record its event, queue
        its webhook (in the caller's transaction)."""
        if source and target not in TRANSITIONS[source]:
            raise RuntimeError(f"{source} -> {target} is not a move of the table")
        if target != "more_information_requested":
            outcome.pop("requested", None)
            outcome.pop("answer_by", None)
        outcome.update(
            {k: v for k, v in data.items() if k not in ("permit_type", "information_received")}
        )
        row = self.db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM events WHERE portal = ?", (portal,)
        ).fetchone()
        seq = row["seq"]
        self.db.execute(
            "INSERT INTO events (portal, seq, reference, type, at, data) VALUES (?, ?, ?, ?, ?, ?)",
            (portal, seq, reference, target, at, json.dumps(data, ensure_ascii=False)),
        )
        self.db.execute(
            "UPDATE applications SET state = ?, plan = ?, outcome = ?, updated_at = ?"
            " WHERE portal = ? AND reference = ?",
            (
                target,
                json.dumps(plan),
                json.dumps(outcome, ensure_ascii=False),
                at,
                portal,
                reference,
            ),
        )
        callback = self.db.execute(
            "SELECT callback_url FROM applications WHERE portal = ? AND reference = ?",
            (portal, reference),
        ).fetchone()["callback_url"]
        if callback:
            self.db.execute(
                "INSERT INTO deliveries (portal, seq, reference, url, next_try)"
                " VALUES (?, ?, ?, ?, ?)",
                (portal, seq, reference, callback, time.time()),
            )

    # -- the window's calls ---------------------------------------------------------------

    def submit(self, portal: str, data: dict[str, Any]) -> Answer:
        data = validate_submission(portal, data)
        reference = data["reference"]
        fingerprint = hashlib.sha256(
            json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()
        self.tick()
        known = self.db.execute(
            "SELECT fingerprint FROM applications WHERE portal = ? AND reference = ?",
            (portal, reference),
        ).fetchone()
        if known:
            if known["fingerprint"] != fingerprint:
                return 409, {
                    "error": "reference_reused",
                    "detail": "this reference was submitted with other content",
                }
            return 200, {**self.status(portal, reference), "repeated": True}
        now = self.now()
        kind = PORTALS[portal]["permit_types"][data["permit_type"]]
        plan = self.plan(portal, reference, data["permit_type"])
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(
                "INSERT INTO applications (portal, reference, permit_type, fingerprint, body,"
                " callback_url, state, plan, next_at, received_at, due_by, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?)",
                (
                    portal,
                    reference,
                    data["permit_type"],
                    fingerprint,
                    json.dumps(data, ensure_ascii=False),
                    data.get("callback_url"),
                    json.dumps(plan),
                    now + plan["review_after"],
                    now,
                    now + kind["legal_days"] * DAY,
                    now,
                ),
            )
            self._move(
                portal,
                reference,
                "",
                "received",
                now,
                {"permit_type": data["permit_type"]},
                plan,
                {},
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return 201, {**self.status(portal, reference), "repeated": False}

    def status(self, portal: str, reference: str) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT * FROM applications WHERE portal = ? AND reference = ?", (portal, reference)
        ).fetchone()
        if row is None:
            raise BadRequest("unknown_reference", "no application with this reference", status=404)
        now = self.now()
        history = [
            {"cursor": f"{e['seq']:012d}", "type": e["type"], "at": iso(e["at"])}
            for e in self.db.execute(
                "SELECT seq, type, at FROM events WHERE portal = ? AND reference = ? ORDER BY seq",
                (portal, reference),
            )
        ]
        final = row["state"] in FINAL_STATES
        decided_at = row["updated_at"] if final else None
        return {
            "portal": portal,
            "reference": reference,
            "permit_type": row["permit_type"],
            "state": row["state"],
            "final": final,
            "received_at": iso(row["received_at"]),
            "due_by": iso(row["due_by"]),
            "due_by_jalali": jalali(row["due_by"]),
            # The authority's own time limit: overrun while open, or decided after it.
            "overdue": (decided_at or now) > row["due_by"],
            "updated_at": iso(row["updated_at"]),
            **json.loads(row["outcome"]),
            "history": history,
        }

    def answer_information(self, portal: str, reference: str, data: dict[str, Any]) -> Answer:
        """The applicant's answer to a request for more information (idempotent on answer_id)."""
        answer_id, text = data.get("answer_id"), data.get("text")
        if set(data) - {"answer_id", "text"}:
            raise BadRequest("unknown_field", "fields are answer_id and text")
        if not (isinstance(answer_id, str) and REFERENCE_RE.match(answer_id)):
            raise BadRequest("bad_answer_id", "answer_id: 1-64 of A-Z a-z 0-9 . _ -", "answer_id")
        problem = text_problem(text, max_length=4000, multiline=True)
        if problem:
            raise BadRequest("bad_text", f"text {problem}", "text")
        self.tick()
        self.status(portal, reference)  # 404 when unknown
        row = self.db.execute(
            "SELECT * FROM applications WHERE portal = ? AND reference = ?", (portal, reference)
        ).fetchone()
        plan, outcome = json.loads(row["plan"]), json.loads(row["outcome"])
        answered = plan.get("answers", {})
        if answer_id in answered:
            if answered[answer_id] != hashlib.sha256(text.encode()).hexdigest():
                return 409, {"error": "answer_id_reused", "detail": "another text, same answer_id"}
            return 200, {**self.status(portal, reference), "repeated": True}
        if row["state"] != "more_information_requested":
            return 409, {
                "error": "not_waiting_for_information",
                "detail": f"the application is {row['state']}",
                "state": row["state"],
            }
        now = self.now()
        answered[answer_id] = hashlib.sha256(text.encode()).hexdigest()
        plan["answers"] = answered
        following, next_at = self._next(plan, now)
        plan["following"] = following
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self._move(
                portal,
                reference,
                row["state"],
                "under_review",
                now,
                {"information_received": True},
                plan,
                outcome,
            )
            self.db.execute(
                "UPDATE applications SET next_at = ? WHERE portal = ? AND reference = ?",
                (next_at, portal, reference),
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return 200, {**self.status(portal, reference), "repeated": False}

    def events(self, portal: str, query: dict[str, str]) -> Answer:
        after = query.get("after", "")
        if after and not CURSOR_RE.match(after):
            raise BadRequest("bad_cursor", "after must be a cursor this feed gave", "after")
        try:
            limit = int(query.get("limit") or DEFAULT_LIMIT)
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest("bad_limit", f"limit must be between 1 and {MAX_LIMIT}", "limit")
        self.tick()
        rows = self.db.execute(
            "SELECT * FROM events WHERE portal = ? AND seq > ? ORDER BY seq LIMIT ?",
            (portal, int(after or 0), limit + 1),
        ).fetchall()
        chosen = [self._event(portal, r) for r in rows[:limit]]
        return 200, {
            "next": chosen[-1]["cursor"] if chosen else after,
            "has_more": len(rows) > limit,
            "events": chosen,
        }

    @staticmethod
    def _event(portal: str, row: sqlite3.Row) -> dict[str, Any]:
        return {
            "cursor": f"{row['seq']:012d}",
            "id": f"{portal}-{row['seq']:012d}",
            "portal": portal,
            "reference": row["reference"],
            "type": row["type"],
            "at": iso(row["at"]),
            "at_jalali": jalali(row["at"]),
            **json.loads(row["data"]),
        }

    # -- signatures -------------------------------------------------------------------------

    def check_signature(
        self, portal: str, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> None:
        key, secret = self.credentials[portal]
        timestamp, nonce = headers.get("timestamp", ""), headers.get("nonce", "")
        signature = headers.get("signature", "")
        if not (headers.get("key") and timestamp and nonce and signature):
            raise BadRequest(
                "signature_required",
                "send X-Portal-Key, X-Portal-Timestamp, X-Portal-Nonce and X-Portal-Signature",
                status=401,
            )
        expected = sign(secret, canonical(timestamp, nonce, method, target, body))
        if not (
            hmac.compare_digest(headers["key"].encode(), key.encode())
            and hmac.compare_digest(signature.encode(), expected.encode())
        ):
            raise BadRequest("bad_signature", "the signature does not match", status=401)
        if not (timestamp.isascii() and timestamp.isdigit()) or (
            abs(int(timestamp) - time.time()) > SIGNATURE_WINDOW
        ):
            raise BadRequest(
                "stale_timestamp",
                f"the timestamp must be within {SIGNATURE_WINDOW} s of now",
                status=401,
            )
        if not NONCE_RE.match(nonce):
            raise BadRequest("bad_nonce", "the nonce is 16-64 of A-Z a-z 0-9 _ -", status=401)
        wall = time.time()
        self.db.execute("DELETE FROM nonces WHERE seen < ?", (wall - 2 * SIGNATURE_WINDOW - 60,))
        try:
            self.db.execute(
                "INSERT INTO nonces (portal, nonce, seen) VALUES (?, ?, ?)", (portal, nonce, wall)
            )
        except sqlite3.IntegrityError:
            raise BadRequest(
                "replayed", "this nonce was already used: a replayed call", status=401
            ) from None

    # -- control ----------------------------------------------------------------------------

    def control(self, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("reset"):
            for table in ("applications", "events", "deliveries", "nonces", "decisions"):
                self.db.execute(f"DELETE FROM {table}")  # noqa: S608 -- our own table names
            self.db.execute("UPDATE clock SET fixed = NULL, offset = 0")
            for faults in self.faults.values():
                faults.set({"mode": "normal"})
        portal = data.get("portal")
        fault_keys = {"mode", "delay_ms", "status", "rate"} & set(data)
        if (fault_keys or "decide" in data) and portal not in self.faults:
            raise ValueError(f"portal must be one of {', '.join(self.portals)}")
        if fault_keys:
            self.faults[portal].set(data)
        if "decide" in data:
            self.decide(portal, data["decide"])
        if "now" in data:
            self.set_clock(data["now"])
        if "advance" in data:
            self.advance(float(data["advance"]))
        if "webhook_backoff" in data:
            backoff = float(data["webhook_backoff"])
            if not 0 < backoff <= 600:
                raise ValueError("webhook_backoff: seconds, at most 600")
            self.webhook_backoff = backoff
        if "webhook_max_attempts" in data:
            attempts = int(data["webhook_max_attempts"])
            if not 1 <= attempts <= 100:
                raise ValueError("webhook_max_attempts: 1-100")
            self.webhook_max_attempts = attempts
        self.tick()
        return self.describe()

    def decide(self, portal: str, decision: Any) -> None:
        """Fix how an application ends (before or after it is submitted)."""
        if not isinstance(decision, dict) or not isinstance(decision.get("reference"), str):
            raise ValueError("decide: {reference, outcome, ask_information?, inspection?, reason?}")
        choice: dict[str, Any] = {}
        if "outcome" in decision:
            if decision["outcome"] not in ("approved", "rejected"):
                raise ValueError("decide.outcome: approved or rejected")
            choice["outcome"] = decision["outcome"]
        for flag in ("ask_information", "inspection"):
            if flag in decision:
                choice[flag] = bool(decision[flag])
        if "reason" in decision:
            if text_problem(decision["reason"], max_length=500):
                raise ValueError("decide.reason: a plain text")
            choice["reason"] = decision["reason"]
        reference = decision["reference"]
        self.db.execute(
            "INSERT INTO decisions (portal, reference, decision) VALUES (?, ?, ?)"
            " ON CONFLICT (portal, reference) DO UPDATE SET decision = excluded.decision",
            (portal, reference, json.dumps(choice, ensure_ascii=False)),
        )
        row = self.db.execute(
            "SELECT plan, state FROM applications WHERE portal = ? AND reference = ?",
            (portal, reference),
        ).fetchone()
        if row and row["state"] not in FINAL_STATES:
            plan = json.loads(row["plan"])
            plan.update(choice)
            if plan.get("following") in ("approved", "rejected"):
                plan["following"] = plan["outcome"]
            self.db.execute(
                "UPDATE applications SET plan = ? WHERE portal = ? AND reference = ?",
                (json.dumps(plan), portal, reference),
            )

    def describe(self) -> dict[str, Any]:
        now = self.now()
        fixed = self.db.execute("SELECT fixed FROM clock").fetchone()["fixed"]
        counts = {
            row["state"]: row["n"]
            for row in self.db.execute("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state")
        }
        return {
            "now": iso(now),
            "clock": "fixed" if fixed is not None else "running",
            "portals": {name: self.faults[name].as_dict() for name in self.portals},
            "applications": self.db.execute("SELECT COUNT(*) FROM applications").fetchone()[0],
            "webhooks": {
                "pending": counts.get("pending", 0),
                "delivered": counts.get("delivered", 0),
                "abandoned": counts.get("abandoned", 0),
                "backoff": self.webhook_backoff,
                "max_attempts": self.webhook_max_attempts,
            },
        }

    # -- webhooks ---------------------------------------------------------------------------

    def due_deliveries(self) -> list[dict[str, Any]]:
        """The first pending delivery of each application, when due (events of one application
        go out in order), except from portals that are down."""
        down = [name for name, f in self.faults.items() if f.mode in ("fail", "drop")]
        rows = self.db.execute(
            "SELECT d.*, e.type, e.at, e.data FROM deliveries d JOIN events e"
            " ON e.portal = d.portal AND e.seq = d.seq"
            " WHERE d.state = 'pending' AND d.next_try <= ? AND d.id = ("
            "  SELECT MIN(id) FROM deliveries p WHERE p.state = 'pending'"
            "  AND p.portal = d.portal AND p.reference = d.reference)"
            " ORDER BY d.id LIMIT 20",
            (time.time(),),
        ).fetchall()
        out = []
        for row in rows:
            if row["portal"] in down:
                continue
            event = self._event(row["portal"], row)
            out.append(
                {
                    "id": row["id"],
                    "url": row["url"],
                    "attempts": row["attempts"],
                    "portal": row["portal"],
                    "event": event,
                }
            )
        return out

    def delivered(self, delivery: dict[str, Any], ok: bool, error: str = "") -> None:
        attempts = delivery["attempts"] + 1
        if ok:
            self.db.execute(
                "UPDATE deliveries SET state = 'delivered', attempts = ?, delivered_at = ?,"
                " last_error = NULL WHERE id = ?",
                (attempts, time.time(), delivery["id"]),
            )
            return
        state = "abandoned" if attempts >= self.webhook_max_attempts else "pending"
        wait = min(self.webhook_backoff * 2 ** (attempts - 1), 300.0)
        self.db.execute(
            "UPDATE deliveries SET state = ?, attempts = ?, next_try = ?, last_error = ?"
            " WHERE id = ?",
            (state, attempts, time.time() + wait, error[:200], delivery["id"]),
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is not an acknowledgement


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def post_webhook(office: Office, delivery: dict[str, Any]) -> tuple[bool, str]:
    portal = delivery["portal"]
    key, secret = office.credentials[portal]
    body = json.dumps(delivery["event"], ensure_ascii=False).encode()
    parts = urlsplit(delivery["url"])
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    headers = {
        **signed_headers(secret, key, "POST", target, body),
        "Content-Type": "application/json; charset=utf-8",
        "X-Portal-Name": portal,
        "X-Portal-Delivery": str(delivery["id"]),
        "X-Portal-Attempt": str(delivery["attempts"] + 1),
    }
    request = urllib.request.Request(delivery["url"], data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _OPENER.open(request, timeout=5) as response:
            return 200 <= response.status < 300, f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return False, type(exc).__name__


def courier(office: Office, stop: threading.Event) -> None:
    """Move applications along the clock and post due webhooks, until ``stop``."""
    while not stop.wait(0.05):
        try:
            with office.lock:
                office.tick()
                due = office.due_deliveries()
            for delivery in due:
                ok, error = post_webhook(office, delivery)
                with office.lock:
                    office.delivered(delivery, ok, error)
        except sqlite3.Error as exc:  # never let the courier die; say why and go on
            print(json.dumps({"courier_error": str(exc)}), file=sys.stderr, flush=True)


class App:
    """The WSGI app: the portals under their base paths, ``/_health`` and ``/_control``."""

    def __init__(self, office: Office) -> None:
        self.office = office

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        try:
            status, answer = self.route(environ)
        except BadRequest as exc:
            status, answer = exc.answer()
        return self.json(start_response, status, answer)

    def route(self, environ: dict[str, Any]) -> Answer:
        office = self.office
        path, method = environ.get("PATH_INFO", "/"), environ.get("REQUEST_METHOD", "GET")
        if environ.get("portals.chunked"):
            raise BadRequest("length_required", "send Content-Length, not chunks", status=411)
        if environ.get("portals.too_large"):
            raise BadRequest("too_large", f"the body is limited to {MAX_BODY} bytes", status=413)
        body = environ["wsgi.input"].read()
        if path == "/_health":
            return 200, {"ok": True, "portals": list(office.portals)}
        if path == "/_control":
            if environ.get("REMOTE_ADDR") not in ("127.0.0.1", "::1"):
                # The switch of tests and demos, unsigned: never from another machine.
                raise BadRequest(
                    "forbidden", "the control switch answers loopback only", status=403
                )
            return self.control(method, body)
        if path == "/":
            return 200, {
                "portals": {
                    name: {
                        "title": PORTALS[name]["title"],
                        "authority": PORTALS[name]["authority"],
                        "base_path": f"/{name}/api/v1/",
                    }
                    for name in office.portals
                }
            }
        portal, _, rest = path.strip("/").partition("/")
        if portal not in office.portals or not (rest == "api/v1" or rest.startswith("api/v1/")):
            raise BadRequest("not_found", "no such address", status=404)
        faults = office.faults[portal]
        with office.lock:
            fault = environ.get("portals.fault") or faults.draw(office.fault_rng)
        if fault == "slow":
            time.sleep(faults.delay_ms / 1000)
        elif fault == "fail":
            return faults.status, {"error": "unavailable", "detail": "the portal is not answering"}
        return self.api(environ, portal, rest.removeprefix("api/v1").strip("/"), method, body)

    def api(self, environ: dict, portal: str, call: str, method: str, body: bytes) -> Answer:
        office = self.office
        if call == "permit-types" and method == "GET":
            return 200, {
                "portal": portal,
                "title": PORTALS[portal]["title"],
                "authority": PORTALS[portal]["authority"],
                "permit_types": PORTALS[portal]["permit_types"],
            }
        parts = call.split("/")
        routes = {
            ("POST", 1, "applications"),
            ("GET", 2, "applications"),
            ("POST", 3, "applications"),
            ("GET", 1, "events"),
        }
        if (method, len(parts), parts[0]) not in routes or (
            len(parts) == 3 and parts[2] != "information"
        ):
            raise BadRequest("not_found", "no such call", status=404)
        target = environ.get("PATH_INFO", "/")
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        headers = {
            name: environ.get(f"HTTP_X_PORTAL_{name.upper()}", "")
            for name in ("key", "timestamp", "nonce", "signature")
        }
        with office.lock:
            office.check_signature(portal, method, target, headers, body)
        data: dict[str, Any] = {}
        if method == "POST":
            try:
                data = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                raise BadRequest("bad_json", "the body is not UTF-8 JSON") from None
            if not isinstance(data, dict):
                raise BadRequest("bad_json", "the body is a JSON object")
        with office.lock:
            if parts[0] == "events":
                query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
                return office.events(portal, query)
            if method == "POST" and len(parts) == 1:
                return office.submit(portal, data)
            if not REFERENCE_RE.match(parts[1]):
                raise BadRequest(
                    "unknown_reference", "no application with this reference", status=404
                )
            if len(parts) == 3:
                return office.answer_information(portal, parts[1], data)
            office.tick()
            return 200, office.status(portal, parts[1])

    def control(self, method: str, body: bytes) -> Answer:
        with self.office.lock:
            if method == "POST":
                try:
                    data = json.loads(body or b"{}")
                    if not isinstance(data, dict):
                        raise TypeError("the switch is a JSON object")
                    return 200, self.office.control(data)
                except (ValueError, TypeError) as exc:
                    return 400, {"error": "bad_control", "detail": str(exc)}
            return 200, self.office.describe()

    @staticmethod
    def json(start_response: Callable, status: int, payload: dict[str, Any]) -> list[bytes]:
        body = json.dumps(payload, ensure_ascii=False).encode()
        start_response(
            f"{status} {'OK' if status < 300 else 'Error'}",
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]


class _ServerHandler(ServerHandler):
    """Answers in HTTP/1.1 and says whether the connection can carry another request."""

    http_version = "1.1"

    def cleanup_headers(self) -> None:
        super().cleanup_headers()
        if self.request_handler.close_connection:
            self.headers["Connection"] = "close"

    def handle_error(self) -> None:
        self.request_handler.close_connection = True
        super().handle_error()


class _Handler(WSGIRequestHandler):
    """wsgiref's handler with keep-alive, a body limit that answers in JSON, and the "drop"
    fault (the connection closed with no answer)."""

    protocol_version = "HTTP/1.1"
    timeout = 60
    # One write per answer, sent at once: small writes on a kept-alive connection meet Nagle's
    # algorithm and delayed ACKs (40 ms each).
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def handle(self) -> None:
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            self.handle_one_request()

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except (TimeoutError, ConnectionError):
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.close_connection = True
            self.send_error(414)
            return
        if not self.parse_request():
            self.close_connection = True
            return
        app: App = self.server.get_app()
        environ = self.get_environ()
        portal = self.path.split("?")[0].strip("/").split("/")[0]
        faults = app.office.faults.get(portal)
        if faults is not None and faults.mode == "drop":
            with app.office.lock:
                environ["portals.fault"] = faults.draw(app.office.fault_rng)
            if environ["portals.fault"] == "drop":
                self.close_connection = True
                return
        body = b""
        if self.headers.get("Transfer-Encoding"):
            environ["portals.chunked"] = True
            self.close_connection = True
        else:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                # Refuse it and close. Read (and drop) up to a megabyte first, so the client,
                # still sending, gets the answer rather than a reset connection.
                environ["portals.too_large"] = True
                self.close_connection = True
                left = min(max(length, 0), 1 << 20)
                while left > 0:
                    chunk = self.rfile.read(min(left, 65536))
                    if not chunk:
                        break
                    left -= len(chunk)
            elif length:
                body = self.rfile.read(length)
        handler = _ServerHandler(
            io.BytesIO(body), self.wfile, self.get_stderr(), environ, multithread=True
        )
        handler.request_handler = self
        handler.run(app)
        try:
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(
    host: str,
    port: int,
    state_dir: Path,
    credentials: dict[str, dict[str, str]],
    seed: int,
    webhook_backoff: float,
    parent_pid: int | None,
) -> None:
    office = Office(state_dir / "portals.sqlite3", credentials, seed, webhook_backoff)
    server = _Server((host, port), _Handler)
    server.set_app(App(office))
    print(
        json.dumps({"portals": list(office.portals), "port": server.server_address[1]}), flush=True
    )
    stopping = threading.Event()
    threading.Thread(target=courier, args=(office, stopping), daemon=True).start()

    def stop(*_: Any) -> None:
        stopping.set()
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
    with office.lock:
        office.db.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the simulated specialised permit portals.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1405)
    parser.add_argument("--webhook-backoff", type=float, default=1.0)
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args(argv)
    line = sys.stdin.readline()
    try:
        credentials = json.loads(line)
        if not isinstance(credentials, dict) or not all(
            isinstance(c, dict) and isinstance(c.get("secret"), str) and c["secret"]
            for c in credentials.values()
        ):
            raise ValueError
    except ValueError:
        parser.error('give {"<portal>": {"key": ..., "secret": ...}} as the first line of stdin')
    serve(
        args.host,
        args.port,
        args.state_dir,
        credentials,
        args.seed,
        args.webhook_backoff,
        args.parent_pid,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
