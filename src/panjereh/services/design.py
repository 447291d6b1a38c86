"""The agency service designer's operations: definition versions and their lifecycle.

A definition version moves draft → submitted → certified (by AEO, smart ones only) →
published → retired; a submitted or certified one may be sent back to draft with a note, a
non-smart one goes from submitted straight to published, a draft may be discarded (retired).
Every move goes through :data:`MACHINE` (``common.statemachine``) and writes a
:class:`DefinitionEvent` (who, when, from, to, note) in the same transaction.

Rights (``catalogue.roles``), asked here:

- the agency's staff with ``EDIT`` in the definition's agency create, change and submit drafts;
- AEO (``CERTIFY``) certifies smart ones; AEO or the agency's administrators send back;
- the agency's administrators (``ADMINISTER``) publish (a smart one only once certified), roll
  back and retire;
- :data:`roles.SYSTEM` may do all of it (loading the definition files shipped with Panjereh).

``active`` keeps meaning "the published version the engine uses": publishing version N makes
it active and retires the one published before (at most one active per code). A published or
retired version's content never changes (``ServiceDefinition.save`` refuses); an application
keeps the version it started with (its foreign key). :func:`rollback` publishes the previous
version's content again as a new version.

Definitions import and export as JSON (:func:`import_json`, :func:`export_json`); the format
is the JSON Schema ``schema/definition.schema.json``.
"""

from __future__ import annotations

import copy
import json
import unicodedata
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency, Service
from panjereh.common import statemachine

from . import definitions
from .definitions import DefinitionError
from .models import DefinitionEvent, DefinitionStatus, ServiceDefinition

S = DefinitionStatus
TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.RETIRED},
    S.SUBMITTED: {S.DRAFT, S.CERTIFIED, S.PUBLISHED},
    S.CERTIFIED: {S.DRAFT, S.PUBLISHED},
    S.PUBLISHED: {S.RETIRED},
    S.RETIRED: set(),
}
InvalidTransition = statemachine.InvalidTransition
MAX_IMPORT_BYTES = 1024 * 1024
FROM_FILE = "loaded from its file by the window"
CERTIFIED_BY_SYSTEM = "certified by the system: a built-in definition shipped with Panjereh"
# Characters a definition never needs and that can hide or reorder what a reviewer reads:
# C0/C1 controls other than tab and line breaks, bidi overrides, non-characters.
_FORBIDDEN = {chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)} | {
    chr(c) for c in range(0x7F, 0xA0)
}
_FORBIDDEN |= {"\u202d", "\u202e", "\ufffe", "\uffff"}


def _event(
    definition: ServiceDefinition,
    from_status: str,
    to_status: str,
    *,
    by: Any,
    note: str = "",
    **_context: Any,
) -> DefinitionEvent:
    return DefinitionEvent.objects.create(
        definition=definition,
        by=roles.person(by),
        by_system=roles.is_system(by),
        from_status=from_status,
        to_status=to_status,
        note=(note or "")[:1000],
    )


def _refusal(definition: ServiceDefinition, to: str) -> str:
    return _("Version %(v)s of %(code)s is %(status)s; it cannot become %(to)s.") % {
        "v": definition.version,
        "code": definition.code,
        "status": S(definition.status).label,
        "to": S(to).label,
    }


MACHINE = statemachine.Machine(
    TRANSITIONS, field="status", record=_event, message=_refusal, update_fields=()
)


# -- rights ------------------------------------------------------------------------------------


def _require_editor(actor, agency_id: int) -> None:
    roles.require(
        actor,
        roles.EDIT,
        agency_id,
        _("Only the agency's editors can draft its service definitions."),
    )


def _require_admin(actor, agency_id: int) -> None:
    roles.require(
        actor,
        roles.ADMINISTER,
        agency_id,
        _("Only the agency's administrators can publish, roll back or retire its definitions."),
    )


def _require_reviewer(actor, agency_id: int) -> None:
    if not (roles.can(actor, roles.CERTIFY) or roles.can(actor, roles.ADMINISTER, agency_id)):
        raise roles.NotPermitted(
            _("Only AEO or the agency's administrators can send a definition back."),
            roles.CERTIFY,
        )


# -- drafts ------------------------------------------------------------------------------------


def _refuse(code: str, problems: list[str]) -> None:
    if problems:
        raise DefinitionError(code, problems)


