"""Write operations on the catalogue: one function per use case, one transaction each.

Every write checks the rules of the law (:mod:`.rules`), checks who is asking (:mod:`.roles`)
when a user is given, bumps the version and appends an immutable version row. Code that seeds
history (the dataset generator, the importer) passes ``valid_from`` to date the version.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from panjereh.common.persian import normalize, search_key

from . import roles, search
from .models import Agency, AgencyVersion, OnceOnlyJustification, Service, ServiceVersion
from .rules import (
    Violation,
    check_service,
    is_valid_service_id,
    once_only_findings,
)
from .vocab import REGISTRY_ITEMS, SmartStatus

# The actor of the window's own writes (seeding, service definitions, imports run by an
# operator): ``author=operations.SYSTEM``. There is no default: a write without an author is
# refused, it never skips the rights check (see :mod:`.roles`).
SYSTEM = roles.SYSTEM

SERVICE_FIELDS = [
    "service_id",
    "level",
    "title_fa",
    "title_en",
    "description_fa",
    "description_en",
    "recipients",
    "category",
    "life_events",
    "channels",
    "scope",
    "exemption_reason",
    "exemption_document",
    "connected",
    "connection_form",
    "electronification_level",
    "smart_status",
    "min_assurance_level",
    "fee",
    "target_minutes",
    "inputs",
    "documents_required",
    "in_person_steps",
    "online_url",
]
AGENCY_FIELDS = [
    "code",
    "name_fa",
    "name_en",
    "kind",
    "in_scope",
    "connection_status",
    "connection_reason",
    "connection_evidence",
    "connection_form",
    "own_window_url",
    "sso_integrated",
    "member_class",
    "member_code",
]
TEXT_FIELDS = {
    "title_fa",
    "title_en",
    "description_fa",
    "description_en",
    "name_fa",
    "name_en",
    "exemption_reason",
}


def service_snapshot(service: Service) -> dict[str, Any]:
    data = {name: getattr(service, name) for name in SERVICE_FIELDS}
    data["agency"] = service.agency.code
    data["parent"] = service.parent.service_id if service.parent_id else None
    return data


def agency_snapshot(agency: Agency) -> dict[str, Any]:
    data = {name: getattr(agency, name) for name in AGENCY_FIELDS}
    data["parent"] = agency.parent.code if agency.parent_id else None
    return data


def service_search_key(service: Service) -> str:
    """A card's search key: its titles, description, agency names and service ID, normalised;
    the demo's dataset generator writes the same key."""
    parts = [
        service.title_fa,
        service.title_en,
        service.description_fa,
        service.agency.name_fa,
        service.agency.name_en,
        service.service_id or "",
    ]
    return search_key(" ".join(p for p in parts if p))


def _raise_violations(violations) -> None:
    if violations:
        errors: dict[str, list[str]] = {}
        for violation in violations:
            errors.setdefault(violation.field, []).append(violation.message)
        raise ValidationError(errors)


def check_author_may_edit(author, service: Service, changes: dict[str, Any]) -> None:
    if roles.is_system(author):  # the window's own writes: seeding, definitions, imports
        return
    if not roles.can(author, roles.EDIT, service.agency_id):
        # The Steering WG approves smart services of every agency; that is all it may change.
        approving = set(changes) <= {"smart_status"} and roles.can_approve_smart(author)
        if not approving:
            raise PermissionDenied(_("You may edit only your own agency's service cards."))
    if "service_id" in changes and changes["service_id"] != service.service_id:
        if not roles.can_assign_service_ids(author):
            raise PermissionDenied(_("Only AEO assigns service IDs."))
    new_smart = changes.get("smart_status")
    if new_smart in (SmartStatus.CERTIFIED,) and new_smart != service.smart_status:
        if not roles.can_certify(author):
            raise PermissionDenied(_("Only AEO certifies a service as smart-eligible."))
    if new_smart == SmartStatus.APPROVED and new_smart != service.smart_status:
        if not roles.can_approve_smart(author):
            raise PermissionDenied(_("Only the Steering Working Group approves smart services."))


