"""The calibrated demo dataset: real agencies, plausible service identity cards, dated history.

The ``national`` profile reproduces, row by row, the status that the Parliament Research Center's
supervisory report no. 21035 gives for Khordad 1404 (186 executive agencies, 149 connected, 4,715
services with IDs, 3,505 connectable, 2,127 connected, 780 smart, the per-agency buckets, and the
other connected bodies). Nothing here stores a figure: the figures are what
:func:`panjereh.catalogue.queries.stats` computes from the rows this module writes. The ``small``
profile is a fast subset for tests.

Facts come from the files in ``data/`` (agency names and parents, service domains, places). The
service counts per agency are drawn from a seeded generator and then adjusted until the totals and
buckets match, so the same seed always gives the same rows. Every card has versions dated over
1400-1404 (created, connected, proposed, certified, approved), so "as of" counts tell a history.

Rows are written with ``bulk_create`` for speed, but they are the rows
:mod:`panjereh.catalogue.operations` would write: same normalisation, same search keys, same
version snapshots, and every card passes :func:`panjereh.catalogue.rules.check_service` (checked
here before anything is written). It is demo data, so it lives in the demo app, which production
does not install.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from panjereh.catalogue import operations, search
from panjereh.catalogue.models import (
    Agency,
    AgencyMembership,
    AgencyVersion,
    Service,
    ServiceVersion,
)
from panjereh.catalogue.rules import check_service, make_service_id
from panjereh.catalogue.vocab import (
    REGISTRY_ITEMS,
    AgencyKind,
    ConnectionForm,
    ConnectionStatus,
    InputSource,
    Scope,
    SmartStatus,
)
from panjereh.common import jalali
from panjereh.common.persian import normalize, search_key

from . import definitions

DATA_DIR = Path(__file__).resolve().parent / "data"
# The same titles, documents and reasons recur thousands of times; normalise each once.
normalize = cache(normalize)
DEFAULT_SEED = 1404
PROFILES = ("national", "small")

# Figures of the supervisory report (status of Khordad 1404) that the national profile must
# reproduce when counted. Kept here, next to the generator that honours them, and repeated in the
# tests, which count the rows independently.
NATIONAL_TARGETS = {
    "all_smart": 19,  # connected agencies with every connectable service smart
    "all_connected": 86,  # ... with every connectable service connected (includes the 19)
    "under_20_connected": 13,
    "low_smart": 8,  # 0 < smart share < 20 %
    "zero_smart": 28,
    "connectable": 3505,
    "connected": 2127,
    "smart": 780,
    "exempt": 4715 - 3505,
    "without_id": 6067 - 4715,  # cards listed in the service management system with no ID yet
}
SMALL_TARGETS = {
    "all_smart": 2,
    "all_connected": 8,
    "under_20_connected": 2,
    "low_smart": 1,
    "zero_smart": 2,
    "connectable": 140,
    "connected": 80,
    "smart": 30,
    "exempt": 40,
    "without_id": 20,
}
SMALL_AGENCIES = [
    "moi",
    "moi-hq",
    "nocr",
    "mefa",
    "inta",
    "irica",
    "ocscp",
    "msrt",
    "msrt-hq",
    "sanjesh",
    "mohme",
    "fda",
    "mcls",
    "ssi",
    "tso",
    "maj",
    "ssa",
    "mofa",
    "mofa-hq",
    "judiciary",
    "lmo-forensic",
    "martyrs",
    "relief",
]
SMALL_BODIES = {"municipalities": 2, "agent_banks": 1, "universities": 2, "hospitals": 2}
NATIONAL_BODIES = {"municipalities": 47, "agent_banks": 10, "universities": 235, "hospitals": 188}

# Dates of the story. 1401/06/29 is the Industries and Mines Commission's snapshot (29 agencies
# connected); 1403/10/08 is when the Art. 107(c) bylaw was notified and the not-applicable list
# was settled; 1404/03/31 is the end of Khordad 1404, the status the report gives.
START = jalali.to_gregorian("1400-01-05")
FIRST_WAVE_END = jalali.to_gregorian("1401-06-25")
FIRST_WAVE = 29
NOT_APPLICABLE_ON = jalali.to_gregorian("1403-10-08")
REPORT_DAY = jalali.to_gregorian("1404-03-31")
LAST_DAY = REPORT_DAY - dt.timedelta(days=1)


# --- Data files -----------------------------------------------------------------------------


@dataclass
class AgencyRow:
    code: str
    parent: str | None
    kind: str
    status: str  # connected | not_connected | not_applicable | umbrella
    window: bool
    domain: str
    name_fa: str
    name_en: str
    reason: str | None
    number: int  # stable position in agencies.tsv, used in service IDs


@cache
def agency_rows() -> tuple[AgencyRow, ...]:
    rows = []
    with open(DATA_DIR / "agencies.tsv", encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip() and not line.startswith("#")]
    for number, record in enumerate(csv.reader(lines, delimiter="\t")):
        code, parent, kind, status, window, domain, name_fa, name_en, reason = record
        rows.append(
            AgencyRow(
                code=code,
                parent=None if parent == "-" else parent,
                kind=kind,
                status=status,
                window=window == "1",
                domain=domain,
                name_fa=name_fa,
                name_en=name_en,
                reason=None if reason == "-" else reason,
                number=200 + number,
            )
        )
    return tuple(rows)


@cache
def domains() -> dict[str, Any]:
    return json.loads((DATA_DIR / "domains.json").read_text(encoding="utf-8"))


@cache
def places() -> dict[str, Any]:
    return json.loads((DATA_DIR / "places.json").read_text(encoding="utf-8"))


@cache
def flagships() -> list[dict[str, Any]]:
    return json.loads((DATA_DIR / "flagships.json").read_text(encoding="utf-8"))["cards"]


@cache
def objects_by_domain() -> dict[str, list[tuple[str, str, str]]]:
    found: dict[str, list[tuple[str, str, str]]] = {}
    with open(DATA_DIR / "objects.tsv", encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip() and not line.startswith("#")]
    for domain, kind, object_fa, object_en in csv.reader(lines, delimiter="\t"):
        found.setdefault(domain, []).append((kind, object_fa, object_en))
    return found


# --- Plans: how many cards of each state each agency gets -----------------------------------


@dataclass
class Plan:
    """What one agency gets: counts of cards by state, and its connection class."""

    row: AgencyRow
    conn_class: str = ""  # full | mid | low (share of connectable services connected)
    smart_class: str = ""  # all | mid | low | zero
    connectable: int = 0
    connected: int = 0
    smart: int = 0
    exempt: int = 0
    without_id: int = 0
    connected_on: dt.date | None = None
    pinned: bool = False


class CalibrationError(RuntimeError):
    """The targets cannot be met with these agencies (a bug in the targets, not in the data)."""


def _low_max(n: int) -> int:
    """Largest k with k/n < 20 %."""
    return (n - 1) // 5


def _mid_min(n: int) -> int:
    """Smallest k with k/n >= 20 %."""
    return (n + 4) // 5


def _size_bounds(plan: Plan) -> tuple[int, int]:
    low = 1
    if plan.conn_class in ("mid",) or plan.smart_class == "mid":
        low = 2
    if plan.smart_class == "low" or (plan.conn_class == "low" and plan.smart_class != "zero"):
        low = 6
    if plan.pinned:
        low = max(low, 6)
    upper = {"all": 6, "full": 40, "mid": 140, "low": 90}
    high = upper["all"] if plan.smart_class == "all" else upper[plan.conn_class]
    return low, high


def _connected_bounds(plan: Plan) -> tuple[int, int]:
    n = plan.connectable
    if plan.conn_class == "full":
        return n, n
    if plan.conn_class == "mid":
        return _mid_min(n), n - 1
    return (1 if plan.smart_class == "low" else 0), _low_max(n)


def _smart_bounds(plan: Plan) -> tuple[int, int]:
    n, c = plan.connectable, plan.connected
    return {
        "all": (n, n),
        "zero": (0, 0),
        "low": (1, min(c, _low_max(n))),
        "mid": (_mid_min(n), min(c, n - 1)),
    }[plan.smart_class]


def _distribute(
    plans: list[Plan], attr: str, bounds, total: int, rng: random.Random, weight=None
) -> None:
    """Set ``attr`` on every plan within its bounds so that the values sum to ``total``."""
    lows, highs = [], []
    for plan in plans:
        low, high = bounds(plan)
        if low > high:
            raise CalibrationError(f"{plan.row.code}: no room for {attr}")
        lows.append(low)
        highs.append(high)
    if not sum(lows) <= total <= sum(highs):
        raise CalibrationError(f"{attr}: {total} outside [{sum(lows)}, {sum(highs)}]")
    values = list(lows)
    remaining = total - sum(values)
    while remaining:
        open_ = [i for i, plan in enumerate(plans) if values[i] < highs[i]]
        weights = [weight(plans[i]) if weight else 1 for i in open_]
        # Hand out in small rounds so that every agency keeps a share that looks proportional.
        for i in rng.choices(open_, weights=weights, k=min(remaining, len(open_))):
            if values[i] < highs[i] and remaining:
                values[i] += 1
                remaining -= 1
    for plan, value in zip(plans, values, strict=True):
        setattr(plan, attr, value)


def make_plans(rows: list[AgencyRow], targets: dict[str, int], rng: random.Random) -> list[Plan]:
    """Counts of cards per agency so that the totals and buckets equal ``targets`` exactly."""
    plans = [Plan(row) for row in rows if row.status != "umbrella"]
    connected = [p for p in plans if p.row.status == ConnectionStatus.CONNECTED]
    not_connected = [p for p in plans if p.row.status == ConnectionStatus.NOT_CONNECTED]

    # Agencies that hold a flagship card need smart and manual cards: fully connected, some smart.
    flagship_codes = {card["agency"] for card in flagships()}
    for plan in connected:
        if plan.row.code in flagship_codes:
            plan.conn_class, plan.smart_class, plan.pinned = "full", "mid", True
    free = [p for p in connected if not p.pinned]
    rng.shuffle(free)
    n_all = targets["all_smart"]
    n_full = targets["all_connected"] - n_all - sum(1 for p in connected if p.pinned)
    n_low_conn = targets["under_20_connected"]
    n_mid_conn = len(free) - n_all - n_full - n_low_conn
    if min(n_full, n_mid_conn) < 0:
        raise CalibrationError("more bucket places than connected agencies")
    classes = ["all"] * n_all + ["full"] * n_full + ["low"] * n_low_conn + ["mid"] * n_mid_conn
    for plan, cls in zip(free, classes, strict=True):
        plan.conn_class, plan.smart_class = ("full", "all") if cls == "all" else (cls, "")

    # Smart classes: agencies under 20 % connected are under 20 % smart too (smart ⊆ connected).
    low_conn = [p for p in free if p.conn_class == "low"]
    zero_left, low_left = targets["zero_smart"], targets["low_smart"]
    low_in_low_conn = round(len(low_conn) * low_left / (low_left + zero_left))
    for i, plan in enumerate(low_conn):
        plan.smart_class = "low" if i < low_in_low_conn else "zero"
    low_left -= low_in_low_conn
    zero_left -= len(low_conn) - low_in_low_conn
    rest = [p for p in free if not p.smart_class]
    smart_classes = ["low"] * low_left + ["zero"] * zero_left
    smart_classes += ["mid"] * (len(rest) - len(smart_classes))
    rng.shuffle(smart_classes)
    for plan, cls in zip(rest, smart_classes, strict=True):
        plan.smart_class = cls

    # Sizes: drawn, then nudged to the total of connectable services.
    for plan in not_connected:
        plan.connectable = rng.randint(3, 24)
    # Agencies with few smart services are the large ones (as in the report: the big service
    # providers lag), so that the smart total stays reachable above each bucket's 20 % floor.
    mu = {"all": 1.2, "mid": 2.6, "low": 3.4, "zero": 3.2}
    for plan in connected:
        low, high = _size_bounds(plan)
        drawn = int(rng.lognormvariate(mu[plan.smart_class], 0.6))
        plan.connectable = max(low, min(high, drawn))
    goal = targets["connectable"] - sum(p.connectable for p in not_connected)
    weights = {"all": 0.2, "mid": 1, "low": 3, "zero": 3}
    _distribute(
        connected, "connectable", _size_bounds, goal, rng, weight=lambda p: weights[p.smart_class]
    )
    _distribute(connected, "connected", _connected_bounds, targets["connected"], rng)
    _distribute(connected, "smart", _smart_bounds, targets["smart"], rng)

    holders = connected + not_connected
    for attr in ("exempt", "without_id"):
        counts = [0] * len(holders)
        for i in rng.choices(
            range(len(holders)), weights=[p.connectable for p in holders], k=targets[attr]
        ):
            counts[i] += 1
        for plan, count in zip(holders, counts, strict=True):
            setattr(plan, attr, count)

    # Connection dates: the first wave by Shahrivar 1401, then a steady stream until Khordad 1404.
    order = list(connected)
    rng.shuffle(order)
    for index, plan in enumerate(order):
        if index < min(FIRST_WAVE, len(order) // 3 or 1):
            plan.connected_on = _day_between(rng, jalali.to_gregorian("1401-02-10"), FIRST_WAVE_END)
        else:
            plan.connected_on = _day_between(
                rng, FIRST_WAVE_END + dt.timedelta(days=5), LAST_DAY - dt.timedelta(days=20)
            )
    # A flagship card is connected on its own date; its agency must have been connected first.
    for spec in flagships():
        plan = next((p for p in connected if p.row.code == spec["agency"]), None)
        if plan is not None:
            before = jalali.to_gregorian(spec["connected_on"]) - dt.timedelta(days=30)
            plan.connected_on = min(plan.connected_on, before)
    return plans


# --- Cards -----------------------------------------------------------------------------------


def _day_between(rng: random.Random, low: dt.date, high: dt.date) -> dt.date:
    if high <= low:
        return low
    return low + dt.timedelta(days=rng.randint(0, (high - low).days))


def _moment(day: dt.date, minute: int) -> dt.datetime:
    """A working-hours moment in Tehran on ``day``; ``minute`` keeps a card's versions ordered."""
    base = dt.datetime.combine(day, dt.time(9, 0), tzinfo=jalali.TEHRAN)
    return base + dt.timedelta(minutes=minute)