def _checked(spec: Any, agency: Agency) -> tuple[dict[str, Any], Service | None]:
    """The spec if it may be a draft of ``agency`` (and the card it implements, if any)."""
    problems = definitions.validate(spec)
    _refuse(str(spec.get("code", "?")) if isinstance(spec, dict) else "?", problems)
    odd = _odd_character(spec)  # typed in the designer as well as read from a file
    if odd:
        _refuse(
            spec["code"],
            [_("A text holds a character a definition may not use: %(where)s") % {"where": odd}],
        )
    if spec["agency"]["code"] != agency.code:
        _refuse(
            spec["code"],
            [
                _("The definition names the agency %(named)s; it is drafted for %(agency)s.")
                % {"named": spec["agency"]["code"], "agency": agency.code}
            ],
        )
    owner = (
        ServiceDefinition.objects.filter(code=spec["code"])
        .exclude(agency=agency)
        .values_list("agency__code", flat=True)
        .first()
    )
    if owner is not None:
        _refuse(
            spec["code"],
            [_("The code %(code)s is another agency's service.") % {"code": spec["code"]}],
        )
    service = Service.objects.filter(service_id=spec["service_id"]).first()
    if service is not None and service.agency_id != agency.pk:
        _refuse(
            spec["code"],
            [
                _("The service ID %(id)s belongs to another agency's card.")
                % {"id": spec["service_id"]}
            ],
        )
    return spec, service


def _fields(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "smart": bool(spec["smart"]),
        "title_fa": spec["title_fa"],
        "title_en": spec.get("title_en", ""),
        "assurance_level": spec["assurance_level"],
        "target_minutes": spec["target_minutes"],
        "spec": spec,
        "digest": definitions.digest(spec),
    }


@transaction.atomic
def create_draft(
    agency: Agency, spec: dict[str, Any], *, actor, version: int | None = None, note: str = ""
) -> ServiceDefinition:
    """A new draft version of ``spec``'s code for ``agency`` (the next version number unless
    ``version`` is given). Refused with the reasons (:class:`DefinitionError`) when the spec
    is not valid, or, marked smart, is not smart; nothing is written then."""
    _require_editor(actor, agency.pk)
    spec = copy.deepcopy(spec)
    if isinstance(spec, dict) and version is None and "code" in spec:
        newest = ServiceDefinition.objects.filter(code=spec["code"]).aggregate(v=Max("version"))
        version = (newest["v"] or 0) + 1
    if isinstance(spec, dict) and version is not None:
        spec["version"] = version
    spec, service = _checked(spec, agency)
    if ServiceDefinition.objects.filter(code=spec["code"], version=spec["version"]).exists():
        _refuse(
            spec["code"],
            [_("Version %(v)s exists already; raise the version.") % {"v": spec["version"]}],
        )
    if service is None:  # a new service: its card is created (in line with this draft)
        service = definitions.sync_card(spec, agency)
    try:
        with transaction.atomic():  # a savepoint: a racing draft of the same version loses
            definition = ServiceDefinition.objects.create(
                code=spec["code"],
                version=spec["version"],
                service=service,
                agency=agency,
                status=S.DRAFT,
                active=False,
                **_fields(spec),
            )
    except IntegrityError:
        _refuse(
            spec["code"],
            [_("Version %(v)s exists already; raise the version.") % {"v": spec["version"]}],
        )
    _event(definition, "", S.DRAFT, by=actor, note=note or "created")
    return definition


@transaction.atomic
def update_draft(
    definition: ServiceDefinition, spec: dict[str, Any], *, actor, note: str = ""
) -> ServiceDefinition:
    """Replace a draft's content (drafts only; code and version stay)."""
    _require_editor(actor, definition.agency_id)
    locked = ServiceDefinition.objects.select_for_update().get(pk=definition.pk)
    if locked.status != S.DRAFT:
        raise InvalidTransition(
            _("Only a draft can be changed; version %(v)s of %(code)s is %(status)s.")
            % {"v": locked.version, "code": locked.code, "status": S(locked.status).label}
        )
    spec = copy.deepcopy(spec)
    if isinstance(spec, dict):
        if spec.get("code") != locked.code:
            _refuse(locked.code, [_("A draft keeps its code: %(code)s.") % {"code": locked.code}])
        spec["version"] = locked.version
    spec, _service = _checked(spec, locked.agency)
    for name, value in _fields(spec).items():
        setattr(locked, name, value)
    locked.save()
    _event(locked, S.DRAFT, S.DRAFT, by=actor, note=note or "edited")
    definition.refresh_from_db()
    return definition


def _still_valid(locked: ServiceDefinition, _changes: dict, _event_data: dict) -> None:
    problems = definitions.validate(locked.spec)
    if problems:
        raise InvalidTransition(problems)


def submit(definition: ServiceDefinition, *, actor, note: str = "") -> ServiceDefinition:
    """The draft goes to review (AEO for a smart one, the agency's administrators otherwise)."""
    _require_editor(actor, definition.agency_id)
    return MACHINE.move(definition, S.SUBMITTED, by=actor, event={"note": note}, check=_still_valid)


