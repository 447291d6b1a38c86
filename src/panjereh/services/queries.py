"""Read queries over the citizens' applications and their journey log, for other apps.

Oversight's service performance (completion, satisfaction) counts these rows per catalogue
service: from the log as of a moment, or in a monthly roll-up by day. Every function is one
grouped aggregate per measure and returns plain dicts and tuples, never model instances.
"""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext

from django.db import connections, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncDate

from panjereh.common.jalali import TEHRAN

from .models import (
    Application,
    DefinitionEvent,
    DefinitionStatus,
    JourneyEvent,
    ServiceDefinition,
)

FINAL_STATES = ("issued", "rejected")
FAVOURABLE_RATING = 4  # 4 and 5 of 5: satisfied and very satisfied


def empty_counts() -> dict[str, int]:
    return {"started": 0, "completed": 0, "ratings": 0, "favourable": 0}


def last_ids() -> tuple[int, int]:
    """(the newest journey event's pk, the newest application's pk), 0 when none: the mark a
    roll-up records so later counts read only the rows after it."""
    last_event = JourneyEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_app = Application.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return last_event, last_app


def journey_counts(
    start: dt.datetime,
    end: dt.datetime,
    as_of: dt.datetime,
    *,
    event_after: int = 0,
    app_after: int = 0,
) -> dict[int, dict[str, int]]:
    """Per catalogue service pk: applications submitted in (``start``, ``end``] ("started"),
    those of them that reached a final state by ``as_of`` ("completed"), and the ratings given
    in (``start``, min(``end``, ``as_of``)] ("ratings", "favourable": 4 or 5). Only rows after
    the given pks are read (0: all). Three grouped queries."""
    out: dict[int, dict[str, int]] = {}

    def slot(pk):
        return out.setdefault(pk, empty_counts())

    started = Application.objects.filter(
        pk__gt=app_after, submitted_at__gt=start, submitted_at__lte=end
    )
    for row in started.values("definition__service_id").annotate(n=Count("id")):
        slot(row["definition__service_id"])["started"] = row["n"]
    finals = JourneyEvent.objects.filter(
        pk__gt=event_after, kind=JourneyEvent.Kind.STATE, to_state__in=FINAL_STATES, at__lte=as_of
    ).filter(application__submitted_at__gt=start, application__submitted_at__lte=end)
    for row in finals.values("application__definition__service_id").annotate(
        n=Count("application_id", distinct=True)
    ):
        slot(row["application__definition__service_id"])["completed"] = row["n"]
    rated = JourneyEvent.objects.filter(
        pk__gt=event_after,
        kind=JourneyEvent.Kind.RATED,
        at__gt=start,
        at__lte=min(end, as_of),
        application__rating__isnull=False,
    )
    for row in rated.values("application__definition__service_id").annotate(
        n=Count("application_id", distinct=True),
        fav=Count(
            "application_id",
            distinct=True,
            filter=Q(application__rating__gte=FAVOURABLE_RATING),
        ),
    ):
        s = slot(row["application__definition__service_id"])
        s["ratings"], s["favourable"] = row["n"], row["fav"]
    return out