def _title_pool(domain: str, rng: random.Random) -> list[tuple[str, str]]:
    catalogue = domains()
    objects = list(objects_by_domain()["general"])
    if domain != "general":
        objects = objects_by_domain()[domain] + objects
    titles = []
    for variant_fa, variant_en in catalogue["variants"]:
        batch = []
        for kind, object_fa, object_en in objects:
            for action_fa, action_en in catalogue["actions"][kind]:
                batch.append(
                    (f"{action_fa} {object_fa}{variant_fa}", f"{action_en} {object_en}{variant_en}")
                )
        rng.shuffle(batch)
        titles.extend(batch)  # plain titles first, then the variants for large agencies
    return titles


@dataclass
class CardPlan:
    fields: dict[str, Any]
    agency: AgencyRow
    created_on: dt.date
    connected_on: dt.date | None = None
    smart_steps: list[tuple[str, dt.date]] = field(default_factory=list)


def _registry_inputs(items: Iterable[str]) -> list[dict[str, str]]:
    # The shape a service definition's card view gives (services.definitions.card_view), so
    # that publishing a card's definition leaves the card as it is.
    return [
        {
            "code": item,
            "label_fa": REGISTRY_ITEMS[item][1],
            "label_en": REGISTRY_ITEMS[item][2],
            "source": InputSource.REGISTRY,
            "item": item,
        }
        for item in items
    ]


