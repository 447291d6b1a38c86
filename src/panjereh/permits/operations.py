"""Every write to the permits catalogue, with its rights checked here.

Rights come from the one table, :mod:`panjereh.catalogue.roles`: the staff of the issuing
authority's agency with the *edit* capability (its editors and admins) draft, edit and publish
that authority's permits; platform roles read every permit but write none (a supervisor is no
authority's staff); the register of removed conditions is kept by the platform's operators
(the *administer* capability of a platform role: AEO, ITO). :data:`roles.SYSTEM` (the seeder)
may do everything.

A condition that asks again what the register removed is refused, naming the resolution that
removed it, when it is put in a draft and again when a version is published (the register may
have grown in between); each refusal is written as a :class:`ReintroductionAttempt` in its own
transaction, so it is kept although nothing else changes.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.common import statemachine
from panjereh.common.persian import to_persian_digits
from panjereh.common.templatetags import persian as persian_filters

from . import matching, search
from .models import (
    Condition,
    ConditionKind,
    IssuingAuthority,
    PermitKind,
    PermitType,
    PermitVersion,
    ReintroductionAttempt,
    RemovalBody,
    RemovedCondition,
    Resolution,
    VersionState,
)

MAX_CONDITIONS = 60
MAX_TEXT = 500
MAX_TITLE = 300
MAX_LEGAL_DAYS = 365

# Characters no permit text needs and that can hide or reorder what a reader sees.
_FORBIDDEN = {chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)}
_FORBIDDEN |= {chr(c) for c in range(0x7F, 0xA0)}
_FORBIDDEN |= {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068"}
_FORBIDDEN |= {"\u2069", "\ufffe", "\uffff"}


class PermitError(ValidationError):
    """A write refused for a reason a person can act on (the message says which)."""


class InvalidTransition(statemachine.InvalidTransition, PermitError):
    pass


class Reintroduced(PermitError):
    """A condition asks again what a resolution removed."""

    def __init__(self, removed: RemovedCondition, text: str):
        self.removed, self.text = removed, text
        super().__init__(reintroduction_message(removed, text))


def resolution_label(resolution: Resolution) -> str:
    persian = (translation.get_language() or "fa").startswith("fa")
    return _("%(body)s resolution no. %(number)s of %(date)s") % {
        "body": resolution.get_body_display(),
        "number": to_persian_digits(resolution.number) if persian else resolution.number,
        "date": persian_filters.jdate(resolution.date),
    }


def reintroduction_message(removed: RemovedCondition, text: str) -> str:
    return _(
        "“%(text)s” asks again for “%(removed)s”, which %(resolution)s removed. "
        "A removed condition cannot come back."
    ) % {
        "text": text,
        "removed": removed.wording_fa
        if (translation.get_language() or "fa").startswith("fa") or not removed.wording_en
        else removed.wording_en,
        "resolution": resolution_label(removed.resolution),
    }


MACHINE = statemachine.Machine(
    {
        VersionState.DRAFT: {VersionState.PUBLISHED},
        VersionState.PUBLISHED: {VersionState.SUPERSEDED},
        VersionState.SUPERSEDED: set(),
    },
    message=lambda version, to: (
        _("Version %(n)s is %(state)s: it cannot become %(to)s.")
        % {
            "n": version.number,
            "state": version.get_state_display(),
            "to": VersionState(to).label,
        }
    ),
    error=InvalidTransition,
)


# -- rights ---------------------------------------------------------------------------------


def can_edit(actor, authority: IssuingAuthority) -> bool:
    """Whether ``actor`` drafts and publishes ``authority``'s permits: its agency's editors and
    admins, a superuser, the system. Platform roles read only."""
    if roles.is_system(actor):
        return True
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if actor.is_superuser:
        return True
    return authority.agency_id is not None and authority.agency_id in roles.agencies_for(
        actor, roles.EDIT
    )


def _require_edit(actor, authority: IssuingAuthority) -> None:
    if not can_edit(actor, authority):
        raise roles.NotPermitted(_("Only the issuing authority’s staff may change its permits."))


def can_keep_register(actor) -> bool:
    """Whether ``actor`` records removals (a platform operator with *administer*)."""
    if roles.is_system(actor):
        return True
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return actor.is_superuser or roles.ADMINISTER in roles.platform_capabilities(actor)


# -- checks on what is typed ----------------------------------------------------------------


def clean_text(value: Any, *, label: str, required: bool, limit: int) -> str:
    """``value`` as one tidy line, or :class:`PermitError` saying what is wrong with it."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise PermitError(_("%(label)s must be text.") % {"label": label})
    if any(
        char in _FORBIDDEN or unicodedata.category(char) in ("Cs", "Co", "Cn") for char in value
    ):
        raise PermitError(
            _("%(label)s holds a character that cannot be shown (a control character).")
            % {"label": label}
        )
    value = unicodedata.normalize("NFC", " ".join(value.split()))
    if required and not value:
        raise PermitError(_("Enter %(label)s.") % {"label": label})
    if len(value) > limit:
        raise PermitError(
            _("%(label)s must be %(limit)s characters or fewer.") % {"label": label, "limit": limit}
        )
    return value


