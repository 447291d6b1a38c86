"""Businesses and the people who act for them (legal persons, representatives, delegations).

A person acts for a company only while the company registry names them as its chief executive,
a board member or an authorised signatory, or under a delegation such a representative granted
(a third-party filer: an accountant, a lawyer), within its scope and before its expiry. Nothing
about a company is typed in: its name and its representatives come from the registry, through
the exchange (:func:`registry_checks.company_record`), and the ``LegalPerson`` and
``Representative`` rows are only a copy of its last answer.

**When the registry is asked.** Every write that acts for a company (adding it, switching to it,
granting or revoking a delegation), every request that acts (any method but GET/HEAD/OPTIONS,
see :func:`acting_for`) and every decision another app makes in a company's name
(:func:`require_can_act`) asks the registry afresh. Only showing a page (the "acting as"
header) reuses an answer younger than ``PANJEREH_IDENTITY_REPRESENTATION_TTL`` seconds (60), so
browsing costs no registry call per page; a director the registry no longer names is refused at
their next acting request, and sees the switch dropped at the latest when the cached answer
expires.

**What each role may do** (:data:`ROLE_SCOPES`): the chief executive and the authorised
signatories may apply, pay and read; a board member alone does not bind the company and may only
read. A delegation gives at most what its grantor holds, and a delegate cannot delegate further.

**Audit.** Each add, refusal, switch, drop, grant and revoke is an :class:`AuthEvent` naming the
person and the company (``acting_company``); while a person acts for a company, every identity
event they cause names the company too (:mod:`.audit`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit, conf, registry_checks
from .models import (
    AuthEvent,
    CompanyDelegation,
    DelegationScope,
    LegalPerson,
    Representative,
    RepresentativeRole,
    User,
)
from .operations import IdentityError, require_person
from .validators import clean_legal_national_id, clean_national_code

SESSION_KEY = audit.ACTING_COMPANY_SESSION_KEY
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_DELEGATION_DAYS = 365
ALL_SCOPES = frozenset(DelegationScope.values)
ROLE_SCOPES: dict[str, frozenset[str]] = {
    RepresentativeRole.CEO: ALL_SCOPES,
    RepresentativeRole.SIGNATORY: ALL_SCOPES,
    RepresentativeRole.BOARD: frozenset({DelegationScope.READ}),
}
# The order in which a person's strongest role is named (the "role" of the org claim).
ROLE_ORDER = ("ceo", "signatory", "board")
DELEGATE = "delegate"


class CannotAct(IdentityError):
    """The person may not do this for the company (not named, out of scope, ended)."""


@dataclass(frozen=True)
class Authority:
    """Why ``person`` may act for ``company`` now: their roles in the registry, or a delegation
    (``role`` is then ``"delegate"``), and what they may do."""

    company: LegalPerson
    role: str
    scopes: frozenset[str]
    delegation_id: int | None = None

    @property
    def is_representative(self) -> bool:
        return self.delegation_id is None

    def claim(self) -> dict:
        """The ``org`` claim agency windows receive (docs/identity.md)."""
        return {
            "national_id": self.company.national_id,
            "name": self.company.name,
            "role": self.role,
            "scopes": sorted(self.scopes),
        }

    def role_label(self) -> str:
        if self.role == DELEGATE:
            return _("Authorised by a representative")
        return str(RepresentativeRole(self.role).label)


# -- messages --------------------------------------------------------------------------------


def _msg_unavailable() -> str:
    return _(
        "The company registry is not answering right now. Nothing was changed; please try "
        "again in a few minutes."
    )


def _msg_unknown() -> str:
    return _("The company registry holds no legal person with this national ID.")


def _msg_not_named() -> str:
    return _(
        "The company registry does not name you as a director or authorised signatory of this "
        "company, and no representative has authorised you. Nothing was changed."
    )


# -- the registry, with a short memory for pages ---------------------------------------------


def _cache_key(national_id: str) -> str:
    return f"identity:company:{national_id}"


def company_from_registry(
    national_id: str, asked_by: str, *, fresh: bool = True
) -> registry_checks.CompanyRecord | None:
    """The registry's record of the company (None if it holds none). ``fresh=False`` may reuse
    an answer younger than the representation TTL; a fresh answer replaces the kept one."""
    ttl = int(conf.get("REPRESENTATION_TTL") or 0)
    key = _cache_key(national_id)
    if not fresh and ttl > 0:
        kept = cache.get(key)
        if kept is not None:
            return registry_checks.CompanyRecord.from_dict(kept) if kept else None
    record = registry_checks.company_record(national_id)
    if ttl > 0:
        cache.set(key, record.as_dict() if record is not None else {}, ttl)
    if (record is not None and record.active) and (
        record.roles_of(asked_by) or LegalPerson.objects.filter(national_id=national_id).exists()
    ):
        # Copied only for a company already known here or one that names the person asking:
        # a refusal writes nothing.
        _sync(record)
    return record


def _sync(record: registry_checks.CompanyRecord) -> LegalPerson:
    """Copy the registry's answer: the company's name, and a current ``Representative`` row for
    each named person who has an account; rows of people no longer named are ended (kept, with
    their end date, as history)."""
    today = timezone.localdate()
    with transaction.atomic():
        company, _created = LegalPerson.objects.update_or_create(
            national_id=record.national_id, defaults={"name": record.name[:300]}
        )
        named = {(code, role): since for code, role, since in record.representatives}
        people = {
            u.national_code: u
            for u in User.objects.filter(national_code__in={code for code, _r in named})
        }
        current = Representative.objects.select_for_update().filter(legal_person=company)
        seen = set()
        for row in current.select_related("person"):
            key = (row.person.national_code, row.role)
            if key in named and row.valid_until is None:
                seen.add(key)
            elif key in named:  # named again after an end: current from the registry's date
                row.valid_until = None
                row.valid_from = _date(named[key], today)
                row.save(update_fields=["valid_until", "valid_from"])
                seen.add(key)
            elif row.valid_until is None or row.valid_until >= today:
                row.valid_until = max(row.valid_from, today - dt.timedelta(days=1))
                row.save(update_fields=["valid_until"])
                audit.record(
                    AuthEvent.Kind.REPRESENTATION_ENDED,
                    user=row.person,
                    acting_company=company,
                    role=row.role,
                )
        for (code, role), since in named.items():
            if (code, role) in seen or code not in people or role not in ROLE_SCOPES:
                continue
            Representative.objects.create(
                person=people[code],
                legal_person=company,
                role=role,
                valid_from=_date(since, today),
            )
    return company


def _date(text: str, default: dt.date) -> dt.date:
    try:
        return min(dt.date.fromisoformat(text), default)
    except (TypeError, ValueError):
        return default


# -- who may act for a company ------------------------------------------------------------


def _delegations_for(person: User, company: LegalPerson):
    return CompanyDelegation.objects.filter(
        company=company,
        delegate_national_code=person.national_code or "-",
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("granted_by")


def _scopes_of(roles: set[str]) -> frozenset[str]:
    return frozenset().union(*(ROLE_SCOPES.get(r, frozenset()) for r in roles))


def authority(person: User, national_id: str, *, fresh: bool = True) -> Authority | None:
    """Why ``person`` may act for the company now, or None. Raises ``RegistryUnavailable``."""
    if not person.national_code:
        return None
    record = company_from_registry(national_id, person.national_code, fresh=fresh)
    if record is None or not record.active:
        return None  # no one acts for a company the registry does not hold, or dissolved
    company = LegalPerson.objects.filter(national_id=record.national_id).first()
    roles = record.roles_of(person.national_code) & set(ROLE_SCOPES)
    if roles:
        if company is None:  # a kept answer for a company not copied here yet
            company = _sync(record)
        role = next(r for r in ROLE_ORDER if r in roles)
        return Authority(company, role, _scopes_of(roles))
    if company is None:
        return None  # no delegation can name a company never copied here
    for delegation in _delegations_for(person, company):
        grantor_code = delegation.granted_by.national_code or ""
        held = _scopes_of(record.roles_of(grantor_code))
        # A delegation lapses with its grantor's own authority, and never exceeds it.
        if set(delegation.scopes) and set(delegation.scopes) <= held:
            return Authority(company, DELEGATE, frozenset(delegation.scopes), delegation.pk)
    return None


def require_can_act(person, company: LegalPerson | str, scope: str) -> Authority:
    """For every app, at each decision taken in a company's name: ``person`` acts for the
    company now (asked afresh of the registry) and may do ``scope`` (a :class:`DelegationScope`
    value). Raises :class:`CannotAct` with a message to show; nothing is decided on a refusal."""
    require_person(person)
    national_id = company.national_id if isinstance(company, LegalPerson) else str(company)
    try:
        found = authority(person, national_id, fresh=True)
    except registry_checks.RegistryUnavailable:
        raise CannotAct("registry_unavailable", _msg_unavailable()) from None
    if found is None:
        raise CannotAct("not_representative", _msg_not_named())
    if scope not in found.scopes:
        raise CannotAct(
            "out_of_scope",
            _("You may not do this for %(company)s: it is outside what you are authorised to do.")
            % {"company": found.company.name},
        )
    return found


# -- the profile switch ------------------------------------------------------------------------


@dataclass(frozen=True)
class Acting:
    """The company the signed-in person acts for in this browser session."""

    authority: Authority
    verified: bool = True  # False: shown from the session while the registry did not answer

    @property
    def company(self) -> LegalPerson:
        return self.authority.company


def acting_for(request, *, fresh: bool | None = None) -> Acting | None:
    """The company the request's person acts for, re-checked with the registry (afresh for an
    acting request, within the TTL for showing a page), or None (acting as themselves). When
    the registry no longer names them (or their delegation ended), the choice is dropped,
    recorded, and the person told."""
    if fresh is None and hasattr(request, "_panjereh_acting"):
        return request._panjereh_acting
    result = None
    chosen = getattr(request, "session", {}).get(SESSION_KEY) if request is not None else None
    user = getattr(request, "user", None)
    if chosen and user is not None and user.is_authenticated:
        if fresh is None:
            fresh = request.method not in SAFE_METHODS
        try:
            found = authority(user, chosen["national_id"], fresh=fresh)
        except registry_checks.RegistryUnavailable:
            # Shown from the session, unverified: a decision (require_can_act) is refused.
            company = LegalPerson.objects.filter(national_id=chosen["national_id"]).first()
            if company is not None:
                kept = Authority(company, chosen.get("role", ""), frozenset(chosen.get("scopes")))
                result = Acting(kept, verified=False)
        else:
            if found is None:
                _drop(request, chosen)
            else:
                result = Acting(found)
                if found.role != chosen.get("role") or sorted(found.scopes) != chosen.get("scopes"):
                    request.session[SESSION_KEY] = _session_value(found)
    elif chosen:
        request.session.pop(SESSION_KEY, None)
    request._panjereh_acting = result
    return result


def _session_value(found: Authority) -> dict:
    return {
        "national_id": found.company.national_id,
        "name": found.company.name,
        "role": found.role,
        "scopes": sorted(found.scopes),
    }


def _drop(request, chosen: dict) -> None:
    request.session.pop(SESSION_KEY, None)
    company = LegalPerson.objects.filter(national_id=chosen.get("national_id")).first()
    audit.record(AuthEvent.Kind.ACTING_ENDED, request, user=request.user, acting_company=company)
    messages.warning(
        request,
        _(
            "You no longer act for %(company)s: the company registry no longer names you as its "
            "representative, or your authorisation has ended. You are acting as yourself."
        )
        % {"company": chosen.get("name") or chosen.get("national_id")},
        fail_silently=True,  # a request without messages (a sign-in made by a test client)
    )


def switch(request, national_id: str) -> Acting | None:
    """Act for the company ``national_id`` in this browser session (asked afresh of the
    registry), or as oneself when it is empty. Refused (:class:`CannotAct`) when the registry
    does not name the person and no delegation lets them."""
    person = request.user
    require_person(person)
    if not national_id:
        chosen = request.session.pop(SESSION_KEY, None)
        request._panjereh_acting = None
        if chosen:
            company = LegalPerson.objects.filter(national_id=chosen.get("national_id")).first()
            audit.record(
                AuthEvent.Kind.ACTING_AS_SELF, request, user=person, acting_company=company
            )
        return None
    national_id = _clean_id(national_id)
    try:
        found = authority(person, national_id, fresh=True)
    except registry_checks.RegistryUnavailable:
        raise CannotAct("registry_unavailable", _msg_unavailable()) from None
    if found is None:
        raise CannotAct("not_representative", _msg_not_named())
    request.session[SESSION_KEY] = _session_value(found)
    request._panjereh_acting = Acting(found)
    audit.record(
        AuthEvent.Kind.ACTING_FOR_COMPANY,
        request,
        user=person,
        acting_company=found.company,
        role=found.role,
    )
    return request._panjereh_acting


# -- my companies --------------------------------------------------------------------------


def _clean_id(raw: str) -> str:
    try:
        return clean_legal_national_id(raw)
    except ValidationError as exc:
        raise IdentityError("invalid_id", exc.messages[0]) from None


def add_company(actor, raw_national_id: str, request=None) -> Authority:
    """Add a company to the person's list: the registry is asked; the company is listed (and
    its rows copied) only if it names the person. Refused: ``invalid_id`` (length, check
    digit), ``unknown``, ``dissolved``, ``not_representative``, ``registry_unavailable``; each
    refusal is recorded and changes nothing else."""
    require_person(actor)
    national_id = _clean_id(raw_national_id)
    try:
        record = company_from_registry(national_id, actor.national_code or "", fresh=True)
    except registry_checks.RegistryUnavailable:
        raise CannotAct("registry_unavailable", _msg_unavailable()) from None

    def refuse(code: str, message: str, company=None):
        audit.record(
            AuthEvent.Kind.COMPANY_REFUSED,
            request,
            user=actor,
            acting_company=company,
            reason=code,
            national_id=national_id,
        )
        return CannotAct(code, message)

    if record is None:
        raise refuse("unknown", _msg_unknown())
    company = LegalPerson.objects.filter(national_id=record.national_id).first()
    if not record.active:
        raise refuse(
            "dissolved",
            _("The company registry records this company as dissolved: no one acts for it."),
            company,
        )
    found = authority(actor, national_id, fresh=False)
    if found is None or not found.is_representative:
        raise refuse("not_representative", _msg_not_named(), company)
    audit.record(
        AuthEvent.Kind.COMPANY_ADDED,
        request,
        user=actor,
        acting_company=company,
        role=found.role,
    )
    return found


@dataclass(frozen=True)
class CompanyChoice:
    company: LegalPerson
    role_label: str
    delegation: CompanyDelegation | None = None


def my_companies(person: User) -> list[CompanyChoice]:
    """The companies the person may choose in the switch, as last copied from the registry
    (current representative rows) and the delegations made to their national code. The
    registry decides again when they choose one."""
    if not person.national_code:
        return []
    today = timezone.localdate()
    choices: dict[int, CompanyChoice] = {}
    rows = (
        Representative.objects.filter(person=person, valid_from__lte=today)
        .exclude(valid_until__lt=today)
        .select_related("legal_person")
        .order_by("legal_person__name")
    )
    for row in rows:
        labels = [str(RepresentativeRole(row.role).label)]
        known = choices.get(row.legal_person_id)
        if known is not None:
            labels = [known.role_label, *labels]
        choices[row.legal_person_id] = CompanyChoice(row.legal_person, "، ".join(labels))
    delegations = CompanyDelegation.objects.filter(
        delegate_national_code=person.national_code,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("company")
    for delegation in delegations:
        if delegation.company_id not in choices:
            choices[delegation.company_id] = CompanyChoice(
                delegation.company, _("Authorised by a representative"), delegation
            )
    return list(choices.values())


def has_choices(person: User) -> bool:
    """Whether the person has any company to choose (for the header, two cheap queries)."""
    if not person.national_code:
        return False
    today = timezone.localdate()
    return (
        Representative.objects.filter(person=person, valid_from__lte=today)
        .exclude(valid_until__lt=today)
        .exists()
        or CompanyDelegation.objects.filter(
            delegate_national_code=person.national_code,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).exists()
    )


# -- delegations ---------------------------------------------------------------------------


def grant_delegation(
    actor,
    national_id: str,
    delegate_national_code: str,
    scopes: list[str],
    expires_on: dt.date,
    request=None,
) -> CompanyDelegation:
    """A representative lets ``delegate_national_code`` act for the company within ``scopes``
    until the end of ``expires_on`` (at most a year ahead). Refused: ``not_found`` (the actor
    does not act for the company), ``no_redelegation`` (the actor is a delegate),
    ``beyond_scope``, ``expiry``, ``self``, ``invalid_code``, ``registry_unavailable``."""
    require_person(actor)
    national_id = _clean_id(national_id)
    try:
        code = clean_national_code(delegate_national_code)
    except ValidationError as exc:
        raise CannotAct("invalid_code", exc.messages[0]) from None
    try:
        found = authority(actor, national_id, fresh=True)
    except registry_checks.RegistryUnavailable:
        raise CannotAct("registry_unavailable", _msg_unavailable()) from None
    if found is None:
        raise CannotAct("not_found", _msg_not_named())
    if not found.is_representative:
        raise CannotAct(
            "no_redelegation",
            _("You act for this company under an authorisation; you cannot authorise others."),
        )
    wanted = set(scopes)
    if not wanted or not wanted <= ALL_SCOPES:
        raise CannotAct("beyond_scope", _("Choose at least one thing the person may do."))
    if not wanted <= found.scopes:
        raise CannotAct(
            "beyond_scope",
            _("You can only authorise what you may do yourself for this company: %(allowed)s.")
            % {"allowed": "، ".join(str(DelegationScope(s).label) for s in sorted(found.scopes))},
        )
    if code == actor.national_code:
        raise CannotAct("self", _("You cannot authorise yourself."))
    today = timezone.localdate()
    if not today < expires_on <= today + dt.timedelta(days=MAX_DELEGATION_DAYS):
        raise CannotAct(
            "expiry", _("The end date must be after today and at most one year from today.")
        )
    now = timezone.now()
    end = timezone.make_aware(dt.datetime.combine(expires_on + dt.timedelta(days=1), dt.time()))
    delegation = CompanyDelegation.objects.create(
        company=found.company,
        granted_by=actor,
        delegate_national_code=code,
        scopes=sorted(wanted),
        created_at=now,
        expires_at=end,
    )
    audit.record(
        AuthEvent.Kind.COMPANY_DELEGATION_GRANTED,
        request,
        user=actor,
        acting_company=found.company,
        delegation_id=delegation.pk,
        delegate_code_tail=code[-3:],
        scopes=sorted(wanted),
    )
    return delegation


def company_page(actor, national_id: str) -> tuple[Authority, list[CompanyDelegation]]:
    """The person's authority for the company (asked afresh) and, for a representative, the
    company's delegations. Anyone who does not act for it is told it is not found."""
    require_person(actor)
    try:
        found = authority(actor, _clean_id(national_id), fresh=True)
    except registry_checks.RegistryUnavailable:
        raise CannotAct("registry_unavailable", _msg_unavailable()) from None
    if found is None:
        raise CannotAct("not_found", _msg_not_named())
    if not found.is_representative:
        return found, []
    rows = CompanyDelegation.objects.filter(company=found.company).select_related("granted_by")
    return found, list(rows.order_by("-created_at"))