def _user_input(code: str, label_fa: str, label_en: str) -> dict[str, str]:
    return {"source": InputSource.USER, "code": code, "label_fa": label_fa, "label_en": label_en}


class CardWriter:
    """Writes the field values of one agency's cards, state by state."""

    def __init__(self, rng: random.Random, agency: AgencyRow, window_url: str):
        self.rng = rng
        self.agency = agency
        self.window_url = window_url
        self.meta = domains()["domains"][agency.domain]
        self.catalogue = domains()
        self.titles = _title_pool(agency.domain, rng)
        self.sequence = 0

    def next_id(self) -> str:
        self.sequence += 1
        return make_service_id(f"{self.agency.number:03d}{self.sequence:06d}")

    def base(self, title: tuple[str, str]) -> dict[str, Any]:
        rng, meta = self.rng, self.meta
        title_fa, title_en = title
        life = [e for e in meta["life_events"] if rng.random() < 0.6]
        return {
            "service_id": None,
            "level": "service",
            "title_fa": normalize(title_fa),
            "title_en": normalize(title_en),
            "description_fa": normalize(f"{title_fa}؛ خدمتی از {self.agency.name_fa}."),
            "description_en": normalize(f"{title_en}: a service of the {self.agency.name_en}."),
            "recipients": list(meta["recipients"][: rng.randint(1, len(meta["recipients"]))]),
            "category": meta["category"],
            "life_events": life,
            "channels": ["in_person"],
            "scope": Scope.CONNECTABLE,
            "exemption_reason": "",
            "exemption_document": "",
            "connected": False,
            "connection_form": "",
            "electronification_level": rng.choice([0, 1, 1, 2]),
            "smart_status": SmartStatus.NONE,
            "min_assurance_level": rng.choice([1, 2, 2, 2, 3]),
            "fee": rng.choice([0, 0, 0, 50_000, 100_000, 150_000, 300_000, 500_000, 1_200_000]),
            "target_minutes": rng.choice([1, 3, 7, 14, 30]) * 24 * 60,
            "inputs": [],
            "documents_required": [],
            "in_person_steps": [],
            "online_url": "",
        }

    def registry_items(self, k: int) -> list[str]:
        pool = self.meta["registry"]
        return self.rng.sample(pool, min(k, len(pool)))

    def clean_inputs(self) -> list[dict[str, str]]:
        """Inputs a smart service may take: registry items, plus at most one typed detail."""
        # Only items the engine can fetch about the applicant, in the order its definition
        # fetches them (the draws themselves are unchanged, so the rest of the dataset is too).
        drawn = self.registry_items(self.rng.randint(1, 3))
        inputs = _registry_inputs(definitions.executable_items(drawn))
        if self.rng.random() < 0.5:
            inputs.append(_user_input(*self.rng.choice(self.catalogue["user_inputs"])))
        return inputs

    def manual_inputs(self) -> tuple[list[dict[str, str]], list[str], list[str]]:
        """Inputs of a paper-era service: typed registry data, uploads and a visit."""
        rng = self.rng
        typed = self.registry_items(rng.randint(1, 2))
        inputs = [
            {
                "source": InputSource.USER,
                "item": item,
                "code": item.replace(".", "_"),
                "label_fa": REGISTRY_ITEMS[item][1],
                "label_en": REGISTRY_ITEMS[item][2],
            }
            for item in typed
        ]
        inputs.append(_user_input(*rng.choice(self.catalogue["user_inputs"])))
        documents = rng.sample(self.catalogue["documents"], rng.randint(1, 3))
        for index, label in enumerate(documents, start=1):
            inputs.append(
                {
                    "source": InputSource.DOCUMENT,
                    "code": f"doc{index}",
                    "label_fa": normalize(label),
                    "label_en": definitions.DOCUMENTS[label][0],
                }
            )
        steps = rng.sample(self.catalogue["in_person_steps"], rng.randint(0, 1))
        return inputs, [normalize(d) for d in documents], [normalize(s) for s in steps]

    def connect(self, fields: dict[str, Any], form: str) -> None:
        fields["connected"] = True
        fields["connection_form"] = form
        fields["channels"] = ["web", "mobile"] + (["kiosk"] if self.rng.random() < 0.3 else [])
        base_url = self.window_url or "https://my.gov.ir"
        fields["online_url"] = f"{base_url}/services/{fields['service_id']}"

    def card(self, state: str, plan: Plan) -> CardPlan:
        """One card in ``state``: smart, proposed, certified, connected, offline, exempt, draft."""
        rng = self.rng
        fields = self.base(self.titles.pop(0))
        form = _agency_connection_form(plan.row)
        created = _day_between(
            rng, START + dt.timedelta(days=60), (plan.connected_on or LAST_DAY) - dt.timedelta(1)
        )
        card = CardPlan(fields, self.agency, created)
        if state != "draft":
            fields["service_id"] = self.next_id()
        if state in ("smart", "proposed", "certified"):
            fields["inputs"] = self.clean_inputs()
            fields["electronification_level"] = 4
            self.connect(fields, form)
            fields["target_minutes"] = rng.randint(1, 15)
            steps = {"proposed": 1, "certified": 2, "smart": 3}[state]
            stages = [SmartStatus.PROPOSED, SmartStatus.CERTIFIED, SmartStatus.APPROVED][:steps]
            card.connected_on = _day_between(rng, max(created, plan.connected_on), LAST_DAY)
            day = card.connected_on
            for stage in stages:
                day = _day_between(rng, day, min(day + dt.timedelta(days=120), LAST_DAY))
                card.smart_steps.append((stage, day))
            fields["smart_status"] = stages[-1]
        elif state == "connected":
            inputs, documents, steps = self.manual_inputs()
            if rng.random() < 0.5:  # half of the connected ones already dropped the uploads
                inputs = [i for i in inputs if i["source"] != InputSource.DOCUMENT]
                documents, steps = [], []
            fields.update(inputs=inputs, documents_required=documents, in_person_steps=steps)
            fields["electronification_level"] = rng.choice([3, 3, 4])
            self.connect(fields, form)
            card.connected_on = _day_between(rng, max(created, plan.connected_on), LAST_DAY)
        elif state == "exempt":
            fields["scope"] = Scope.EXEMPT
            fields["exemption_reason"] = normalize(rng.choice(self.catalogue["exemption_reasons"]))
            fields["exemption_document"] = normalize(
                f"مصوبه کارگروه راهبری و نظارت شماره {rng.randint(100, 999)}/{rng.randint(10, 99)}"
            )
        if state in ("offline", "draft", "exempt"):
            inputs, documents, steps = self.manual_inputs()
            fields.update(inputs=inputs, documents_required=documents, in_person_steps=steps)
        return card


