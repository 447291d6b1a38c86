"""Write use cases of the exchange that are not grant decisions (those are in :mod:`.grants`).

Each function checks who may act, runs in one transaction and records what it did.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency, AgencyMembership, Service

from . import grants
from .models import DataService, Grant, GrantState

SWITCHING_ROLES = ("admin", "editor")


def can_switch_service(user, service: DataService) -> bool:
    """The platform operator (a superuser or the ITO group), or an administrator or editor of
    the service's provider agency."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", True):
        return False
    if user.is_superuser or roles.has_role(user, roles.ITO):
        return True
    return AgencyMembership.objects.filter(
        user=user, agency_id=service.provider_id, role__in=SWITCHING_ROLES
    ).exists()


def set_service_enabled(service: DataService, enabled: bool, *, actor, reason: str = "") -> bool:
    """Enable or disable a data service; whether it changed. The gateway refuses calls to a
    disabled service (``service_disabled``) from its next call in every process (the save
    moves the gateway's shared generation). Each switch is a row of Django's admin log with
    the reason."""
    if not can_switch_service(actor, service):
        raise PermissionDenied(
            _("Only the provider's administrators and editors switch a service.")
        )
    with transaction.atomic():
        locked = DataService.objects.select_for_update().get(pk=service.pk)
        if locked.enabled == enabled:
            service.enabled = enabled
            return False
        locked.enabled = enabled
        locked.save(update_fields=["enabled", "updated_at"])
        text = (
            "enabled in the exchange back office"
            if enabled
            else "disabled in the exchange back office"
        )
        LogEntry.objects.log_actions(
            actor.pk,
            DataService.objects.filter(pk=locked.pk),
            CHANGE,
            change_message=f"{text}: {reason}" if reason else text,
            single_object=True,
        )
    service.enabled = enabled
    return True


def ensure_grant(
    consumer: Agency,
    service: DataService,
    items: list[str],
    *,
    actor,
    purpose: Service,
    resolution_number: str,
    resolution_session: str = "1",
    valid_days: int = 365,
) -> Grant:
    """An active (approved or implemented) grant of ``items`` of ``service`` to ``consumer`` for
    ``purpose``: the one that already covers them, else a new one requested and approved under
    ``resolution_number``, valid ``valid_days`` from today. Idempotent: a second call returns the
    first call's grant.

    For setting up the demo, the benchmarks and the tests; in production the Interoperability
    Working Group decides each grant in the back office. The rights are those of
    :func:`.grants.request_grant` and :func:`.grants.approve`: ``actor`` must both edit for the
    consumer and decide grants (``roles.SYSTEM`` does)."""
    wanted = set(items)
    with transaction.atomic():
        # One provisioning at a time per consumer, so that two at once make one grant.
        Agency.objects.select_for_update().filter(pk=consumer.pk).first()
        active = Grant.objects.filter(
            consumer=consumer,
            service=service,
            purpose=purpose,
            state__in=[GrantState.APPROVED, GrantState.IMPLEMENTED],
        ).order_by("pk")
        for grant in active:
            if wanted <= set(grant.items or grant.requested_items):
                return grant
        grant = grants.request_grant(consumer, service, sorted(wanted), purpose, actor=actor)
        today = timezone.localdate()
        return grants.approve(
            grant,
            resolution_number=resolution_number,
            resolution_session=resolution_session,
            resolution_date=today,
            valid_until=today + dt.timedelta(days=valid_days),
            actor=actor,
        )


def ensure_grants(
    wanted: list[tuple[Agency, DataService, list[str], Service]],
    *,
    actor,
    resolution_number: str,
    resolution_session: str = "1",
    valid_days: int = 365,
) -> int:
    """:func:`ensure_grant` for many (consumer, service, items, purpose) at once: those no
    active grant covers get one, requested and approved, in one transaction with a few bulk
    inserts (the demo's first start grants the data of two thousand definitions). The same
    rights, checks and rows as one by one: the grant, its ``requested`` event and its
    ``approved`` event with the decision's facts, as :func:`.grants.transition` records them.
    The number of grants made."""
    from .gateway import configuration_changed
    from .models import GrantEvent

    roles.require(
        actor,
        roles.DECIDE_GRANTS,
        message=_("Only the Interoperability Working Group decides grants."),
    )
    editing = None if roles.is_system(actor) else roles.agencies_for(actor, roles.EDIT)
    asked: dict[tuple[int, int, int], tuple[Agency, DataService, set[str], Service]] = {}
    for consumer, service, items, purpose in wanted:
        if editing is not None and consumer.pk not in editing:
            raise roles.NotPermitted(_("Only an agency's administrators and editors request data."))
        if purpose.agency_id != consumer.pk:
            raise ValidationError(
                {"purpose": [_("The purpose must be a service of the consumer agency.")]}
            )
        if not items or set(items) - set(service.item_codes):
            raise ValidationError({"items": [_("Ask for one or more data items of this service.")]})
        key = (consumer.pk, service.pk, purpose.pk)
        if key in asked:
            asked[key][2].update(items)
        else:
            asked[key] = (consumer, service, set(items), purpose)
    if not asked:
        return 0
    now = timezone.now()
    today = timezone.localdate()
    decision = {
        "resolution_number": resolution_number.strip(),
        "resolution_session": resolution_session.strip(),
        "resolution_date": today,
        "valid_until": today + dt.timedelta(days=valid_days),
        "implementation_deadline": None,
    }
    person = roles.person(actor)
    with transaction.atomic():
        consumers = sorted({key[0] for key in asked})
        # One provisioning at a time per consumer, as ensure_grant.
        list(Agency.objects.select_for_update().filter(pk__in=consumers).values_list("pk"))
        held: dict[tuple[int, int, int], list[set[str]]] = {}
        for grant in Grant.objects.filter(
            consumer_id__in=consumers, state__in=[GrantState.APPROVED, GrantState.IMPLEMENTED]
        ).only("consumer_id", "service_id", "purpose_id", "items", "requested_items"):
            key = (grant.consumer_id, grant.service_id, grant.purpose_id)
            held.setdefault(key, []).append(set(grant.items or grant.requested_items))
        new = [
            Grant(
                consumer=consumer,
                service=service,
                purpose=purpose,
                requested_items=sorted(items),
                items=sorted(items),
                state=GrantState.APPROVED,
                requested_at=now,
                decided_at=now,
                requested_by=person,
                **decision,
            )
            for key, (consumer, service, items, purpose) in asked.items()
            if not any(items <= covered for covered in held.get(key, []))
        ]
        Grant.objects.bulk_create(new, batch_size=1000)
        GrantEvent.objects.bulk_create(
            [
                event
                for grant in new
                for event in (
                    GrantEvent(grant=grant, to_state=GrantState.REQUESTED, at=now, actor=person),
                    GrantEvent(
                        grant=grant,
                        from_state=GrantState.REQUESTED,
                        to_state=GrantState.APPROVED,
                        at=now,
                        actor=person,
                        data={
                            "items": grant.items,
                            **{
                                k: v.isoformat() if isinstance(v, dt.date) else v
                                for k, v in decision.items()
                            },
                        },
                    ),
                )
            ],
            batch_size=2000,
        )
        configuration_changed()  # bulk inserts send no post_save: the gateway reads grants again
    return len(new)