@transaction.atomic
def save_service(
    service: Service,
    changes: dict[str, Any] | None = None,
    *,
    author,
    note: str = "",
    valid_from: dt.datetime | None = None,
) -> Service:
    """Apply ``changes`` to ``service`` (new or existing), check the rules, record a version."""
    changes = dict(changes or {})
    before = None
    if service.pk:
        # Lock the row so two editors cannot both write version N+1.
        locked = Service.objects.select_for_update().get(pk=service.pk)
        service.version = locked.version
        before = locked
    check_author_may_edit(author, service, changes)
    for name, value in changes.items():
        if name in TEXT_FIELDS and isinstance(value, str):
            value = normalize(value)
        setattr(service, name, value)
    if service.service_id == "":
        service.service_id = None
    _raise_violations(check_service(service))
    _raise_violations(
        once_only_refusals(service, before=before, service_pk=service.pk, author=author)
    )
    try:
        service.full_clean(exclude=["search_key", "agency", "parent"], validate_unique=True)
    except ValidationError:
        raise
    service.search_key = service_search_key(service)
    service.version += 1
    service.save()
    _record_service_version(service, author=roles.person(author), note=note, valid_from=valid_from)
    return service


def _record_service_version(service: Service, *, author, note, valid_from) -> ServiceVersion:
    return ServiceVersion.objects.create(
        service=service,
        version=service.version,
        valid_from=valid_from or timezone.now(),
        author=author,
        note=note[:300],
        data=service_snapshot(service),
        agency_id=service.agency_id,
        has_id=bool(service.service_id),
        scope=service.scope,
        connected=service.connected,
        smart_status=service.smart_status,
    )


@transaction.atomic
def save_agency(
    agency: Agency,
    changes: dict[str, Any] | None = None,
    *,
    author,
    note: str = "",
    valid_from: dt.datetime | None = None,
) -> Agency:
    """Apply ``changes`` to ``agency`` (new or existing) and record a version. Its own
    administrators, AEO and ITO edit an agency; a new one is the platform's (AEO, ITO)."""
    changes = dict(changes or {})
    roles.require(author, roles.ADMINISTER, agency.pk, _("You may edit only your own agency."))
    for name, value in changes.items():
        if name in TEXT_FIELDS and isinstance(value, str):
            value = normalize(value)
        setattr(agency, name, value)
    agency.full_clean(exclude=["search_key", "parent"])
    agency.search_key = search_key(f"{agency.name_fa} {agency.name_en} {agency.code}")
    agency.version += 1
    agency.save()
    AgencyVersion.objects.create(
        agency=agency,
        version=agency.version,
        valid_from=valid_from or timezone.now(),
        author=roles.person(author),
        note=note[:300],
        data=agency_snapshot(agency),
        in_scope=agency.in_scope,
        connection_status=agency.connection_status,
        has_own_window=bool(agency.own_window_url),
        sso_integrated=agency.sso_integrated,
    )
    return agency


def assign_service_id(service: Service, service_id: str, *, author) -> Service:
    """AEO gives a service its ID."""
    if not is_valid_service_id(service_id):
        raise ValidationError(
            {"service_id": [_("A service ID is ten digits whose last digit is a check digit.")]}
        )
    return save_service(
        service, {"service_id": service_id}, author=author, note="service ID assigned"
    )


# --- Art. 107(ح): publishing a card that asks for registry-held data ----------------------------
#
# "Publishing" a card is offering it in the national window: ``connected`` true. A person (an
# agency's editor or admin, AEO, ITO, through the back office or the API) may not publish a card
# that asks for a document or datum a base registry holds (rules.once_only_findings), nor make a
# published card ask for a new one, unless a justification for that registry item is recorded
# on the card (record_once_only_justification). What a published card already asked for before
# stays as it is until someone justifies it or drops it: the linter and the transparency page
# count it against the agency as unjustified. The window's own writes (roles.SYSTEM: the seeded
# national dataset, an operator's import of an existing catalogue, service definitions) record a
# card as it is and do not publish anything in anyone's name; their findings are pending in the
# same way, never silently justified.

REASON_MAX = 2000
BASIS_MAX = 300