def _agency_connection_form(row: AgencyRow) -> str:
    return ConnectionForm.AGENCY_WINDOW if row.window else ConnectionForm.DIRECT


def _window_url(row: AgencyRow) -> str:
    return f"https://window.{row.code}.ir" if row.window else ""


def flagship_card(spec: dict[str, Any], agency: AgencyRow) -> CardPlan:
    """A card described in flagships.json, with its own dates."""
    smart = spec["smart_status"]
    items = spec["registry"]
    if smart == SmartStatus.APPROVED:
        items = definitions.executable_items(items)  # what its definition can fetch
    inputs = _registry_inputs(items)
    inputs += [_user_input(*item) for item in spec.get("user_inputs", [])]
    window = _window_url(agency) or "https://my.gov.ir"
    fields = {
        "service_id": make_service_id(spec["id_prefix"]),
        "level": "service",
        "title_fa": normalize(spec["title_fa"]),
        "title_en": normalize(spec["title_en"]),
        "description_fa": normalize(spec["description_fa"]),
        "description_en": normalize(spec["description_en"]),
        "recipients": spec["recipients"],
        "category": spec["category"],
        "life_events": spec["life_events"],
        "channels": spec["channels"],
        "scope": Scope.CONNECTABLE,
        "exemption_reason": "",
        "exemption_document": "",
        "connected": True,
        "connection_form": _agency_connection_form(agency),
        "electronification_level": spec["electronification_level"],
        "smart_status": smart,
        "min_assurance_level": spec["min_assurance_level"],
        "fee": spec["fee"],
        "target_minutes": spec["target_minutes"],
        "inputs": inputs,
        "documents_required": [normalize(d) for d in spec.get("documents_required", [])],
        "in_person_steps": [normalize(s) for s in spec.get("in_person_steps", [])],
        "online_url": f"{window}/services/{make_service_id(spec['id_prefix'])}",
    }
    card = CardPlan(fields, agency, jalali.to_gregorian(spec["created_on"]))
    card.connected_on = jalali.to_gregorian(spec["connected_on"])
    for stage, day in spec.get("smart_steps", []):
        card.smart_steps.append((stage, jalali.to_gregorian(day)))
    return card


