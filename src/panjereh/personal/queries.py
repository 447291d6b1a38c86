"""What a signed-in person holds and what waits for them, read from the other apps' ``queries``.

``documents_of(user)`` gathers every signed document the person holds, whatever app issued it,
as :class:`HeldDocument` rows (newest first) with their status: *valid*, *revoked* or
*expired*. Revocation is read from each issuing agency's signed status list (IETF Token Status
List, ``services.documents``), one list per agency per call, checked once and kept for the
call (:class:`StatusBook`), not one request per document; a document whose app keeps its own
register (a permit's status) is read from that register. ``needs_action(user)`` is what the
signed-in home shows first. The citizen API (``panjereh.citizenapi``) reads the same functions.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from panjereh.services import documents as signed
from panjereh.services import keys
from panjereh.services import queries as services_queries

KINDS = ("certificate", "permit", "receipt", "notice", "proof_of_service", "bill_receipt")
PREFIXES = {
    "cert": "certificate",
    "permit": "permit",
    "receipt": "receipt",
    "notice": "notice",
    "proof": "proof_of_service",
    "bill": "bill_receipt",
}


@dataclass(frozen=True)
class HeldDocument:
    reference: str  # unique, URL-safe, stable: "cert-<number>", "permit-<number>", …
    kind: str  # one of KINDS
    kind_label: str  # localised (current language)
    title: str  # localised
    issuer: str  # localised agency name
    number: str  # the document's own number as printed
    issued_at: dt.datetime
    expires_at: dt.datetime | None
    status: str  # "valid" | "revoked" | "expired"
    status_label: str  # localised
    token: str  # the compact JWS
    pdf_url: str | None  # the PDF for the signed-in holder, or None
    verify_url: str  # public verification address for this document


def kind_label(kind: str) -> str:
    return {
        "certificate": _("Certificate"),
        "permit": _("Permit"),
        "receipt": _("Payment receipt"),
        "notice": _("Official notice"),
        "proof_of_service": _("Proof of service"),
        "bill_receipt": _("Bill receipt"),
    }.get(kind, _("Document"))


def status_label(status: str) -> str:
    return {"valid": _("Valid"), "revoked": _("Revoked"), "expired": _("Expired")}.get(
        status, _("Valid")
    )


def _english() -> bool:
    return (translation.get_language() or "fa").startswith("en")


def localised(fa: str, en: str) -> str:
    return (en or fa) if _english() else (fa or en)


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a token issued here (read, not checked: for showing)."""
    try:
        part = token.split(".")[1]
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _expiry(claims: dict[str, Any]) -> dt.datetime | None:
    exp = claims.get("exp")
    if isinstance(exp, int | float):
        return dt.datetime.fromtimestamp(exp, tz=dt.UTC)
    return None


# -- status lists ---------------------------------------------------------------------------


@dataclass
class StatusBook:
    """The agencies' status lists, each fetched and its signature checked once per book (one
    page, one API answer). ``revoked(claims)`` is True / False, or None when the list cannot be
    read (then the caller falls back to the issuer's register)."""

    lists: dict[str, str | None] = field(default_factory=dict)  # agency code -> lst
    subjects: dict[str, str | None] = field(default_factory=dict)  # agency code -> list URI
    fetched: int = 0  # how many lists were read (tests count them)
    _jwks: dict[str, Any] | None = None

    def _list_of(self, agency) -> str | None:
        if agency.code not in self.lists:
            self.fetched += 1
            if self._jwks is None:
                self._jwks = keys.jwks()
            token = signed.status_list_token(agency)
            check = signed.verify_signature(token, self._jwks)
            claims = check.claims
            good = (
                check.status == "valid"
                and claims.get("iss") == agency.code
                and isinstance(claims.get("status_list"), dict)
                and claims["status_list"].get("bits") == 1
            )
            self.lists[agency.code] = claims["status_list"].get("lst") if good else None
            self.subjects[agency.code] = claims.get("sub") if good else None
        return self.lists[agency.code]

    def revoked(self, agency, claims: dict[str, Any]) -> bool | None:
        reference = (claims.get("status") or {}).get("status_list")
        if not isinstance(reference, dict):
            return None
        lst = self._list_of(agency)
        if lst is None or self.subjects.get(agency.code) != reference.get("uri"):
            return None
        try:
            return bool(signed.status_bit(lst, int(reference["idx"])))
        except (IndexError, ValueError, KeyError, TypeError):
            return None


def _dated_status(revoked: bool, expires_at: dt.datetime | None) -> str:
    if revoked:
        return "revoked"
    if expires_at is not None and expires_at <= timezone.now():
        return "expired"
    return "valid"


