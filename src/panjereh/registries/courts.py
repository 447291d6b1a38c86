"""The judiciary's case system (simulated): its cases, their progress as an event feed, and the
bills (لوایح) it receives.

Run as a registry process (``python -m panjereh.registries.server --registry courts``) under
the judiciary's exchange member (the same member code as the ``judiciary`` registry, subsystem
``courts-registry``), it publishes three data services, reached only through the exchange:

* ``GET /cases/{national_code}``: the person's cases, ``{"national_code", "cases": [{"number",
  "kind", "subject", "subject_en", "court", "branch", "stage", "opened_at",
  "parties": [{"national_code", "role", "name"}], "events": [...]}]}``; roles ``plaintiff``,
  ``defendant``, ``complainant``, ``accused``, ``other``. A case's ``events`` is its whole
  history, in order (the same events, with the same ids, as the feed carries).
* ``GET /events?after=<cursor>&limit=N`` (1–500, default 100): the feed of what happens in the
  courts while the system runs, in order: ``{"next", "has_more", "events": [{"cursor",
  "event_id", "case_number", "kind": filed|stage|hearing|decision|pleading, "stage", "at",
  "title_fa", "title_en", "detail": {...}, "parties": [...], "case": {"kind", "subject",
  "subject_en", "court", "branch", "opened_at"}}]}``. A consumer that keeps
  ``next`` never misses nor re-reads an event. The cursor is ``<11-digit second>-<9-digit
  sequence>`` and only grows. The history of the seeded cases (before the system started) is
  not in the feed: it is in each case's ``events`` of ``/cases``.
* ``POST /pleadings`` with the JSON body ``{"case_number", "national_code", "template",
  "title", "text", "sha256"}`` (``sha256`` is the hex digest of ``text``): 201
  ``{"court_reference", "received_at", "case_number", "sha256"}``; the same ``(case_number,
  sha256)`` again answers 200 with the same reference (idempotent); 404 unknown case; 403 the
  national code is not a party of the case; 400 a malformed body. A received bill adds a
  ``pleading`` event to the feed. ``GET /pleadings?case_number=…&sha256=…`` reads a received
  bill back (404 if the court has none).

The cases are derived from the synthetic population and the seed, the same in every run:
each adult is paired with two others (two fixed involutions of the population), and a pair
has a case with probability :data:`CASE_RATE`; most people have no case, some one or two. A
case number encodes its pair, so it is found again without an index.

``POST /_control`` also takes (tests and the demo; not published on the exchange):

* ``{"file_case": {"kind", "subject", "court", "branch", "parties": [{"national_code",
  "role", "name"?}]}}``: a new case; answers ``{"number", "event_id"}`` and adds a ``filed``
  event;
* ``{"advance": "<number>", "kind": "stage"|"hearing"|"decision", "stage"?, "hearing_at"?,
  "room"?, "summary"?}``: the case moves on (``stage`` defaults to the next stage; a hearing to
  two weeks ahead at 09:30 Tehran time); answers the event.

This module imports nothing from the window (a registry shares no code with it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
import threading
from collections.abc import Callable
from typing import Any

from . import catalogue
from .billers import mod11
from .catalogue import ORGANISATIONS
from .population import REFERENCE_DATE, Population, jalali

NAME = "courts"
MEMBER_CODE = ORGANISATIONS["judiciary"][0]  # the judiciary's own member of the exchange
NAME_FA = "قوه قضاییه (سامانه مدیریت پرونده‌های قضایی)"
NAME_EN = "Judiciary (case management system)"
Answer = tuple[int, dict[str, Any]]

CASE_RATE = 0.3  # the share of pairs that have a case
MAX_LIMIT = 500
DEFAULT_LIMIT = 100
CURSOR_RE = re.compile(r"^[0-9]{11}-[0-9]{9}$")
NATIONAL_CODE_RE = re.compile(r"^[0-9]{10}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
TEHRAN = dt.timezone(dt.timedelta(hours=3, minutes=30))
MAX_TEXT = 100_000

# What each event repeats of its case, so a consumer can keep a case it first hears of.
SUMMARY = ("kind", "subject", "subject_en", "court", "branch", "opened_at")
ROLES = ("plaintiff", "defendant", "complainant", "accused", "other")
EVENT_KINDS = ("filed", "stage", "hearing", "decision", "pleading")

# stage code: (Persian, English), in the order a case usually goes through them.
STAGES: dict[str, tuple[str, str]] = {
    "filed": ("ثبت دادخواست یا شکایت", "Filed"),
    "referred": ("ارجاع به شعبه", "Referred to a branch"),
    "examination": ("در حال رسیدگی", "Under examination"),
    "decided": ("صدور رأی", "Decision issued"),
    "appeal": ("تجدیدنظرخواهی", "Under appeal"),
    "final": ("قطعیت رأی", "Decision final"),
    "enforcement": ("اجرای حکم", "Enforcement"),
    "closed": ("مختومه", "Closed"),
}
STAGE_ORDER = tuple(STAGES)

# kind: the two sides' roles, the court (its Persian name, with {city}), subjects [(fa, en)]
KINDS: dict[str, dict[str, Any]] = {
    "civil": {
        "roles": ("plaintiff", "defendant"),
        "court": "دادگاه عمومی حقوقی {city}",
        "subjects": [
            ("مطالبه وجه", "Claim for a sum of money"),
            ("الزام به تنظیم سند رسمی", "Order to register an official deed"),
            ("تخلیه ملک استیجاری", "Eviction of a rented property"),
            ("مطالبه خسارت", "Claim for damages"),
            ("ابطال معامله", "Annulment of a transaction"),
        ],
    },
    "criminal": {
        "roles": ("complainant", "accused"),
        "court": "دادسرای عمومی و انقلاب {city}",
        "subjects": [
            ("کلاهبرداری", "Fraud"),
            ("خیانت در امانت", "Breach of trust"),
            ("صدور چک بلامحل", "Issuing a bounced cheque"),
            ("توهین", "Insult"),
            ("ضرب و جرح عمدی", "Intentional assault"),
        ],
    },
    "family": {
        "roles": ("plaintiff", "defendant"),
        "court": "دادگاه خانواده {city}",
        "subjects": [
            ("مطالبه مهریه", "Claim for mahr"),
            ("مطالبه نفقه", "Claim for maintenance"),
            ("حضانت فرزند", "Child custody"),
            ("ملاقات فرزند", "Visitation of a child"),
        ],
    },
}

SERVICES: list[dict[str, Any]] = [
    {
        "code": "cases",
        "title_en": "A person's judicial cases (parties, stage, history)",
        "title_fa": "پرونده‌های قضایی شخص (طرفین، مرحله، سوابق)",
        "param": "national_code",
        "query": [],
        "key_fields": ["national_code"],
        "items": {"courts.cases": ["cases"]},
        "methods": ["get"],
        # A person with no case gets an empty list, not 404: what the status probe expects.
        "probe_status": 200,
    },
    {
        "code": "events",
        "title_en": "Case events (feed): filed, new stage, hearing set, decision, bill received",
        "title_fa": "رویدادهای پرونده (خوراک): ثبت، مرحله جدید، وقت رسیدگی، رأی، وصول لایحه",
        "param": None,
        "query": ["after", "limit"],
        "key_fields": ["next", "has_more"],
        "items": {"courts.case_events": ["events"]},
        "methods": ["get"],
    },
    {
        "code": "pleadings",
        "title_en": "Submitting a bill (لایحه) to a case, and the court's receipt",
        "title_fa": "ارسال لایحه به پرونده و رسید دادگاه",
        "param": None,
        "query": ["case_number", "sha256"],
        "key_fields": ["case_number", "sha256"],
        "items": {"courts.pleading": ["court_reference", "received_at"]},
        "methods": ["get", "post"],
    },
]


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _check(body: str) -> str:
    return body + str(mod11(body))


# Case numbers: <Jalali year, 4><pair kind 1|2, or 9 for a live case><9 digits><check digit>.
# The 9 digits of a seeded case are the pair's first person, permuted (an affine bijection
# modulo 10⁹, so numbers look unrelated yet decode).
_A, _B, _M = 738_219_467, 104_729, 10**9
_A_INV = pow(_A, -1, _M)


def _perm(i: int) -> int:
    return (_A * i + _B) % _M


def _unperm(x: int) -> int:
    return ((x - _B) * _A_INV) % _M


class CourtBook:
    """The case system's records: the seeded cases (computed), the live ones, the feed and the
    received bills. One lock; every method is safe from the request threads."""

    def __init__(self, population: Population, now: Callable[[], dt.datetime] | None = None):
        self.population = population
        self.seed = population.seed
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.lock = threading.Lock()
        self.live: dict[str, dict[str, Any]] = {}  # number → a case filed while running
        self.extra: dict[str, list[dict[str, Any]]] = {}  # number → its events since start
        self.by_person: dict[str, set[str]] = {}  # national code → live case numbers
        self.log: list[dict[str, Any]] = []  # the feed, in order
        self.cursors: list[str] = []
        self.pleadings: dict[tuple[str, str], dict[str, Any]] = {}
        self.sequence = 0

    # -- the seeded cases ------------------------------------------------------------------

    def _partner(self, i: int, pairing: int) -> int | None:
        size = self.population.size
        if pairing == 1:
            half = size // 2
            j = i + half if i < half else i - half
        else:
            j = (size - 1 - i + 7) % size if size > 7 else size - 1 - i
        return j if 0 <= j < size and j != i else None

    def _adult(self, i: int) -> bool:
        p = self.population.person(i)
        return p["alive"] and p["age"] >= 18

    def _seeded_numbers(self, i: int) -> list[str]:
        numbers = []
        for pairing in (1, 2):
            j = self._partner(i, pairing)
            if j is None or self._partner(j, pairing) != i:
                continue
            first = min(i, j)
            number = self._seeded_number(first, pairing)
            if number is not None:
                numbers.append(number)
        return numbers

    def _rng(self, first: int, pairing: int) -> random.Random:
        return random.Random(f"{self.seed}:courts:{pairing}:{first}")  # noqa: S311 -- synthetic

    def _seeded_number(self, first: int, pairing: int) -> str | None:
        j = self._partner(first, pairing)
        if j is None or not (self._adult(first) and self._adult(j)):
            return None
        rng = self._rng(first, pairing)
        if rng.random() >= CASE_RATE:
            return None
        opened = self._opened(rng)
        year = jalali(opened.date())[:4]
        return _check(f"{year}{pairing}{_perm(first):09d}")

    @staticmethod
    def _opened(rng: random.Random) -> dt.datetime:
        day = REFERENCE_DATE - dt.timedelta(days=rng.randrange(30, 720))
        return dt.datetime.combine(day, dt.time(5, 0), tzinfo=dt.UTC) + dt.timedelta(
            minutes=rng.randrange(0, 300)
        )

    def _seeded_case(self, number: str) -> dict[str, Any] | None:
        if not (len(number) == 15 and number.isdigit() and number[4] in "12"):
            return None
        if _check(number[:-1]) != number:
            return None
        pairing, first = int(number[4]), _unperm(int(number[5:14]))
        if first >= self.population.size or self._seeded_number(first, pairing) != number:
            return None
        j = self._partner(first, pairing)
        assert j is not None
        rng = self._rng(first, pairing)
        rng.random()  # the draw that made the case
        opened = self._opened(rng)
        kind = rng.choice(sorted(KINDS))
        spec = KINDS[kind]
        subject_fa, subject_en = rng.choice(spec["subjects"])
        sides = [first, j] if rng.random() < 0.5 else [j, first]
        pop = self.population
        city = pop.household(pop.person(sides[0])["household"])["city"]
        parties = [
            {
                "national_code": pop.national_code(k),
                "role": role,
                "name": f"{pop.person(k)['first_name']} {pop.person(k)['last_name']}",
            }
            for k, role in zip(sides, spec["roles"], strict=True)
        ]
        case = {
            "number": number,
            "kind": kind,
            "subject": subject_fa,
            "subject_en": subject_en,
            "court": spec["court"].format(city=city),
            "branch": f"شعبه {1 + rng.randrange(40)}",
            "stage": "filed",
            "opened_at": _iso(opened),
            "parties": parties,
        }
        # Its history before the system started: a few steps, each some days after the last.
        history = [self._event(case, "filed", "filed", opened, {}, key="h0")]
        moment = opened
        steps = rng.randrange(0, 6)
        stage_index = 0
        for n in range(1, steps + 1):
            moment += dt.timedelta(days=rng.randrange(5, 60), minutes=rng.randrange(0, 240))
            if moment.date() > REFERENCE_DATE:
                break
            if stage_index == 1 and rng.random() < 0.6:
                hearing = moment + dt.timedelta(days=rng.randrange(10, 40))
                detail = self._hearing_detail(hearing.date(), rng.randrange(1, 12))
                history.append(self._event(case, "hearing", "examination", moment, detail, f"h{n}"))
                stage_index = 2
                continue
            stage_index = min(stage_index + 1, len(STAGE_ORDER) - 1)
            stage = STAGE_ORDER[stage_index]
            if stage == "decided":
                detail = {"summary_fa": "رأی دادگاه صادر شد.", "summary_en": "The court decided."}
                history.append(self._event(case, "decision", stage, moment, detail, f"h{n}"))
            else:
                history.append(self._event(case, "stage", stage, moment, {}, f"h{n}"))
        case["stage"] = history[-1]["stage"]
        case["events"] = history
        return case

    # -- events ------------------------------------------------------------------------------

    @staticmethod
    def _hearing_detail(day: dt.date, room: int, at: str = "09:30") -> dict[str, Any]:
        hour, minute = (int(x) for x in at.split(":"))
        moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TEHRAN)
        return {
            "hearing_at": moment.isoformat(timespec="minutes"),
            "hearing_at_jalali": jalali(moment.replace(tzinfo=None)),
            "room": str(room),
        }

    @staticmethod
    def _event(
        case: dict[str, Any],
        kind: str,
        stage: str,
        at: dt.datetime,
        detail: dict[str, Any],
        key: str,
    ) -> dict[str, Any]:
        stage_fa, stage_en = STAGES.get(stage, (stage, stage))
        titles = {
            "filed": ("ثبت پرونده", "Case filed"),
            "stage": (f"مرحله جدید: {stage_fa}", f"New stage: {stage_en}"),
            "hearing": ("تعیین وقت رسیدگی", "Hearing set"),
            "decision": ("صدور رأی", "Decision issued"),
            "pleading": ("وصول لایحه", "Bill received"),
        }[kind]
        return {
            "event_id": f"{case['number']}-{key}",
            "case_number": case["number"],
            "kind": kind,
            "stage": stage,
            "at": _iso(at),
            "title_fa": titles[0],
            "title_en": titles[1],
            "detail": detail,
            "parties": [dict(p) for p in case["parties"]],
            "case": {name: case[name] for name in SUMMARY},
        }

    def _publish(self, case: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
        """Append an event to the feed and to the case (the lock is held)."""
        second = int(self.now().timestamp())
        if self.cursors:
            second = max(second, int(self.cursors[-1][:11]))
        self.sequence += 1
        event["cursor"] = f"{second:011d}-{self.sequence:09d}"
        self.log.append(event)
        self.cursors.append(event["cursor"])
        self.extra.setdefault(case["number"], []).append(event)
        if event["kind"] != "pleading":
            if case["number"] in self.live:
                self.live[case["number"]]["stage"] = event["stage"]
        return event

    # -- what the services answer --------------------------------------------------------------

    def find(self, number: str) -> dict[str, Any] | None:
        """The case as the system knows it now (seeded history plus what happened since)."""
        with self.lock:
            live = self.live.get(number)
            extra = list(self.extra.get(number, ()))
        if live is not None:
            case = {k: v for k, v in live.items() if k != "events"}
            case["events"] = extra
        else:
            case = self._seeded_case(number)
            if case is None:
                return None
            case["events"] = case["events"] + extra
        stages = [e["stage"] for e in case["events"] if e["kind"] != "pleading" and e["stage"]]
        if stages:
            case["stage"] = stages[-1]
        return case

    def cases_of(self, national_code: str) -> list[dict[str, Any]]:
        numbers: list[str] = []
        i = self.population.index_of(national_code)
        if i is not None:
            numbers.extend(self._seeded_numbers(i))
        with self.lock:
            numbers.extend(sorted(self.by_person.get(national_code, ())))
        cases = [self.find(n) for n in numbers]
        return [c for c in cases if c is not None]

    def page(self, after: str = "", limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
        if after and not CURSOR_RE.match(after):
            raise ValueError("after must be a cursor this feed gave")
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
        with self.lock:
            start = _bisect_right(self.cursors, after)
            chosen = self.log[start : start + limit]
            more = len(self.log) - start > limit
        return {
            "next": chosen[-1]["cursor"] if chosen else after,
            "has_more": more,
            "events": chosen,
        }

    def file_case(self, data: dict[str, Any]) -> dict[str, Any]:
        kind = str(data.get("kind") or "civil")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        spec = KINDS[kind]
        parties = data.get("parties")
        if not isinstance(parties, list) or not parties or len(parties) > 20:
            raise ValueError("parties: a list of 1 to 20 {national_code, role, name}")
        clean = []
        for party in parties:
            if not isinstance(party, dict):
                raise ValueError("each party is an object")
            code = str(party.get("national_code", ""))
            role = str(party.get("role", ""))
            if not NATIONAL_CODE_RE.match(code) or role not in ROLES:
                raise ValueError(f"a party needs a 10-digit national_code and a role in {ROLES}")
            name = str(party.get("name") or "")[:200]
            i = self.population.index_of(code)
            if not name and i is not None:
                p = self.population.person(i)
                name = f"{p['first_name']} {p['last_name']}"
            clean.append({"national_code": code, "role": role, "name": name})
        now = self.now()
        subject_fa, subject_en = spec["subjects"][0]
        court_fa = spec["court"].format(city="تهران")
        with self.lock:
            number = _check(f"{jalali(now.date())[:4]}9{len(self.live) + 1:09d}")
            case = {
                "number": number,
                "kind": kind,
                "subject": str(data.get("subject") or subject_fa)[:300],
                "subject_en": str(data.get("subject_en") or data.get("subject") or subject_en)[
                    :300
                ],
                "court": str(data.get("court") or court_fa)[:200],
                "branch": str(data.get("branch") or "شعبه 101")[:100],
                "stage": "filed",
                "opened_at": _iso(now),
                "parties": clean,
            }
            self.live[number] = case
            for party in clean:
                self.by_person.setdefault(party["national_code"], set()).add(number)
            event = self._publish(case, self._event(case, "filed", "filed", now, {}, "e1"))
        return {"number": number, "event_id": event["event_id"], "cursor": event["cursor"]}

    def advance(self, number: str, data: dict[str, Any]) -> dict[str, Any]:
        case = self.find(number)
        if case is None:
            raise LookupError("no such case")
        kind = str(data.get("kind") or "stage")
        now = self.now()
        if kind == "stage":
            stage = str(data.get("stage") or "")
            if not stage:
                current = STAGE_ORDER.index(case["stage"]) if case["stage"] in STAGES else 0
                stage = STAGE_ORDER[min(current + 1, len(STAGE_ORDER) - 1)]
            if stage not in STAGES:
                raise ValueError(f"stage must be one of {', '.join(STAGES)}")
            detail: dict[str, Any] = {}
        elif kind == "hearing":
            stage = "examination"
            when = data.get("hearing_at")
            if when:
                moment = dt.datetime.fromisoformat(str(when))
                if moment.tzinfo is None:
                    raise ValueError("hearing_at must carry its time zone")
                moment = moment.astimezone(TEHRAN)
                detail = self._hearing_detail(
                    moment.date(), int(data.get("room") or 1), f"{moment:%H:%M}"
                )
            else:
                day = (now.astimezone(TEHRAN) + dt.timedelta(days=14)).date()
                detail = self._hearing_detail(day, int(data.get("room") or 1))
        elif kind == "decision":
            stage = "decided"
            detail = {
                "summary_fa": str(data.get("summary") or "رأی دادگاه صادر شد.")[:1000],
                "summary_en": str(
                    data.get("summary_en") or data.get("summary") or "The court decided."
                )[:1000],
            }
        else:
            raise ValueError("kind must be stage, hearing or decision")
        with self.lock:
            key = f"e{len(self.extra.get(number, ())) + 2}"
            event = self._event(case, kind, stage, now, detail, key)
            return self._publish(case, event)

    def receive(self, data: dict[str, Any]) -> Answer:
        """A bill sent to a case (the ``pleadings`` POST)."""
        try:
            number = str(data["case_number"])
            code = str(data["national_code"])
            template = str(data.get("template") or "")[:100]
            title = str(data.get("title") or "")[:300]
            text = str(data["text"])
            digest = str(data["sha256"]).lower()
        except (KeyError, TypeError):
            return 400, {"detail": "give case_number, national_code, text and sha256"}
        if not NATIONAL_CODE_RE.match(code) or not SHA256_RE.match(digest):
            return 400, {"detail": "a 10-digit national_code and a hex sha256"}
        if not text.strip() or len(text) > MAX_TEXT or "\x00" in text:
            return 400, {"detail": f"the text: 1 to {MAX_TEXT} characters, no NUL"}
        if hashlib.sha256(text.encode()).hexdigest() != digest:
            return 400, {"detail": "sha256 is not the text's digest"}
        case = self.find(number)
        if case is None:
            return 404, {"found": False, "detail": "no such case"}
        if code not in {p["national_code"] for p in case["parties"]}:
            return 403, {"detail": "this person is not a party of the case"}
        now = self.now()
        with self.lock:
            known = self.pleadings.get((number, digest))
            if known is not None:
                return 200, known
            receipt = {
                "case_number": number,
                "sha256": digest,
                "court_reference": _check(
                    f"{jalali(now.date())[:4]}7{len(self.pleadings) + 1:09d}"
                ),
                "received_at": _iso(now),
            }
            self.pleadings[(number, digest)] = receipt
            detail = {
                "court_reference": receipt["court_reference"],
                "template": template,
                "title": title,
                "from": code,
            }
            key = f"e{len(self.extra.get(number, ())) + 2}"
            self._publish(case, self._event(case, "pleading", case["stage"], now, detail, key))
        return 201, receipt


def _bisect_right(cursors: list[str], after: str) -> int:
    import bisect

    return bisect.bisect_right(cursors, after)


def handlers(book: CourtBook) -> dict[str, Any]:
    """Service code → {method → handler(param, query, body) → (status, record)}."""

    def cases(param: str, query: dict[str, str], body: bytes) -> Answer:
        if not NATIONAL_CODE_RE.match(param):
            return 400, {"detail": "a 10-digit national code"}
        return 200, {"national_code": param, "cases": book.cases_of(param)}

    def events(param: str, query: dict[str, str], body: bytes) -> Answer:
        try:
            limit = int(query.get("limit") or DEFAULT_LIMIT)
            return 200, book.page(query.get("after", ""), limit)
        except ValueError as exc:
            return 400, {"detail": str(exc)}

    def read_pleading(param: str, query: dict[str, str], body: bytes) -> Answer:
        key = (query.get("case_number", ""), query.get("sha256", "").lower())
        with book.lock:
            known = book.pleadings.get(key)
        return (200, known) if known else (404, {"found": False, "detail": "no such bill"})

    def pleading(param: str, query: dict[str, str], body: bytes) -> Answer:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return 400, {"detail": "the body is a JSON object"}
        if not isinstance(data, dict):
            return 400, {"detail": "the body is a JSON object"}
        if param and data.get("national_code") not in (None, param):
            return 403, {"detail": "the national code is not the one asked about"}
        return book.receive(data)

    return {
        "cases": {"GET": cases},
        "events": {"GET": events},
        "pleadings": {"GET": read_pleading, "POST": pleading},
    }


def control(book: CourtBook, data: dict[str, Any]) -> Answer:
    """The courts' part of ``/_control``: ``file_case`` or ``advance``."""
    try:
        if "file_case" in data:
            spec = data["file_case"]
            if not isinstance(spec, dict):
                raise ValueError("file_case is an object")
            return 200, book.file_case(spec)
        return 200, book.advance(str(data["advance"]), data)
    except LookupError:
        return 404, {"found": False, "detail": "no such case"}
    except (ValueError, TypeError) as exc:
        return 400, {"detail": str(exc)}


def openapi() -> dict[str, Any]:
    """The case system's published description (the exchange registers a service per path)."""
    return catalogue.describe(NAME, MEMBER_CODE, NAME_FA, NAME_EN, catalogue.paths(SERVICES))