def _clean_condition(raw: Mapping[str, Any], n: int) -> dict[str, Any]:
    kind = raw.get("kind")
    if kind not in ConditionKind.values:
        raise PermitError(_("Condition %(n)s: choose what kind of condition it is.") % {"n": n})
    return {
        "kind": kind,
        "text_fa": clean_text(
            raw.get("text_fa"),
            label=_("Condition %(n)s in Persian") % {"n": n},
            required=True,
            limit=MAX_TEXT,
        ),
        "text_en": clean_text(
            raw.get("text_en"),
            label=_("Condition %(n)s in English") % {"n": n},
            required=False,
            limit=MAX_TEXT,
        ),
        "basis_fa": clean_text(
            raw.get("basis_fa"),
            label=_("The legal basis of condition %(n)s") % {"n": n},
            required=True,
            limit=MAX_TITLE,
        ),
        "basis_en": clean_text(
            raw.get("basis_en"),
            label=_("The English legal basis of condition %(n)s") % {"n": n},
            required=False,
            limit=MAX_TITLE,
        ),
    }


def _clean_conditions(conditions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    conditions = list(conditions)
    if len(conditions) > MAX_CONDITIONS:
        raise PermitError(
            _("A permit may list at most %(max)s conditions.") % {"max": MAX_CONDITIONS}
        )
    for raw in conditions:
        if not isinstance(raw, Mapping):
            raise PermitError(_("Each condition must be a set of fields."))
    return [_clean_condition(raw, n) for n, raw in enumerate(conditions, start=1)]


def _write_conditions(version: PermitVersion, rows: list[dict[str, Any]]) -> None:
    Condition.objects.bulk_create(
        Condition(version=version, position=n, **row) for n, row in enumerate(rows, start=1)
    )


def _clean_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    cleaned = {
        "title_fa": clean_text(
            fields.get("title_fa"), label=_("the Persian title"), required=True, limit=MAX_TITLE
        ),
        "title_en": clean_text(
            fields.get("title_en"), label=_("the English title"), required=False, limit=MAX_TITLE
        ),
        "summary_fa": clean_text(
            fields.get("summary_fa"), label=_("the Persian summary"), required=False, limit=2000
        ),
        "summary_en": clean_text(
            fields.get("summary_en"), label=_("the English summary"), required=False, limit=2000
        ),
        "registration_based": bool(fields.get("registration_based", False)),
    }
    days = fields.get("legal_days", 0)
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_LEGAL_DAYS:
        raise PermitError(
            _("The legal time must be a whole number of days from 0 to %(max)s.")
            % {"max": MAX_LEGAL_DAYS}
        )
    cleaned["legal_days"] = days
    return cleaned


# -- the register ---------------------------------------------------------------------------


def register_entries() -> list[tuple[matching.Entry, RemovedCondition]]:
    """Every removed condition, ready for matching."""
    rows = RemovedCondition.objects.select_related("resolution")
    return [
        (matching.entry(row.pk, row.key, [row.wording_fa, row.wording_en, *row.phrases]), row)
        for row in rows
    ]


def find_reintroduced(texts: Iterable[str], entries=None) -> tuple[RemovedCondition, str] | None:
    """The first removed condition one of ``texts`` asks again, with that text."""
    entries = register_entries() if entries is None else entries
    for text in texts:
        for item, row in entries:
            if matching.matches(text, item):
                return row, text
    return None


def _refuse(
    actor,
    found,
    *,
    authority: IssuingAuthority,
    title: str,
    permit: PermitType | None = None,
    version: PermitVersion | None = None,
) -> None:
    removed, text = found
    # Its own transaction (and written before raising), so the record stays when the caller's
    # work is rolled back by the refusal.
    with transaction.atomic():
        ReintroductionAttempt.objects.create(
            by=roles.person(actor),
            authority=authority,
            permit=permit,
            permit_title=title[:MAX_TITLE],
            version=version,
            condition_text=text[:MAX_TEXT],
            removed=removed,
        )
    raise Reintroduced(removed, text)


def _condition_texts(conditions: Iterable[Mapping[str, Any]]) -> list[str]:
    texts: list[str] = []
    for condition in conditions:
        texts.extend(t for t in (condition["text_fa"], condition.get("text_en", "")) if t)
    return texts


def record_removal(
    actor,
    *,
    key: str,
    kind: str,
    wording_fa: str,
    wording_en: str = "",
    phrases: Iterable[str] = (),
    body: str,
    number: str,
    date: dt.date,
    permit_types: Iterable[PermitType] = (),
) -> RemovedCondition:
    """Enter a removed condition in the register with the resolution that removed it."""
    if not can_keep_register(actor):
        raise roles.NotPermitted(_("Only the platform’s operators keep the register."))
    if body not in RemovalBody.values:
        raise PermitError(_("Choose the body that passed the resolution."))
    if kind not in ConditionKind.values:
        raise PermitError(_("Choose what kind of condition was removed."))
    wording_fa = clean_text(wording_fa, label=_("the wording"), required=True, limit=MAX_TITLE)
    wording_en = clean_text(
        wording_en, label=_("the English wording"), required=False, limit=MAX_TITLE
    )
    number = clean_text(number, label=_("the resolution number"), required=True, limit=40)
    phrases = [
        clean_text(p, label=_("a key phrase"), required=True, limit=MAX_TITLE) for p in phrases
    ]
    with transaction.atomic():
        resolution, _created = Resolution.objects.get_or_create(
            body=body, number=number, defaults={"date": date}
        )
        removed = RemovedCondition.objects.create(
            key=key,
            kind=kind,
            wording_fa=wording_fa,
            wording_en=wording_en,
            phrases=phrases,
            resolution=resolution,
        )
        removed.permit_types.set(list(permit_types))
    return removed


# -- permits and versions -------------------------------------------------------------------


def next_public_id() -> str:
    """Permit IDs are ten digits starting with 9 (service IDs start lower), in order."""
    last = PermitType.objects.order_by("-public_id").values_list("public_id", flat=True).first()
    return str(int(last) + 1) if last else "9000000001"


def create_permit_type(
    actor,
    *,
    authority: IssuingAuthority,
    kind: str,
    fields: Mapping[str, Any],
    conditions: Iterable[Mapping[str, Any]] = (),
    activity_code: str = "",
) -> PermitVersion:
    """A new permit type with its first version, a draft (nothing public until published)."""
    _require_edit(actor, authority)
    if kind not in PermitKind.values:
        raise PermitError(_("Choose the kind of permit."))
    cleaned = _clean_fields(fields)
    activity_code = clean_text(
        activity_code, label=_("the activity code"), required=False, limit=10
    )
    rows = _clean_conditions(conditions)
    found = find_reintroduced(_condition_texts(rows))
    if found:
        _refuse(actor, found, authority=authority, title=cleaned["title_fa"])
    with transaction.atomic():
        permit = PermitType.objects.create(
            public_id=next_public_id(),
            kind=kind,
            authority=authority,
            activity_code=activity_code,
            **cleaned,
        )
        version = PermitVersion.objects.create(
            permit=permit, number=1, created_by=roles.person(actor), **cleaned
        )
        _write_conditions(version, rows)
    return version


def start_version(actor, permit: PermitType) -> PermitVersion:
    """A draft copied from the published version (or the existing draft: one at a time)."""
    _require_edit(actor, permit.authority)
    with transaction.atomic():
        locked = PermitType.objects.select_for_update().get(pk=permit.pk)
        draft = locked.versions.filter(state=VersionState.DRAFT).first()
        if draft:
            return draft
        source = locked.published_version
        if source is None:
            raise PermitError(_("This permit has no published version to start from."))
        number = (locked.versions.order_by("-number").values_list("number", flat=True).first()) + 1
        draft = PermitVersion.objects.create(
            permit=locked,
            number=number,
            created_by=roles.person(actor),
            title_fa=source.title_fa,
            title_en=source.title_en,
            summary_fa=source.summary_fa,
            summary_en=source.summary_en,
            registration_based=source.registration_based,
            legal_days=source.legal_days,
        )
        Condition.objects.bulk_create(
            Condition(
                version=draft,
                position=c.position,
                kind=c.kind,
                text_fa=c.text_fa,
                text_en=c.text_en,
                basis_fa=c.basis_fa,
                basis_en=c.basis_en,
            )
            for c in source.conditions.all()
        )
    return draft


def update_draft(
    actor,
    version: PermitVersion,
    *,
    fields: Mapping[str, Any],
    conditions: Iterable[Mapping[str, Any]],
) -> PermitVersion:
    """Replace a draft's wording and conditions. A condition the register removed is refused
    (with the resolution named, the attempt recorded) and the draft is left as it was."""
    permit = version.permit
    _require_edit(actor, permit.authority)
    if version.state != VersionState.DRAFT:
        raise PermitError(_("Only a draft can be edited: start a new version."))
    cleaned = _clean_fields(fields)
    rows = _clean_conditions(conditions)
    found = find_reintroduced(_condition_texts(rows))
    if found:
        _refuse(
            actor,
            found,
            authority=permit.authority,
            title=cleaned["title_fa"],
            permit=permit,
            version=version,
        )
    with transaction.atomic():
        locked = PermitVersion.objects.select_for_update().get(pk=version.pk)
        if locked.state != VersionState.DRAFT:
            raise PermitError(_("Only a draft can be edited: start a new version."))
        for name, value in cleaned.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(cleaned))
        locked.conditions.all().delete()
        _write_conditions(locked, rows)
    for name, value in cleaned.items():
        setattr(version, name, value)
    return version