def make_cards(plans: list[Plan], rng: random.Random) -> list[CardPlan]:
    """Every card of every agency, flagships first, in a stable order."""
    by_agency: dict[str, list[dict]] = {}
    for spec in flagships():
        by_agency.setdefault(spec["agency"], []).append(spec)
    cards: list[CardPlan] = []
    for plan in plans:
        if not plan.connectable and not plan.exempt and not plan.without_id:
            continue
        writer = CardWriter(rng, plan.row, _window_url(plan.row))
        specials = [flagship_card(spec, plan.row) for spec in by_agency.get(plan.row.code, [])]
        titles = {c.fields["title_fa"] for c in specials}
        if titles:
            writer.titles = [t for t in writer.titles if normalize(t[0]) not in titles]
        smart_left = plan.smart - sum(1 for c in specials if c.fields["smart_status"] == "approved")
        connected_left = plan.connected - plan.smart
        connected_left -= sum(1 for c in specials if c.fields["smart_status"] != "approved")
        offline = plan.connectable - plan.connected
        if smart_left < 0 or connected_left < 0:
            raise CalibrationError(f"{plan.row.code}: flagships exceed the plan")
        # A few connected cards are on their way to smart: proposed by the agency or certified.
        pipeline = [
            rng.choice(["proposed", "certified", "connected", "connected", "connected"])
            for _ in range(connected_left)
        ]
        states = ["smart"] * smart_left + pipeline + ["offline"] * offline
        states += ["exempt"] * plan.exempt + ["draft"] * plan.without_id
        cards.extend(specials)
        cards.extend(writer.card(state, plan) for state in states)
    return cards


