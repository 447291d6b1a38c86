"""What other apps (and the pages) may read about proactive services."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Consent, Firing


def consents(user) -> bool:
    """Whether the person's latest decision about proactive services is consent."""
    latest = Consent.objects.filter(user=user).order_by("-at", "-id").values("given").first()
    return bool(latest and latest["given"])


def history(user) -> QuerySet[Consent]:
    """The person's decisions, the latest first."""
    return Consent.objects.filter(user=user).order_by("-at", "-id")


def started_for(user) -> QuerySet[Firing]:
    """The services started for the person by life events, the latest first."""
    return (
        Firing.objects.filter(user=user, outcome=Firing.Outcome.STARTED)
        .select_related("application__definition")
        .order_by("-at", "-id")
    )
