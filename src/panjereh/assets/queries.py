"""What the asset pages (and other apps) may read: a judge's inquiries and one inquiry's
results assembled per kind, with totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from panjereh.catalogue import roles

from .models import FreezeItem, Inquiry, RegistryCall
from .operations import INQUIRY, ONLINE_FREEZE, require_own

TOTAL_FIELD = {"banks": "total_balance", "ssaa": "total_value", "stock": "total_value"}


@dataclass
class Kind:
    """One registry's part of an inquiry's results."""

    registry: str
    label: str
    call: RegistryCall
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    online: bool = False

    @property
    def waiting(self) -> bool:
        return self.call.state in (RegistryCall.State.PENDING, RegistryCall.State.RETRYING)


def inquiries_of(actor) -> QuerySet[Inquiry]:
    """The judge's own inquiries, newest first (nobody else's)."""
    if not getattr(actor, "pk", None) or roles.is_system(actor):
        return Inquiry.objects.none()
    return Inquiry.objects.filter(judge=actor).prefetch_related("calls")


def results(inquiry: Inquiry, *, actor) -> list[Kind]:
    """The four registries' answers, in the order of the page, with each kind's total."""
    require_own(actor, inquiry)
    labels = dict(RegistryCall._meta.get_field("registry").choices)
    kinds = []
    for call in inquiry.calls.all():
        rows = []
        if call.state == RegistryCall.State.ANSWERED:
            rows = [
                r for r in call.result.get(INQUIRY[call.registry][3]) or [] if isinstance(r, dict)
            ]
        total_field = TOTAL_FIELD.get(call.registry, "total_value")
        total = call.result.get(total_field) if call.state == RegistryCall.State.ANSWERED else 0
        kinds.append(
            Kind(
                registry=call.registry,
                label=str(labels.get(call.registry, call.registry)),
                call=call,
                rows=rows,
                total=int(total or 0),
                online=call.registry in ONLINE_FREEZE,
            )
        )
    order = {"banks": 0, "ssaa": 1, "stock": 2, "vehicle": 3}
    return sorted(kinds, key=lambda k: order.get(k.registry, 9))


def grand_total(kinds: list[Kind]) -> int:
    return sum(k.total for k in kinds)


def items_of(inquiry: Inquiry) -> QuerySet[FreezeItem]:
    return FreezeItem.objects.filter(order__inquiry=inquiry).select_related(
        "order", "order__ordered_by"
    )


def letter_queue() -> QuerySet[FreezeItem]:
    """Offline freezes (stock, vehicles) waiting for the judiciary staff's letter."""
    return FreezeItem.objects.filter(state=FreezeItem.State.LETTER).select_related(
        "order", "order__inquiry"
    )