# --- Agencies --------------------------------------------------------------------------------


def body_rows(counts: dict[str, int]) -> list[tuple[str, str, str, str]]:
    """(code, kind, name_fa, name_en) of the connected bodies outside the 186 agencies."""
    data = places()
    cities, provinces = data["cities"], data["provinces"]
    found: list[tuple[str, str, str, str]] = []
    for fa, en, slug in cities[: counts["municipalities"]]:
        found.append(
            (f"muni-{slug}", AgencyKind.MUNICIPALITY, f"شهرداری {fa}", f"{en} Municipality")
        )
    for code, fa, en in data["agent_banks"][: counts["agent_banks"]]:
        found.append((code, AgencyKind.AGENT_BANK, fa, en))
    universities = [(slug, fa, en) for fa, en, slug in data["universities"]]
    for pattern_fa, pattern_en, pattern_code, source in data["university_patterns"]:
        places_ = cities if source == "cities" else [(fa, en, _slug(en)) for fa, en in provinces]
        for fa, en, slug in places_:
            universities.append(
                (pattern_code.format(slug=slug), pattern_fa.format(fa=fa), pattern_en.format(en=en))
            )
    for slug, fa, en in universities[: counts["universities"]]:
        found.append((f"univ-{slug}", AgencyKind.UNIVERSITY, fa, en))
    # Hospital names: every pattern in every city, in a fixed shuffled order (names are stable
    # whatever the dataset seed).
    combos = [(p, c) for p in data["hospital_patterns"] for c in cities]
    random.Random(188).shuffle(combos)
    for (pattern_fa, pattern_en, pattern_code), (fa, en, slug) in combos[: counts["hospitals"]]:
        found.append(
            (
                f"hosp-{pattern_code}-{slug}",
                AgencyKind.HOSPITAL,
                pattern_fa.format(fa=fa),
                pattern_en.format(en=en),
            )
        )
    return found


def _slug(text: str) -> str:
    return "-".join(text.lower().replace("-", " ").split())


@dataclass
class AgencyPlan:
    fields: dict[str, Any]
    parent: str | None
    versions: list[tuple[dt.date, dict[str, Any], str]]  # (day, changes, note)


def _agency_fields(code: str, kind: str, name_fa: str, name_en: str, member: str) -> dict:
    return {
        "code": code,
        "name_fa": normalize(name_fa),
        "name_en": normalize(name_en),
        "kind": kind,
        "in_scope": True,
        "connection_status": ConnectionStatus.NOT_CONNECTED,
        "connection_reason": "",
        "connection_evidence": "",
        "connection_form": "",
        "own_window_url": "",
        "sso_integrated": False,
        "member_class": "COM" if kind == AgencyKind.AGENT_BANK else "GOV",
        "member_code": member,
    }