def publish(actor, version: PermitVersion) -> PermitVersion:
    """Publish a draft: the previous published version becomes history and the catalogue
    shows this one. Refused, with nothing published, if a condition asks again what the
    register removed."""
    permit = version.permit
    _require_edit(actor, permit.authority)
    if not version.conditions.exists():
        raise PermitError(_("A permit lists at least one condition before it is published."))
    texts = [
        text
        for pair in version.conditions.values_list("text_fa", "text_en")
        for text in pair
        if text
    ]
    found = find_reintroduced(texts)
    if found:
        _refuse(
            actor,
            found,
            authority=permit.authority,
            title=version.title_fa,
            permit=permit,
            version=version,
        )
    now = timezone.now()
    with transaction.atomic():
        locked = PermitType.objects.select_for_update().get(pk=permit.pk)
        previous = locked.published_version
        if previous is not None:
            MACHINE.move(previous, VersionState.SUPERSEDED)
        MACHINE.move(
            version, VersionState.PUBLISHED, published_by=roles.person(actor), published_at=now
        )
        for name in (
            "title_fa",
            "title_en",
            "summary_fa",
            "summary_en",
            "registration_based",
            "legal_days",
        ):
            setattr(locked, name, getattr(version, name))
        locked.published_version = version
        locked.save()
        transaction.on_commit(search.invalidate)
    search.invalidate()
    permit.refresh_from_db()
    return version