# -- the sources, one per kind -----------------------------------------------------------------


def _certificates(user, book: StatusBook, number: str | None = None) -> list[HeldDocument]:
    out = []
    for row in services_queries.documents_held_by(user, number):
        claims = claims_of(row.token)
        expires = _expiry(claims)
        listed = book.revoked(row.agency, claims)
        revoked = listed if listed is not None else row.revoked_at is not None
        status = _dated_status(revoked, expires)
        out.append(
            HeldDocument(
                reference=f"cert-{row.number}",
                kind="certificate",
                kind_label=kind_label("certificate"),
                title=localised(claims.get("title_fa", ""), claims.get("title_en", ""))
                or localised(
                    row.application.definition.title_fa, row.application.definition.title_en
                ),
                issuer=localised(row.agency.name_fa, row.agency.name_en),
                number=row.number,
                issued_at=row.issued_at,
                expires_at=expires,
                status=status,
                status_label=status_label(status),
                token=row.token,
                pdf_url=reverse("services:document_pdf", args=[row.number]),
                verify_url=signed.verification_url(row),
            )
        )
    return out


SOURCES = {"certificate": _certificates}


REFERENCE_RE = re.compile(r"[a-z]{3,7}-[A-Za-z0-9_-]{1,60}")


def _parse(reference: str) -> tuple[str, str] | None:
    """(kind, number) of a well-formed reference, else None (nothing reaches the database)."""
    if not isinstance(reference, str) or not REFERENCE_RE.fullmatch(reference):
        return None
    prefix, _sep, number = reference.partition("-")
    if prefix not in PREFIXES:
        return None
    return PREFIXES[prefix], number


def documents_of(user, book: StatusBook | None = None) -> list[HeldDocument]:
    """Every signed document ``user`` holds, newest first, all kinds."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    book = book or StatusBook()
    held: list[HeldDocument] = []
    for source in SOURCES.values():
        held.extend(source(user, book))
    held.sort(key=lambda d: (d.issued_at, d.reference), reverse=True)
    return held


def document_of(user, reference: str, book: StatusBook | None = None) -> HeldDocument | None:
    """The document ``reference`` if ``user`` holds it, else None (someone else's, unknown)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    parsed = _parse(reference)
    if parsed is None or parsed[0] not in SOURCES:
        return None
    kind, number = parsed
    found = [
        d for d in SOURCES[kind](user, book or StatusBook(), number) if d.reference == reference
    ]
    return found[0] if found else None


# -- what needs the person's action ---------------------------------------------------------------


@dataclass(frozen=True)
class PaymentDue:
    reference: str
    title: str
    amount_rials: int
    url: str


@dataclass(frozen=True)
class NoticeUnread:
    reference: str
    title: str
    sender: str
    sent_at: dt.datetime
    url: str


@dataclass(frozen=True)
class ApplicationWaiting:
    tracking_code: str
    title: str
    state_label: str
    url: str


@dataclass(frozen=True)
class NeedsAction:
    payments_due: list = field(default_factory=list)  # PaymentDue
    notices_unread: list = field(default_factory=list)  # NoticeUnread
    applications_waiting: list = field(default_factory=list)  # ApplicationWaiting

    @property
    def count(self) -> int:
        return len(self.payments_due) + len(self.notices_unread) + len(self.applications_waiting)


def _applications_waiting(user) -> list[ApplicationWaiting]:
    """Applications that wait for something from the person other than a fee (the fees are
    in ``payments_due``, so nothing is counted twice)."""
    return [
        ApplicationWaiting(
            tracking_code=app.tracking_code,
            title=localised(app.definition.title_fa, app.definition.title_en),
            state_label=str(app.get_state_display()),
            url=reverse("services:detail", args=[app.tracking_code]),
        )
        for app in services_queries.applications_waiting_for(user)
        if app.fee_rials <= 0
    ]


def _payments_due(user) -> list[PaymentDue]:
    return [
        PaymentDue(
            reference=app.tracking_code,
            title=localised(app.definition.title_fa, app.definition.title_en),
            amount_rials=app.fee_rials,
            url=reverse("services:detail", args=[app.tracking_code]),
        )
        for app in services_queries.applications_waiting_for(user)
        if app.fee_rials > 0
    ]


def needs_action(user) -> NeedsAction:
    if user is None or not getattr(user, "is_authenticated", False):
        return NeedsAction()
    return NeedsAction(
        payments_due=_payments_due(user),
        notices_unread=[],
        applications_waiting=_applications_waiting(user),
    )
