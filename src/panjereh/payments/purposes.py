"""What a payment pays for: the apps above payments say what happens when it is paid.

Payments knows nothing of applications or permits (it is below them in the dependency order,
docs/architecture.md). An app that takes payments registers a :class:`Purpose` for its kind
in its ``AppConfig.ready`` (services: ``application``; permits: ``permit``; payments itself:
``bill``, :mod:`.billing`), like a provider
module registers with :mod:`.providers`.

Telling the purpose is an **outbox**: a captured payment has ``purpose_told_at`` empty until
its purpose's ``paid`` handler has run and returned. It is run right after the capture commits
and again by the job ``payments-tell-purposes`` for any captured payment whose purpose was not
told (the process died, the handler raised), so a paid application never waits for ever. A
handler is therefore called at least once and must be idempotent (an application already past
``awaiting_payment`` stays as it is).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .models import PAID_STATES, Payment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purpose:
    """``paid(payment)`` runs once the payment is captured (at least once: idempotent);
    ``page(payment)`` is the address of what was paid for, for the payer (or "")."""

    paid: Callable[[Payment], None]
    page: Callable[[Payment], str] = lambda payment: ""


_PURPOSES: dict[str, Purpose] = {}


def register(kind: str, purpose: Purpose) -> None:
    """Called from an app's ``ready``; registering the same kind again replaces it."""
    _PURPOSES[kind] = purpose


def registered(kind: str) -> Purpose | None:
    return _PURPOSES.get(kind)


def page_of(payment: Payment) -> str:
    purpose = _PURPOSES.get(payment.purpose_kind)
    try:
        return purpose.page(payment) if purpose else ""
    except Exception:  # a page address is a convenience: never fail the payment page for it
        log.exception("payment %s: the address of what it pays for failed", payment.reference)
        return ""


def tell(payment_id: int) -> bool:
    """Run the purpose's ``paid`` handler for a captured payment not told yet; True when told.

    A kind nobody registered is marked told with nothing run (bills register ``billing``)."""
    payment = Payment.objects.filter(
        pk=payment_id, state__in=PAID_STATES, purpose_told_at__isnull=True
    ).first()
    if payment is None:
        return False
    purpose = _PURPOSES.get(payment.purpose_kind)
    if purpose is not None:
        try:
            purpose.paid(payment)
        except Exception:
            log.exception(
                "payment %s: telling its %s failed", payment.reference, payment.purpose_kind
            )
            return False
    Payment.objects.filter(pk=payment.pk, purpose_told_at__isnull=True).update(
        purpose_told_at=timezone.now()
    )
    return True


def tell_on_commit(payment: Payment) -> None:
    """After the capture's transaction commits (at once outside one)."""
    pk = payment.pk
    transaction.on_commit(lambda: tell(pk))


def tell_due(limit: int = 200, *, grace_seconds: float = 30) -> int:
    """The job: captured payments whose purpose was not told (older than the grace period, so
    that the first try right after the capture is not raced)."""
    cutoff = timezone.now() - dt.timedelta(seconds=grace_seconds)
    due = list(
        Payment.objects.filter(
            state__in=PAID_STATES, purpose_told_at__isnull=True, captured_at__lte=cutoff
        )
        .order_by("captured_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in due if tell(pk))
