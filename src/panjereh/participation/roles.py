"""Who moderates public texts, and which agencies' consultations a staff user manages.

The rights are defined once in :mod:`panjereh.catalogue.roles`: moderators are the members of
the Django group ``Participation moderators`` (created by this app's data migration;
superusers are moderators too) and hold ``MODERATE``; agency staff manage the consultations of
the agencies where they hold ``EDIT`` (an admin or editor membership), and of no other agency.
"""

from __future__ import annotations

from panjereh.catalogue import roles as catalogue_roles

MODERATORS = catalogue_roles.MODERATORS


def can_moderate(user) -> bool:
    return catalogue_roles.can(user, catalogue_roles.MODERATE)


def managed_agency_ids(user) -> set[int]:
    return catalogue_roles.agencies_for(user, catalogue_roles.EDIT)


def can_manage(user, agency_id: int) -> bool:
    """Through a membership only: platform roles and superusers run no agency's
    consultations (the window itself does, e.g. closing them on time)."""
    return catalogue_roles.is_system(user) or agency_id in managed_agency_ids(user)


def is_citizen(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "national_code", None))