def send_back(definition: ServiceDefinition, note: str, *, actor) -> ServiceDefinition:
    """Back to draft, with the reviewer's note saying why (required)."""
    _require_reviewer(actor, definition.agency_id)
    if not (note or "").strip():
        raise InvalidTransition(_("Say why the definition goes back to its authors."))
    if definition.status not in (S.SUBMITTED, S.CERTIFIED):
        raise InvalidTransition(_refusal(definition, S.DRAFT))
    return MACHINE.move(definition, S.DRAFT, by=actor, event={"note": note.strip()})


def certify(definition: ServiceDefinition, *, actor, note: str = "") -> ServiceDefinition:
    """AEO certifies a submitted smart definition as smart."""
    roles.require(actor, roles.CERTIFY, message=_("Only AEO certifies smart definitions."))

    def smart_only(locked, changes, event):
        if not locked.smart:
            raise InvalidTransition(
                _("Only a smart definition is certified; the agency publishes a non-smart one.")
            )
        _still_valid(locked, changes, event)

    return MACHINE.move(definition, S.CERTIFIED, by=actor, event={"note": note}, check=smart_only)


@transaction.atomic
def publish(definition: ServiceDefinition, *, actor, note: str = "") -> ServiceDefinition:
    """The version goes live: active, the engine uses it for new applications; the version
    published before is retired (its applications keep it). A smart one must be certified."""
    _require_admin(actor, definition.agency_id)
    # Every version of the code locked, in one order: two publishes at once cannot both win.
    list(ServiceDefinition.objects.select_for_update().filter(code=definition.code).order_by("pk"))
    definition.refresh_from_db()
    MACHINE.check(definition, S.PUBLISHED)
    if definition.smart and definition.status != S.CERTIFIED:
        raise InvalidTransition(
            _("A smart definition is published only once AEO has certified it.")
        )
    _still_valid(definition, {}, {})
    replaced = ServiceDefinition.objects.filter(code=definition.code, status=S.PUBLISHED).exclude(
        pk=definition.pk
    )
    for old in replaced:
        MACHINE.move(
            old,
            S.RETIRED,
            by=actor,
            event={"note": f"replaced by version {definition.version}"},
            active=False,
        )
    MACHINE.move(
        definition,
        S.PUBLISHED,
        by=actor,
        event={"note": note},
        active=True,
        published_at=timezone.now(),
    )
    definitions.sync_card(definition.spec, definition.agency)
    return definition


@transaction.atomic
def rollback(code: str, *, actor, note: str = "") -> ServiceDefinition:
    """Publish the version published before the current one again, as a new version (the
    published rows stay as they were); the current one is retired."""
    rows = list(ServiceDefinition.objects.select_for_update().filter(code=code).order_by("pk"))
    current = next((row for row in rows if row.status == S.PUBLISHED), None)
    if current is None:
        raise InvalidTransition(
            _("%(code)s has no published version to roll back.") % {"code": code}
        )
    _require_admin(actor, current.agency_id)
    earlier = [
        row
        for row in rows
        if row.status == S.RETIRED
        and row.published_at is not None
        and row.version < current.version
    ]
    if not earlier:
        raise InvalidTransition(
            _("%(code)s has no earlier published version to go back to.") % {"code": code}
        )
    previous = max(earlier, key=lambda row: row.version)
    version = max(row.version for row in rows) + 1
    MACHINE.move(
        current,
        S.RETIRED,
        by=actor,
        event={
            "note": f"rolled back: version {version} publishes version {previous.version} again"
        },
        active=False,
    )
    spec = {**copy.deepcopy(previous.spec), "version": version}
    again = ServiceDefinition.objects.create(
        code=code,
        version=version,
        service=previous.service,
        agency=previous.agency,
        status=S.PUBLISHED,
        active=True,
        published_at=timezone.now(),
        **_fields(spec),
    )
    published_from = ""
    certified = (
        DefinitionEvent.objects.filter(definition=previous, to_status=S.CERTIFIED)
        .order_by("-at", "-pk")
        .first()
    )
    if previous.smart and certified is not None:
        # The content is the one AEO certified as the earlier version: its certification is
        # carried over and says so (who certified it, when, as which version).
        DefinitionEvent.objects.create(
            definition=again,
            by=certified.by,
            by_system=certified.by_system,
            from_status="",
            to_status=S.CERTIFIED,
            note=(
                f"certification of version {previous.version} "
                f"({certified.at:%Y-%m-%d %H:%M} UTC) carried over by rollback: same content"
            ),
        )
        published_from = S.CERTIFIED
    _event(
        again,
        published_from,
        S.PUBLISHED,
        by=actor,
        note=(
            f"rollback: the content of version {previous.version} published again"
            + (f"; {note}" if note else "")
        ),
    )
    definitions.sync_card(again.spec, again.agency)
    return again