def make_agency_plans(
    rows: list[AgencyRow], plans: list[Plan], bodies: list[tuple], rng: random.Random
) -> list[AgencyPlan]:
    texts = domains()
    by_code = {p.row.code: p for p in plans}
    result = []
    no_sso_parents = {"moen", "maj"}  # their subsidiaries reach the window through the parent
    for index, row in enumerate(rows):
        base = _agency_fields(row.code, row.kind, row.name_fa, row.name_en, f"2{index + 1:07d}")
        created = START + dt.timedelta(days=rng.randint(0, 20))
        versions: list[tuple[dt.date, dict, str]] = []
        if row.status == "umbrella":
            base.update(
                in_scope=False,
                connection_status=ConnectionStatus.NOT_APPLICABLE,
                connection_reason=normalize(texts["umbrella_reason"]),
            )
            versions.append((created, {}, "seeded: ministry as a grouping"))
        elif row.status == ConnectionStatus.CONNECTED:
            versions.append((created, {}, "seeded: listed as an executive agency"))
            versions.append(
                (
                    by_code[row.code].connected_on,
                    {
                        "connection_status": ConnectionStatus.CONNECTED,
                        "connection_form": _agency_connection_form(row),
                        "own_window_url": _window_url(row),
                        "sso_integrated": row.parent not in no_sso_parents,
                        "connection_evidence": normalize(texts["connected_evidence"]),
                    },
                    "connected to the national window",
                )
            )
        elif row.status == ConnectionStatus.NOT_CONNECTED:
            base["connection_reason"] = normalize(texts["not_connected_reason"])
            versions.append((created, {}, "seeded: listed as an executive agency"))
        else:
            versions.append((created, {}, "seeded: listed as an executive agency"))
            versions.append(
                (
                    NOT_APPLICABLE_ON,
                    {
                        "connection_status": ConnectionStatus.NOT_APPLICABLE,
                        "connection_reason": normalize(texts["not_applicable_reasons"][row.reason]),
                        "connection_evidence": normalize(texts["not_applicable_evidence"]),
                    },
                    "found not applicable for connection",
                )
            )
        result.append(AgencyPlan(base, row.parent, versions))
    for index, (code, kind, name_fa, name_en) in enumerate(bodies):
        base = _agency_fields(code, kind, name_fa, name_en, f"3{index + 1:07d}")
        base.update(
            in_scope=False,
            connection_status=ConnectionStatus.CONNECTED,
            connection_form=ConnectionForm.DIRECT,
            sso_integrated=True,
        )
        day = _day_between(rng, jalali.to_gregorian("1401-03-01"), LAST_DAY)
        result.append(AgencyPlan(base, None, [(day, {}, "seeded: connected body")]))
    return result


# --- Writing ---------------------------------------------------------------------------------


@dataclass
class SeedResult:
    profile: str
    seed: int
    agencies: int
    services: int
    versions: int


def select_rows(profile: str) -> tuple[list[AgencyRow], dict[str, int], dict[str, int]]:
    rows = list(agency_rows())
    if profile == "national":
        return rows, NATIONAL_TARGETS, NATIONAL_BODIES
    if profile == "small":
        wanted = set(SMALL_AGENCIES)
        return [r for r in rows if r.code in wanted], SMALL_TARGETS, SMALL_BODIES
    raise ValueError(f"unknown profile {profile!r}")


def build(profile: str, seed: int = DEFAULT_SEED):
    """Everything to write, computed in memory: (agency plans, card plans)."""
    rng = random.Random(f"panjereh:{profile}:{seed}")
    rows, targets, body_counts = select_rows(profile)
    # Some draws of sizes leave no room for a target (say, too few services in the agencies that
    # must stay under 20 %); draw again. The generator moves on, so the result is still a pure
    # function of the seed.
    for _attempt in range(100):
        try:
            plans = make_plans(rows, targets, rng)
            break
        except CalibrationError:
            continue
    else:
        raise CalibrationError(f"no calibrated plan for the {profile} profile")
    cards = make_cards(plans, rng)
    agency_plans = make_agency_plans(rows, plans, body_rows(body_counts), rng)
    return agency_plans, cards


def _check_cards(cards: list[CardPlan]) -> None:
    for card in cards:
        violations = check_service(card.fields)
        if violations:
            raise CalibrationError(f"{card.fields['title_fa']}: {violations}")


def clear_catalogue() -> None:
    """Remove every agency and card (and their versions and memberships), with the service
    definitions of the cards and the applications made under them."""
    from panjereh.services.models import Application, Document, ServiceDefinition

    Document.objects.all().delete()
    Application.objects.all().delete()
    ServiceDefinition.objects.all().delete()  # their lifecycle events go with them
    ServiceVersion.objects.all().delete()
    Service.objects.update(parent=None)
    Service.objects.all().delete()
    AgencyVersion.objects.all().delete()
    AgencyMembership.objects.all().delete()
    Agency.objects.update(parent=None)
    Agency.objects.all().delete()
    search.public_changed()


