"""Who may do what: the one place the window answers it.

Two kinds of right exist:

- **Agency capabilities** come from an ``AgencyMembership`` and hold only in that agency:
  a *viewer* reads; an *editor* also decides (applications in human review, cases, complaints
  routed to the agency as a supervising body, consultations), replies to ratings and edits the
  agency's service cards; an *admin* also revokes signed documents and administers the agency
  (its record and its staff).
- **Platform capabilities** come from a platform role (a Django group) and hold everywhere:
  AEO assigns service IDs and certifies, the Steering WG approves smart services and judges
  every complaint, the Interoperability WG decides data-exchange grants, ITO runs the platform
  (status incidents, evaluation rounds), the evaluator scores, moderators moderate public texts;
  every platform role reads every agency's figures (they are the *supervisors*).

A superuser holds every capability (Django's convention). :data:`SYSTEM` is the actor of work
the window does by itself (the worker, the monitor, migrations, seeding, imports run by an
operator): it holds every capability, and it is never a person, so an operation called with
no actor (``None``) is refused instead of silently skipping its checks. Operations ask
:func:`require` (or :func:`can`) and record :func:`person` as the author.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

AEO = "AEO"  # Administrative and Employment Organization: service IDs, certification
ITO = "ITO"  # IT Organization: runs the platform
INTEROP_WG = "Interoperability WG"
STEERING_WG = "Steering WG"
EVALUATOR = "Evaluator"
MODERATORS = "Participation moderators"  # group created by the participation app's migration
ALL_ROLES = [AEO, ITO, INTEROP_WG, STEERING_WG, EVALUATOR]
# The platform roles that oversee every agency (dashboards, feedback figures, complaints lists).
SUPERVISORS = (AEO, ITO, STEERING_WG, INTEROP_WG, EVALUATOR)

# -- capabilities --------------------------------------------------------------------------
# Held in one agency, through a membership.
READ = "read"  # see the agency's queues, figures and cards
DECIDE = "decide"  # decide applications, take cases, judge complaints routed to the agency
REPLY = "reply"  # answer citizens' ratings in the agency's name
EDIT = "edit"  # edit the agency's service cards, manage its consultations and smartening plans
REVOKE = "revoke"  # revoke a signed document the agency issued
ADMINISTER = "administer"  # the agency's own record and staff
APPOINTMENTS = "appointments"  # keep the agency's appointment book: offices, slots, attendance
# Held everywhere, through a platform role.
SUPERVISE = "supervise"  # read every agency; record the legal obligations' status
ASSIGN_SERVICE_IDS = "assign_service_ids"
CERTIFY = "certify"  # AEO: certify a service or a smartening plan as smart-eligible
APPROVE_SMART = "approve_smart"  # Steering WG: approve smart services and plans
JUDGE_COMPLAINTS = "judge_complaints"  # Steering WG: complaints and escalations of any agency
DECIDE_GRANTS = "decide_grants"  # Interoperability WG: approve, reject, revoke grants
OPERATE = "operate"  # ITO: status incidents, evaluation rounds
EVALUATE = "evaluate"  # the independent evaluator records scores
MODERATE = "moderate"  # moderators: approve or reject public texts

# Judges: members of the group JUDGE (created by the assets app's migration) who are also staff of
# an agency; the assets operations accept only the judiciary's.
JUDGE = "Judge"
INQUIRE_ASSETS = "inquire_assets"  # ask the asset registries about a case's party; freeze

MEMBERSHIP_CAPABILITIES: dict[str, frozenset[str]] = {
    "viewer": frozenset({READ}),
    "editor": frozenset({READ, DECIDE, REPLY, EDIT, APPOINTMENTS}),
    "admin": frozenset({READ, DECIDE, REPLY, EDIT, REVOKE, ADMINISTER, APPOINTMENTS}),
}
PLATFORM_CAPABILITIES: dict[str, frozenset[str]] = {
    AEO: frozenset({SUPERVISE, READ, EDIT, ADMINISTER, ASSIGN_SERVICE_IDS, CERTIFY}),
    ITO: frozenset({SUPERVISE, READ, EDIT, ADMINISTER, OPERATE}),
    STEERING_WG: frozenset({SUPERVISE, READ, APPROVE_SMART, JUDGE_COMPLAINTS}),
    INTEROP_WG: frozenset({SUPERVISE, READ, DECIDE_GRANTS}),
    EVALUATOR: frozenset({SUPERVISE, READ, EVALUATE}),
    MODERATORS: frozenset({MODERATE}),
}


class NotPermitted(PermissionDenied):
    """The actor lacks the capability (a 403 in a view)."""

    def __init__(self, message=None, capability: str = ""):
        self.capability = capability
        super().__init__(message or _("You are not allowed to do this."))


class _System:
    """The window itself, acting without a person: holds every capability."""

    is_authenticated = True
    is_anonymous = False
    is_superuser = False
    is_active = True
    pk = None
    id = None

    def __repr__(self) -> str:
        return "SYSTEM"

    def __str__(self) -> str:
        return "system"

    def __reduce__(self):
        return "SYSTEM"


SYSTEM = _System()


def is_system(actor) -> bool:
    return actor is SYSTEM


def person(actor):
    """The user to record as the author of a write (None for :data:`SYSTEM`)."""
    return None if actor is SYSTEM else actor


def ensure_groups() -> None:
    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


def _authenticated(user) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def has_role(user, role: str) -> bool:
    if user is SYSTEM:
        return True
    if not _authenticated(user):
        return False
    if user.is_superuser:
        return True
    cache = getattr(user, "_panjereh_roles", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._panjereh_roles = cache
    return role in cache


def platform_capabilities(user) -> frozenset[str]:
    """What ``user``'s platform roles let them do everywhere."""
    held: set[str] = set()
    for role, capabilities in PLATFORM_CAPABILITIES.items():
        if has_role(user, role):
            held |= capabilities
    return frozenset(held)


