"""Read queries over the citizens' applications and their journey log, for other apps.

Oversight's service performance (completion, satisfaction) counts these rows per catalogue
service: from the log as of a moment, or in a monthly roll-up by day. Every function is one
grouped aggregate per measure and returns plain dicts and tuples, never model instances.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from panjereh.common.jalali import TEHRAN

from .models import Application, JourneyEvent

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