@transaction.atomic
def seed(profile: str = "national", seed: int = DEFAULT_SEED) -> SeedResult:
    """Write the profile's rows into an empty catalogue."""
    if Agency.objects.exists() or Service.objects.exists():
        raise RuntimeError("the catalogue is not empty")
    agency_plans, cards = build(profile, seed)
    _check_cards(cards)

    agencies = _write_agencies(agency_plans)
    version_count = AgencyVersion.objects.count()
    version_count += _write_services(cards, agencies)
    _analyze()
    # bulk_create sends no signals: tell the index and the kept public pages once.
    search.public_changed()
    return SeedResult(profile, seed, len(agencies), len(cards), version_count)


def _analyze() -> None:
    """Refresh PostgreSQL's statistics of the tables just filled. Without them the planner
    still believes them empty (autovacuum has not run yet, or cannot see rows of a transaction
    not yet committed, as in the tests) and answers an as-of query of the catalogue with a
    nested loop over every version: minutes instead of milliseconds."""
    if connection.vendor != "postgresql":
        return
    tables = [m._meta.db_table for m in (Agency, AgencyVersion, Service, ServiceVersion)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))


def _write_agencies(agency_plans: list[AgencyPlan]) -> dict[str, Agency]:
    agencies: dict[str, Agency] = {}
    pending = list(agency_plans)
    # Parents first, so that each level can point at rows that already have their keys.
    while pending:
        level = [p for p in pending if p.parent is None or p.parent in agencies]
        if not level:
            raise CalibrationError("agency parents form a cycle or name an unknown code")
        pending = [p for p in pending if p not in level]
        objects = []
        for plan in level:
            agency = Agency(parent=agencies.get(plan.parent) if plan.parent else None)
            for name, value in plan.fields.items():
                setattr(agency, name, value)
            for _day, changes, _note in plan.versions:
                for name, value in changes.items():
                    setattr(agency, name, value)
            agency.version = len(plan.versions)
            agency.search_key = search_key(f"{agency.name_fa} {agency.name_en} {agency.code}")
            objects.append(agency)
        Agency.objects.bulk_create(objects, batch_size=500)
        for agency in objects:
            agencies[agency.code] = agency

    versions = []
    for plan in agency_plans:
        agency = agencies[plan.fields["code"]]
        state = dict(plan.fields)
        for number, (day, changes, note) in enumerate(plan.versions, start=1):
            state.update(changes)
            data = {name: state[name] for name in operations.AGENCY_FIELDS}
            data["parent"] = plan.parent
            versions.append(
                AgencyVersion(
                    agency=agency,
                    version=number,
                    valid_from=_moment(day, number),
                    note=note,
                    data=data,
                    in_scope=state["in_scope"],
                    connection_status=state["connection_status"],
                    has_own_window=bool(state["own_window_url"]),
                    sso_integrated=state["sso_integrated"],
                )
            )
    AgencyVersion.objects.bulk_create(versions, batch_size=1000)
    return agencies


def _card_versions(card: CardPlan) -> list[tuple[dt.date, dict[str, Any], str]]:
    """The states a card went through: created, then connected, then each smart stage."""
    final = card.fields
    first = dict(final)
    if final["connected"]:
        first.update(
            connected=False,
            connection_form="",
            online_url="",
            smart_status=SmartStatus.NONE,
            electronification_level=min(final["electronification_level"], 2),
            channels=["in_person"],
        )
    states = [(card.created_on, first, "seeded: card created")]
    if final["connected"]:
        connected = dict(final)
        connected["smart_status"] = SmartStatus.NONE
        states.append((card.connected_on, connected, "connected to the national window"))
        notes = {
            SmartStatus.PROPOSED: "proposed as smart by the agency",
            SmartStatus.CERTIFIED: "certified smart-eligible by AEO",
            SmartStatus.APPROVED: "approved smart by the Steering WG",
        }
        for stage, day in card.smart_steps:
            step = dict(final)
            step["smart_status"] = stage
            states.append((day, step, notes[stage]))
    return states


def _write_services(cards: list[CardPlan], agencies: dict[str, Agency]) -> int:
    services = []
    histories = []
    for card in cards:
        agency = agencies[card.agency.code]
        history = _card_versions(card)
        service = Service(agency=agency, **card.fields)
        service.version = len(history)
        service.search_key = operations.service_search_key(service)
        services.append(service)
        histories.append(history)
    Service.objects.bulk_create(services, batch_size=500)

    versions = []
    for service, history in zip(services, histories, strict=True):
        for number, (day, state, note) in enumerate(history, start=1):
            data = {name: state[name] for name in operations.SERVICE_FIELDS}
            data["agency"] = service.agency.code
            data["parent"] = None
            versions.append(
                ServiceVersion(
                    service=service,
                    version=number,
                    valid_from=_moment(day, number),
                    note=note,
                    data=data,
                    agency_id=service.agency_id,
                    has_id=bool(state["service_id"]),
                    scope=state["scope"],
                    connected=state["connected"],
                    smart_status=state["smart_status"],
                )
            )
    ServiceVersion.objects.bulk_create(versions, batch_size=1000)
    return len(versions)