def _memberships(user) -> dict[int, str]:
    """{agency id: membership role} of ``user`` (one query, never cached: rights change)."""
    if user is SYSTEM or not _authenticated(user) or not getattr(user, "is_active", True):
        return {}
    return dict(user.agency_memberships.values_list("agency_id", "role"))


def agencies_for(user, capability: str) -> set[int]:
    """The agencies ``user`` acts for with ``capability`` through a membership.

    Platform-wide rights are not listed here (a supervisor is no agency's staff); ask
    :func:`can` without an agency for those.
    """
    return {
        agency_id
        for agency_id, role in _memberships(user).items()
        if capability in MEMBERSHIP_CAPABILITIES.get(role, ())
    }


def can(user, capability: str, agency=None) -> bool:
    """Whether ``user`` may use ``capability`` (in ``agency``, an Agency or its id, if given)."""
    if user is SYSTEM:
        return True
    if not _authenticated(user) or not getattr(user, "is_active", True):
        return False
    if user.is_superuser or capability in platform_capabilities(user):
        return True
    if agency is None:
        return False
    agency_id = getattr(agency, "pk", agency)
    return agency_id is not None and agency_id in agencies_for(user, capability)


def require(user, capability: str, agency=None, message=None) -> None:
    """Raise :class:`NotPermitted` unless :func:`can` ``(user, capability, agency)``."""
    if not can(user, capability, agency):
        raise NotPermitted(message, capability)


def judge_agencies(user) -> set[int]:
    """Agencies where ``user`` sits as a judge (the group :data:`JUDGE` and a membership there;
    a superuser is no judge)."""
    if user is SYSTEM or not _authenticated(user) or getattr(user, "is_superuser", False):
        return set()
    if not has_role(user, JUDGE):
        return set()
    return set(_memberships(user))


def is_supervisor(user) -> bool:
    """A member of a platform role that oversees every agency (or a superuser)."""
    return user is not SYSTEM and can(user, SUPERVISE)


# -- the catalogue's rights, named --------------------------------------------------------------


def agency_ids(user, roles: tuple[str, ...] = ("admin", "editor")) -> set[int]:
    """Agencies where ``user`` holds one of the membership ``roles`` (for the back office's
    querysets; rights are asked with :func:`can`/:func:`agencies_for`)."""
    return {agency_id for agency_id, role in _memberships(user).items() if role in roles}


def can_edit_agency_cards(user, agency_id: int) -> bool:
    return can(user, EDIT, agency_id)


def can_assign_service_ids(user) -> bool:
    return can(user, ASSIGN_SERVICE_IDS)


def can_certify(user) -> bool:
    return can(user, CERTIFY)


def can_approve_smart(user) -> bool:
    return can(user, APPROVE_SMART)
