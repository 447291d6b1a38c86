"""Assurance levels 1-4 (see ``docs/identity.md``) and the evidence behind them.

Levels are cumulative: a level is held only if every lower level is. The level stored on the
user is a cache of :func:`compute_level`, refreshed by :func:`recompute` whenever evidence
changes, so that token issuing and service checks read one integer.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from panjereh.common.templatetags.persian import digits as digits_for_language

from . import audit
from .models import AuthEvent, InPersonCheck, Passkey, User

MAX_LEVEL = 4


@dataclass(frozen=True)
class Step:
    key: str
    level: int
    title: str
    url_name: str | None  # None: done at a counter, not online


STEPS = [
    Step("registry", 1, _("Match with civil registration and mobile ownership"), None),
    Step("photo", 2, _("Photo check against the civil registration photo"), "identity:photo"),
    Step(
        "passkey",
        3,
        _(
            "A passkey on your phone or computer, unlocked with your fingerprint, face or screen lock"
        ),
        "identity:passkeys",
    ),
    Step("in_person", 4, _("Identity check in person at a service counter"), None),
]


def level_steps(level: int) -> list[Step]:
    """The steps a level adds to the level below it (levels are cumulative)."""
    return [step for step in STEPS if step.level == level]


def level_label(level: int) -> str:
    """What a level needs, in words, from :data:`STEPS`: the one definition of the levels that
    every page naming a level shows (and that :func:`compute_level` applies)."""
    level = max(1, min(int(level or 0), MAX_LEVEL))
    titles = [str(step.title) for step in level_steps(level)]
    text = get_text_list(titles, gettext("and"))
    if level == 1:
        return text
    return gettext("%(steps)s, as well as everything level %(below)s needs") % {
        "steps": text,
        "below": digits_for_language(level - 1),
    }


def evidence(user: User) -> dict[str, bool]:
    # Read from the database, not the instance: evidence may have been added by another request.
    facts = User.objects.filter(pk=user.pk).values(
        "registry_verified_at", "mobile_verified_at", "photo_verified_at"
    )[0]
    return {
        "registry": bool(facts["registry_verified_at"] and facts["mobile_verified_at"]),
        "photo": bool(facts["photo_verified_at"]),
        # A live passkey that the device unlocked by verifying the person (passkeys.register).
        "passkey": Passkey.objects.filter(
            user=user, revoked_at__isnull=True, user_verified=True
        ).exists(),
        "in_person": InPersonCheck.objects.filter(user=user).exists(),
    }


def compute_level(user: User) -> int:
    have = evidence(user)
    level = 0
    for target in range(1, MAX_LEVEL + 1):
        if all(have[step.key] for step in STEPS if step.level == target):
            level = target
        else:
            break
    return level


def recompute(user: User, request=None) -> int:
    """Store the level the evidence supports; record a change in the audit trail."""
    new = compute_level(user)
    if new != user.assurance_level:
        old = user.assurance_level
        User.objects.filter(pk=user.pk).update(assurance_level=new)
        user.assurance_level = new
        audit.record(AuthEvent.Kind.LEVEL_CHANGED, request, user=user, old=old, new=new)
    return new


def missing_steps(user: User, target: int) -> list[Step]:
    """What ``user`` still has to do to reach ``target``, in order."""
    have = evidence(user)
    return [step for step in STEPS if step.level <= target and not have[step.key]]


def counts_per_level() -> dict[int, int]:
    """Citizens (people with a national code) per assurance level 0-4, for oversight."""
    counts = {level: 0 for level in range(MAX_LEVEL + 1)}
    rows = (
        User.objects.filter(national_code__isnull=False)
        .values("assurance_level")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["assurance_level"]] = row["n"]
    return counts


def record_in_person_check(user: User, officer: User, office: str, document: str, note=""):
    """An authorised officer records a counter check; the person's level is recomputed."""
    if not officer.has_perm("identity.record_in_person_check"):
        raise PermissionError("officer is not authorised to record in-person checks")
    if officer.pk == user.pk:
        raise PermissionError("an officer cannot check themselves")
    check = InPersonCheck.objects.create(
        user=user, officer=officer, office=office, document=document, note=note
    )
    audit.record(
        AuthEvent.Kind.IN_PERSON_CHECKED, user=user, office=office, officer=officer.username
    )
    recompute(user)
    return check


def mark_photo_checked(user: User, request=None) -> None:
    User.objects.filter(pk=user.pk).update(photo_verified_at=timezone.now())
    user.photo_verified_at = timezone.now()
    audit.record(AuthEvent.Kind.PHOTO_CHECKED, request, user=user, result="match")
    recompute(user, request)
