"""Who moderates public texts, and which agencies' consultations a staff user manages.

Moderators are the members of the Django group ``Participation moderators`` (created by this
app's data migration; superusers are moderators too). Agency staff manage consultations of the
agencies where they hold an admin or editor membership, and of no other agency.
"""

from __future__ import annotations

from panjereh.catalogue import roles as catalogue_roles

MODERATORS = "Participation moderators"


def can_moderate(user) -> bool:
    return catalogue_roles.has_role(user, MODERATORS)


def managed_agency_ids(user) -> set[int]:
    return catalogue_roles.agency_ids(user, roles=("admin", "editor"))


def is_citizen(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "national_code", None))