def journey_counts_by_day(
    start: dt.datetime, end: dt.datetime, *, last_event: int, last_app: int
) -> dict[str, list[dict]]:
    """The month roll-up's rows, up to the given pks: "started" (service_id, n) per service
    for applications submitted in (``start``, ``end``]; "completed" (service_id, day, n): the
    applications of those that reached a final state, by the Tehran day of the event;
    "rated" (service_id, day, n, favourable): ratings given in (``start``, ``end``] by day.
    Three grouped queries."""
    tz = TEHRAN
    started = [
        {"service_id": r["definition__service_id"], "n": r["n"]}
        for r in Application.objects.filter(
            pk__lte=last_app, submitted_at__gt=start, submitted_at__lte=end
        )
        .values("definition__service_id")
        .annotate(n=Count("id"))
    ]
    # The first final event of each application started in the month, by its day.
    completed = [
        {"service_id": r["application__definition__service_id"], "day": r["day"], "n": r["n"]}
        for r in JourneyEvent.objects.filter(
            pk__lte=last_event,
            kind=JourneyEvent.Kind.STATE,
            to_state__in=FINAL_STATES,
            application__submitted_at__gt=start,
            application__submitted_at__lte=end,
        )
        .annotate(day=TruncDate("at", tzinfo=tz))
        .values("application__definition__service_id", "day")
        .annotate(n=Count("application_id", distinct=True))
    ]
    rated = [
        {
            "service_id": r["application__definition__service_id"],
            "day": r["day"],
            "n": r["n"],
            "favourable": r["fav"],
        }
        for r in JourneyEvent.objects.filter(
            kind=JourneyEvent.Kind.RATED,
            at__gt=start,
            at__lte=end,
            application__rating__isnull=False,
        )
        .annotate(day=TruncDate("at", tzinfo=tz))
        .values("application__definition__service_id", "day")
        .annotate(
            n=Count("application_id", distinct=True),
            fav=Count(
                "application_id",
                distinct=True,
                filter=Q(application__rating__gte=FAVOURABLE_RATING),
            ),
        )
    ]
    return {"started": started, "completed": completed, "rated": rated}


# -- declared and observed smartness ------------------------------------------------------------

HUMAN_STATE = "human_review"
HUMAN_KIND = "assigned"  # an officer took the case (also only from human review)


def certified_smart_service_ids(as_of: dt.datetime | None = None) -> set[int]:
    """Catalogue service pks with a published (active) definition that validates as smart:
    the services *smart (certified)*. ``as_of`` bounds the definitions loaded by then.

    A smart version is published only after AEO certified it (``services.design``: draft →
    submitted → certified → published); the certification event is required here as well, so
    a version published some other way does not count."""
    certified = DefinitionEvent.objects.filter(
        definition_id=OuterRef("pk"), to_status=DefinitionStatus.CERTIFIED
    )
    definitions = ServiceDefinition.objects.filter(
        active=True, smart=True, status=DefinitionStatus.PUBLISHED
    ).filter(Exists(certified))
    if as_of is not None:
        definitions = definitions.filter(loaded_at__lte=as_of)
    return set(definitions.values_list("service_id", flat=True).distinct())


def upload_definition_ids() -> list[int]:
    """Definition versions whose applicant must upload a document (``uploads`` not empty):
    every application under one of them had an upload."""
    return [
        pk
        for pk, uploads in ServiceDefinition.objects.values_list("pk", "spec__uploads")
        if uploads
    ]


def observed_smartness(start: dt.datetime, end: dt.datetime) -> dict[int, dict]:
    """Per catalogue service pk, the applications of the period [``start``, ``end``): those
    submitted in it or completed in it. Keys: "agency_id" (the agency that took them),
    "applications", "submitted" (submitted in the period), "completed" (reached *issued*, or
    *rejected* with a reason, in the period), "automatic" (of those completed, with no human
    step and no upload), "manual" (applications of the period with a human step before ``end``
    — sent to an officer or assigned to one — or an upload). A service is *smart (observed)*
    when it completed at least one and none was manual.

    One grouped query over the applications; the human step is a semi-join on the journey
    log by application (the foreign-key index, and the partial index of migration 0003)."""
    # The predicate the partial index of migration 0004 is built on: keep them the same.
    human = JourneyEvent.objects.filter(application_id=OuterRef("pk"), at__lt=end).filter(
        Q(to_state=HUMAN_STATE) | Q(kind=HUMAN_KIND)
    )
    uploads = upload_definition_ids()
    in_period = Q(submitted_at__gte=start, submitted_at__lt=end) | Q(
        completed_at__gte=start, completed_at__lt=end
    )
    completed = Q(completed_at__gte=start, completed_at__lt=end) & (
        Q(state="issued") | (Q(state="rejected") & ~Q(decision_reasons=[]))
    )
    manual = Q(human=True) | Q(definition_id__in=uploads)
    rows = (
        Application.objects.filter(in_period)
        .annotate(human=Exists(human))
        .values("definition__service_id", "agency_id")
        .annotate(
            applications=Count("id"),
            submitted=Count("id", filter=Q(submitted_at__gte=start, submitted_at__lt=end)),
            completed=Count("id", filter=completed),
            automatic=Count("id", filter=completed & ~manual),
            manual=Count("id", filter=manual),
        )
        .order_by()
    )
    out: dict[int, dict] = {}
    connection = connections[rows.db]
    if connection.vendor == "postgresql":
        # A cheap query the planner costs high (a semi-join per row): JIT compiling it took
        # longer than running it (benchmarks/oversight/observed.py). Off for this query: in
        # its own transaction, or (already in one) for the rest of the caller's transaction.
        outer = connection.in_atomic_block
        with transaction.atomic(using=rows.db, savepoint=False) if not outer else nullcontext():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
            rows = list(rows)
    for r in rows:
        s = out.setdefault(
            r["definition__service_id"],
            {"agency_id": r["agency_id"], "applications": 0, "submitted": 0, "completed": 0,
             "automatic": 0, "manual": 0},
        )  # fmt: skip
        for key in ("applications", "submitted", "completed", "automatic", "manual"):
            s[key] += r[key]
    return out


