"""Service performance as GOV.UK publishes it, per service and per agency, as of a moment.

Read-only queries against the smart-services app's models (applications and their journey
log) and the agencies' own entries (:class:`~.models.ServiceTransactions`):

* **completion rate**: applications started in the period that reached a final outcome
  (a journey event into *issued* or *rejected*) by the as-of moment / applications started;
* **user satisfaction**: ratings of 4 or 5 (satisfied, very satisfied, on the 1-5 scale the
  citizen gives a finished application) / all ratings given in the period;
* **digital take-up**: applications made through the window / (those + the transactions
  outside the window the agency entered for the month), only where that count is entered;
* **cost per transaction**: the cost the agency entered / (applications through the window +
  transactions outside it), only where a cost is entered.

The period is the report month (:func:`sources.report_month`): the Jalali month that ends on
the as-of day, or else the last complete one. Nothing is estimated: a figure with no source
is "no data".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.common import jalali

from . import sources


@dataclass
class Facts:
    """Counts for one service (or summed for an agency or the nation) in the period."""

    started: int = 0
    completed: int = 0
    ratings: int = 0
    favourable: int = 0
    offline: int | None = None  # entered by the agency; None when not entered
    cost: int | None = None  # rials, entered by the agency; None when not entered
    # online applications of the services whose offline count / cost was entered
    online_with_offline: int = 0
    online_with_cost: int = 0
    offline_with_cost: int = 0

    def add(self, other: Facts) -> None:
        self.started += other.started
        self.completed += other.completed
        self.ratings += other.ratings
        self.favourable += other.favourable
        if other.offline is not None:
            self.offline = (self.offline or 0) + other.offline
            self.online_with_offline += other.online_with_offline
        if other.cost is not None:
            self.cost = (self.cost or 0) + other.cost
            self.online_with_cost += other.online_with_cost
            self.offline_with_cost += other.offline_with_cost

    def values(self) -> dict:
        from .indicators import Value, min_ratings, no_data, ratio, too_few

        completion = ratio(self.completed, self.started)
        if not self.started:
            completion = no_data(_("No application was started in the period."))
        satisfaction = ratio(self.favourable, self.ratings)
        if not self.ratings:
            satisfaction = no_data(_("No rating was given in the period."))
        elif self.ratings < min_ratings():  # a single person's score must not be readable
            satisfaction = too_few()
        if self.offline is None:
            takeup = no_data(_("No count of transactions outside the window is entered."))
        else:
            takeup = ratio(self.online_with_offline, self.online_with_offline + self.offline)
        transactions = self.online_with_cost + self.offline_with_cost
        if self.cost is None:
            cost = no_data(_("No cost is entered for the period."))
        elif not transactions:
            cost = no_data(_("No transaction in the period."))
        else:
            cost = Value(round(self.cost / transactions), self.cost, transactions)
        return {
            "completion_rate": completion,
            "user_satisfaction": satisfaction,
            "digital_takeup": takeup,
            "cost_per_transaction": cost,
        }


@dataclass
class ServiceRow:
    service_pk: int
    service_id: str
    title_fa: str
    title_en: str
    agency_id: int
    agency_code: str
    agency_name_fa: str
    agency_name_en: str
    facts: Facts
    values: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "service_id": self.service_id,
            "title_fa": self.title_fa,
            "title_en": self.title_en,
            "agency_code": self.agency_code,
            "started": self.facts.started,
            "completed": self.facts.completed,
            "ratings": self.facts.ratings,
            "favourable": self.facts.favourable,
            "offline_transactions": self.facts.offline,
            "cost_rials": self.facts.cost,
            "indicators": {k: v.as_dict() for k, v in self.values.items()},
        }


@dataclass
class Performance:
    as_of: dt.datetime
    as_of_label: str
    month: str
    period_start: dt.datetime
    period_end: dt.datetime
    services: list[ServiceRow]
    agencies: dict[int, Facts]
    national: Facts

    def service(self, service_id: str) -> ServiceRow | None:
        return next((s for s in self.services if s.service_id == service_id), None)

    def agency_values(self, agency_id: int | None) -> dict:
        if agency_id is None:
            return self.national.values()
        return self.agencies.get(agency_id, Facts()).values()

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of_label,
            "as_of_instant": self.as_of.isoformat(),
            "month": self.month,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "national": {k: v.as_dict() for k, v in self.national.values().items()},
            "services": [s.as_dict() for s in self.services],
        }


TICK = dt.timedelta(microseconds=1)


def month_bounds(month: str | jalali.Month) -> tuple[dt.datetime, dt.datetime]:
    """(exclusive start, inclusive end) of a Jalali month (``1404-03``) as Tehran instants:
    the last instant before it and its own last instant (:meth:`jalali.Month.bounds`, one tick
    earlier each)."""
    start, end = (month if isinstance(month, jalali.Month) else jalali.Month.parse(month)).bounds()
    return start - TICK, end - TICK


def _installed() -> bool:
    return apps.is_installed("panjereh.services")


def rows_from_applications(start, end, as_of) -> dict[int, dict]:
    """Per catalogue service pk: started, completed, ratings, favourable (from the journey log,
    :func:`panjereh.services.queries.journey_counts`)."""
    from panjereh.services import queries as services

    return services.journey_counts(start, end, as_of)


def rollup(month: str) -> int:
    """Recompute the journey roll-up (:class:`~.models.JourneyFact`) of a Jalali month from
    the log with a few aggregate queries; returns the number of rows written. Run it for
    closed months (nightly, like the exchange's monthly roll-up); figures as of a moment up to
    its ``run`` row's time read it instead of the log."""
    from django.db import transaction

    from panjereh.services import queries as services

    from .models import JourneyFact

    start, end = month_bounds(month)
    now = timezone.now()
    last_event, last_app = services.last_ids()
    counts = services.journey_counts_by_day(start, end, last_event=last_event, last_app=last_app)
    rows: list[JourneyFact] = [
        JourneyFact(month=month, kind="started", service_id=r["service_id"], n=r["n"])
        for r in counts["started"]
    ]
    rows += [
        JourneyFact(
            month=month, kind="completed", service_id=r["service_id"], day=r["day"], n=r["n"]
        )
        for r in counts["completed"]
    ]
    rows += [
        JourneyFact(
            month=month,
            kind="rated",
            service_id=r["service_id"],
            day=r["day"],
            n=r["n"],
            favourable=r["favourable"],
        )  # fmt: skip
        for r in counts["rated"]
    ]
    rows.append(
        JourneyFact(
            month=month, kind="run", computed_at=now, last_event_id=last_event,
            last_application_id=last_app,
        )
    )  # fmt: skip
    with transaction.atomic():
        JourneyFact.objects.filter(month=month).delete()
        JourneyFact.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def rollup_recent(today: dt.date | None = None) -> list[str]:
    """Roll up this Jalali month and the last (applications of the last may still finish)."""
    this = jalali.Month.of(today or timezone.localdate())
    months = [str(this.previous()), str(this)]
    for month in months:
        rollup(month)
    return months


def rows_from_rollup(month: str, as_of: dt.datetime) -> dict[int, dict] | None:
    """The same counts as :func:`rows_from_applications`, from the roll-up of ``month`` when
    it was computed after ``as_of`` (so it holds everything up to that moment); else None."""
    from django.db.models import Sum

    from .models import JourneyFact

    run = JourneyFact.objects.filter(month=month, kind="run").order_by("-computed_at").first()
    if run is None or run.computed_at is None or run.last_event_id is None:
        return None
    delta = None
    if run.computed_at < as_of:
        # What the log gained after the roll-up, read by primary key.
        start, end = month_bounds(month)
        from panjereh.services import queries as services

        delta = services.journey_counts(
            start, end, as_of, event_after=run.last_event_id, app_after=run.last_application_id
        )
    day = jalali.from_gregorian(as_of).togregorian()
    # A completion or rating counts up to the as-of day; as-of moments are ends of days.
    facts = (
        JourneyFact.objects.filter(month=month)
        .exclude(kind="run")
        .filter(Q(day__isnull=True) | Q(day__lte=day))
        .values("service_id", "kind")
        .annotate(n=Sum("n"), fav=Sum("favourable"))
    )
    out: dict[int, dict] = {}
    for r in facts:
        slot = out.setdefault(
            r["service_id"], {"started": 0, "completed": 0, "ratings": 0, "favourable": 0}
        )
        if r["kind"] == "rated":
            slot["ratings"], slot["favourable"] = r["n"], r["fav"]
        else:
            slot[r["kind"]] = r["n"]
    for pk, more in (delta or {}).items():
        slot = out.setdefault(pk, {"started": 0, "completed": 0, "ratings": 0, "favourable": 0})
        for key, value in more.items():
            slot[key] += value
    return out


def compute(as_of: dt.datetime | None = None) -> Performance:
    """Service performance in the report month of ``as_of`` (None: now)."""
    from panjereh.catalogue import queries as catalogue

    from .models import ServiceTransactions

    moment = as_of or timezone.now()
    month = sources.report_month(moment)
    start, month_end = month_bounds(month)
    end = min(month_end, moment)
    counts: dict[int, dict] = {}
    if _installed():
        counts = rows_from_rollup(month, moment)
        if counts is None:
            counts = rows_from_applications(start, end, moment)
    entered = {
        t.service_id: t
        for t in ServiceTransactions.objects.filter(month=month).only(
            "service_id", "offline_transactions", "cost_rials"
        )
    }
    pks = set(counts) | set(entered)
    services = catalogue.service_cards(pks)
    agencies = catalogue.agency_directory()
    rows: list[ServiceRow] = []
    per_agency: dict[int, Facts] = {}
    national = Facts()
    for s in services:
        c = counts.get(s["pk"], {})
        t = entered.get(s["pk"])
        offline = t.offline_transactions if t else None
        cost = t.cost_rials if t else None
        started = c.get("started", 0)
        facts = Facts(
            started=started,
            completed=c.get("completed", 0),
            ratings=c.get("ratings", 0),
            favourable=c.get("favourable", 0),
            offline=offline,
            cost=cost,
            online_with_offline=started if offline is not None else 0,
            online_with_cost=started if cost is not None else 0,
            offline_with_cost=(offline or 0) if cost is not None else 0,
        )
        a = agencies[s["agency_id"]]
        row = ServiceRow(
            s["pk"], s["service_id"] or "", s["title_fa"], s["title_en"], s["agency_id"],
            a["code"], a["name_fa"], a["name_en"], facts, facts.values(),
        )  # fmt: skip
        rows.append(row)
        per_agency.setdefault(s["agency_id"], Facts()).add(facts)
        national.add(facts)
    rows.sort(key=lambda r: (r.agency_name_fa, r.title_fa))
    return Performance(moment, jalali.iso(moment), month, start, end, rows, per_agency, national)
