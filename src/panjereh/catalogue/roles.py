"""Platform roles, held as Django groups, and who may do what in the catalogue."""

from __future__ import annotations

from django.contrib.auth.models import Group

AEO = "AEO"  # Administrative and Employment Organization: service IDs, certification
ITO = "ITO"  # IT Organization: runs the platform
INTEROP_WG = "Interoperability WG"
STEERING_WG = "Steering WG"
EVALUATOR = "Evaluator"
ALL_ROLES = [AEO, ITO, INTEROP_WG, STEERING_WG, EVALUATOR]


def ensure_groups() -> None:
    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


def has_role(user, role: str) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    cache = getattr(user, "_panjereh_roles", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._panjereh_roles = cache
    return role in cache


def agency_ids(user, roles: tuple[str, ...] = ("admin", "editor")) -> set[int]:
    """Agencies whose cards ``user`` may edit (through an admin or editor membership)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(user.agency_memberships.filter(role__in=roles).values_list("agency_id", flat=True))


def can_edit_agency_cards(user, agency_id: int) -> bool:
    return has_role(user, AEO) or has_role(user, ITO) or agency_id in agency_ids(user)


def can_assign_service_ids(user) -> bool:
    return has_role(user, AEO)


def can_certify(user) -> bool:
    return has_role(user, AEO)


def can_approve_smart(user) -> bool:
    return has_role(user, STEERING_WG)