def retire(definition: ServiceDefinition, *, actor, note: str = "") -> ServiceDefinition:
    """Withdraw a published version (the code then has none the engine uses) or discard a
    draft."""
    _require_admin(actor, definition.agency_id)
    return MACHINE.move(definition, S.RETIRED, by=actor, event={"note": note}, active=False)


def actions(definition: ServiceDefinition, actor) -> set[str]:
    """What ``actor`` may do with ``definition`` now (for the designer's buttons): a subset of
    ``update submit send_back certify publish rollback retire``. The operations check again."""
    agency = definition.agency_id
    editor = roles.can(actor, roles.EDIT, agency)
    admin = roles.can(actor, roles.ADMINISTER, agency)
    certifier = roles.can(actor, roles.CERTIFY)
    status = definition.status
    found = set()
    if status == S.DRAFT and editor:
        found |= {"update", "submit"}
    if status in (S.SUBMITTED, S.CERTIFIED) and (certifier or admin):
        found.add("send_back")
    if status == S.SUBMITTED and definition.smart and certifier:
        found.add("certify")
    if admin and (status == S.CERTIFIED or (status == S.SUBMITTED and not definition.smart)):
        found.add("publish")
    if admin and status in (S.DRAFT, S.PUBLISHED):
        found.add("retire")
    if admin and status == S.PUBLISHED:
        earlier = ServiceDefinition.objects.filter(
            code=definition.code,
            status=S.RETIRED,
            published_at__isnull=False,
            version__lt=definition.version,
        )
        if earlier.exists():
            found.add("rollback")
    return found


# -- JSON --------------------------------------------------------------------------------------


def export_json(definition: ServiceDefinition) -> str:
    """The version's definition as JSON text (UTF-8, Persian as itself), as imported."""
    return json.dumps(definition.spec, ensure_ascii=False, indent=2) + "\n"


def _odd_character(value: Any, where: str = "") -> str | None:
    """Where a string of ``value`` holds a character a definition never needs, if anywhere."""
    if isinstance(value, str):
        for char in value:
            if char in _FORBIDDEN or unicodedata.category(char) == "Cs":
                return f"{where or '/'} (U+{ord(char):04X})"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _odd_character(key, where) or _odd_character(item, f"{where}/{key}")
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _odd_character(item, f"{where}/{i}")
            if found:
                return found
    return None


def plain(text: str) -> str:
    """``text`` without the characters a definition (or a note on it) never needs: for notes
    and justifications typed in the designer."""
    return "".join(
        char for char in text if char not in _FORBIDDEN and unicodedata.category(char) != "Cs"
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(_("The key “%(key)s” appears twice.") % {"key": key})
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    raise ValueError(_("%(name)s is not a JSON number.") % {"name": name})


def parse_json(text: str | bytes) -> dict[str, Any]:
    """A definition from JSON text, or :class:`DefinitionError` with the reason (too large,
    not UTF-8, not JSON, a duplicate key, an odd character, not matching the format)."""
    size = len(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    if size > MAX_IMPORT_BYTES:
        _refuse("?", [_("The file is larger than 1 MB.")])
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            _refuse("?", [_("The file is not UTF-8 text.")])
    if "\x00" in text:
        _refuse("?", [_("The file holds a NUL character; it is not a definition.")])
    try:
        spec = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        _refuse(
            "?",
            [
                _("The file is not valid JSON (line %(line)s, column %(col)s).")
                % {"line": exc.lineno, "col": exc.colno}
            ],
        )
    except RecursionError:
        _refuse("?", [_("The file nests too deeply to be a definition.")])
    except ValueError as exc:
        _refuse("?", [str(exc)])
    odd = _odd_character(spec)
    if odd:
        _refuse(
            "?",
            [_("A text holds a character a definition may not use: %(where)s") % {"where": odd}],
        )
    problems = definitions.schema_problems(spec)
    _refuse(str(spec.get("code", "?")) if isinstance(spec, dict) else "?", problems)
    return spec


@transaction.atomic
def import_json(text: str | bytes, *, actor, note: str = "") -> ServiceDefinition:
    """A new draft from exported JSON, for the agency it names (which must exist; the actor
    must be its editor). The next version number of its code is used. Refused with the
    reasons, never half-written."""
    spec = parse_json(text)
    agency = Agency.objects.filter(code=spec["agency"]["code"]).first()
    if agency is None:
        _refuse(
            spec["code"],
            [_("The agency %(code)s is not in the catalogue.") % {"code": spec["agency"]["code"]}],
        )
    return create_draft(agency, spec, actor=actor, note=note or "imported from JSON")


def history(definition: ServiceDefinition) -> list[DefinitionEvent]:
    return list(DefinitionEvent.objects.filter(definition=definition).select_related("by"))