def justified_items(service_pk: int | None) -> set[str]:
    """The registry items a justification is recorded for on the card."""
    if not service_pk:
        return set()
    return set(
        OnceOnlyJustification.objects.filter(service_id=service_pk).values_list("item", flat=True)
    )


def once_only_refusals(card, *, before=None, service_pk=None, author) -> list[Violation]:
    """Why this write may not publish ``card`` (a Service or a dict of its fields) as it stands:
    one violation per unjustified registry-held request that the write publishes. ``before`` is
    the card as stored (None for a new card). Empty for the window's own writes."""
    if roles.is_system(author):
        return []
    get = card.get if isinstance(card, dict) else (lambda name: getattr(card, name, None))
    if not get("connected"):
        return []
    findings = once_only_findings(card)
    if not findings:
        return []
    already: set[str] = set()
    if before is not None:
        was_connected = before.get("connected") if isinstance(before, dict) else before.connected
        if was_connected:
            already = {f.item for f in once_only_findings(before)}
    justified = justified_items(service_pk)
    refusals = []
    for finding in findings:
        if finding.item in already or finding.item in justified:
            continue
        refusals.append(
            Violation(
                "once_only.unjustified",
                finding.field,
                _(
                    "%(finding)s Record a justification for it (Art. 107(h) of the 7th Plan) "
                    "before offering this card in the national window, or fetch it from the "
                    "registry instead."
                )
                % {"finding": finding.message},
            )
        )
    return refusals


def _clean_text(value, name: str, limit: int, *, required: bool) -> str:
    """Plain text of a justification: no control, unassigned, private-use or direction-override
    characters, at most ``limit`` characters once normalised."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({name: [_("Enter text.")]})
    for char in value:
        category = unicodedata.category(char)
        if char in "\n\t":
            continue
        if category in ("Cc", "Cs", "Co", "Cn") or char in BIDI_CONTROLS:
            raise ValidationError(
                {
                    name: [
                        _("The text contains a character that cannot be kept (U+%(code)04X).")
                        % {"code": ord(char)}
                    ]
                }
            )
    text = normalize(value)
    if required and not text:
        raise ValidationError({name: [_("This field is required.")]})
    if len(text) > limit:
        raise ValidationError({name: [_("At most %(limit)s characters.") % {"limit": limit}]})
    return text


BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@transaction.atomic
def record_once_only_justification(
    service: Service,
    item: str,
    *,
    reason_fa: str,
    reason_en: str = "",
    legal_basis: str = "",
    author,
) -> OnceOnlyJustification:
    """Record why ``service`` asks for registry ``item`` (Art. 107(ح)). The agency's editors and
    admins for its own cards, AEO and ITO (``roles.EDIT``); the window itself (``SYSTEM``).
    Immutable: a new reason for the same item is a new version."""
    roles.require(
        author, roles.EDIT, service.agency_id, _("You may justify only your own agency's cards.")
    )
    locked = Service.objects.select_for_update().get(pk=service.pk)
    if item not in REGISTRY_ITEMS:
        raise ValidationError({"item": [_("Unknown registry item.")]})
    asked = [f for f in once_only_findings(locked) if f.item == item]
    if not asked:
        raise ValidationError(
            {"item": [_("The card does not ask for this; there is nothing to justify.")]}
        )
    reason_fa = _clean_text(reason_fa, "reason_fa", REASON_MAX, required=True)
    reason_en = _clean_text(reason_en, "reason_en", REASON_MAX, required=False)
    legal_basis = _clean_text(legal_basis, "legal_basis", BASIS_MAX, required=True)
    previous = (
        OnceOnlyJustification.objects.filter(service=locked, item=item)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    record = OnceOnlyJustification.objects.create(
        service=locked,
        agency_id=locked.agency_id,
        item=item,
        version=(previous or 0) + 1,
        asked=" · ".join(dict.fromkeys(f.asked for f in asked))[:300],
        reason_fa=reason_fa,
        reason_en=reason_en,
        legal_basis=legal_basis,
        service_version=locked.version,
        author=roles.person(author),
        recorded_at=timezone.now(),
    )
    search.public_changed()
    return record