def smart_flag_disagreements() -> dict[str, list[str]]:
    """Where the catalogue's smart flag and the definitions disagree, by service ID: cards
    marked smart (approved) with no published, AEO-certified smart definition
    ("marked_without_definition"), and cards with one that the catalogue does not mark smart
    ("definition_without_mark"). Both empty when a card is smart exactly when it has one."""
    from panjereh.catalogue.models import Service
    from panjereh.catalogue.vocab import SmartStatus

    certified = certified_smart_service_ids()
    marked = set(
        Service.objects.filter(smart_status=SmartStatus.APPROVED).values_list("pk", flat=True)
    )
    ids = dict(Service.objects.filter(pk__in=certified ^ marked).values_list("pk", "service_id"))
    return {
        "marked_without_definition": sorted(str(ids[pk]) for pk in marked - certified),
        "definition_without_mark": sorted(str(ids[pk]) for pk in certified - marked),
    }


def services_of_applications(tracking_codes) -> dict[str, int]:
    """The catalogue service (card pk) of each application, by tracking code (what a payment
    of an application names as its ``purpose_id``); unknown codes are left out."""
    codes = list(dict.fromkeys(str(c) for c in tracking_codes))
    out: dict[str, int] = {}
    for i in range(0, len(codes), 1000):  # bounded IN lists
        out.update(
            Application.objects.filter(tracking_code__in=codes[i : i + 1000]).values_list(
                "tracking_code", "definition__service_id"
            )
        )
    return out


# -- what a person holds (the personal app's "my documents") ------------------------------------


def documents_held_by(user, number: str | None = None) -> list:
    """The signed documents (certificates) of ``user``'s applications, newest first; with
    ``number``, only that one (if theirs). Rows with their agency and definition."""
    from .models import Document

    rows = Document.objects.filter(application__user=user).exclude(token="")
    if number is not None:
        rows = rows.filter(number=number)
    return list(
        rows.select_related("agency", "application__definition").order_by("-issued_at", "-pk")
    )


def receipts_held_by(user, number: str | None = None) -> list:
    """The signed receipts of the fees ``user`` paid, newest first (``number``: that one)."""
    from .models import Receipt

    rows = Receipt.objects.filter(application__user=user).exclude(token="")
    if number is not None:
        rows = rows.filter(number=number)
    return list(
        rows.select_related("agency", "application__definition").order_by("-issued_at", "-pk")
    )


def applications_waiting_for(user, limit: int = 20) -> list[Application]:
    """``user``'s open applications whose next step is theirs (the fee to pay)."""
    from .models import State

    return list(
        Application.objects.filter(user=user, state=State.AWAITING_PAYMENT)
        .select_related("definition")
        .order_by("-submitted_at")[:limit]
    )


def latest_applications(user, limit: int = 5) -> list[Application]:
    """``user``'s latest applications, newest first."""
    return list(
        Application.objects.filter(user=user)
        .select_related("definition")
        .order_by("-submitted_at")[:limit]
    )