def revoke_delegation(actor, pk: int, request=None) -> CompanyDelegation:
    """The grantor, or any current representative of the company, ends a delegation. Anyone
    else is told it does not exist (``not_found``)."""
    require_person(actor)
    delegation = CompanyDelegation.objects.select_related("company").filter(pk=pk).first()
    if delegation is None:
        raise CannotAct("not_found", _("There is no such authorisation."))
    if delegation.granted_by_id != actor.pk:
        try:
            found = authority(actor, delegation.company.national_id, fresh=True)
        except registry_checks.RegistryUnavailable:
            raise CannotAct("registry_unavailable", _msg_unavailable()) from None
        if found is None or not found.is_representative:
            raise CannotAct("not_found", _("There is no such authorisation."))
    with transaction.atomic():
        locked = CompanyDelegation.objects.select_for_update().get(pk=pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.revoked_by = actor
            locked.save(update_fields=["revoked_at", "revoked_by"])
            audit.record(
                AuthEvent.Kind.COMPANY_DELEGATION_REVOKED,
                request,
                user=actor,
                acting_company=delegation.company,
                delegation_id=pk,
            )
    return locked


def company_events(person: User, limit: int = 50):
    """The person's own record of what they did for companies, newest first."""
    return (
        AuthEvent.objects.filter(user=person, acting_company__isnull=False)
        .select_related("acting_company")
        .order_by("-at", "-id")[:limit]
    )
