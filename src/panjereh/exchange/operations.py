"""Write use cases of the exchange that are not grant decisions (those are in :mod:`.grants`).

Each function checks who may act, runs in one transaction and records what it did.
"""

from __future__ import annotations

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.catalogue.models import AgencyMembership

from .models import DataService

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
