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
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from panjereh.judiciary import queries as judiciary_queries
from panjereh.mailbox import queries as mailbox_queries
from panjereh.permits import queries as permits_queries
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


def _absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def _paper_verify_url(number: str, token: str) -> str:
    """The window's public verification page for a paper signed like a document."""
    return signed.verification_url(SimpleNamespace(number=number, token=token))


def _receipts(user, book: StatusBook, number: str | None = None) -> list[HeldDocument]:
    out = []
    for row in services_queries.receipts_held_by(user, number):
        definition = row.application.definition
        service = localised(definition.title_fa, definition.title_en)
        out.append(
            HeldDocument(
                reference=f"receipt-{row.number}",
                kind="receipt",
                kind_label=kind_label("receipt"),
                title=_("Fee receipt: %(service)s") % {"service": service},
                issuer=localised(row.agency.name_fa, row.agency.name_en),
                number=row.number,
                issued_at=row.issued_at,
                expires_at=None,
                status="valid",
                status_label=status_label("valid"),
                token=row.token,
                pdf_url=reverse("services:receipt_pdf", args=[row.number]),
                verify_url=_paper_verify_url(row.number, row.token),
            )
        )
    return out


def _permits(user, book: StatusBook, number: str | None = None) -> list[HeldDocument]:
    out = []
    today = timezone.localdate()
    for row in permits_queries.permits_held_by(user, number):
        # The register decides (the authority suspends, revokes; the holder cancels).
        if row.status == "valid" and row.valid_until is not None and row.valid_until < today:
            status, label = "expired", status_label("expired")
        elif row.status in ("valid", "expired"):
            status, label = str(row.status), status_label(str(row.status))
        else:  # suspended, revoked, cancelled: not to be relied on
            status, label = "revoked", str(row.get_status_display())
        until = None
        if row.valid_until is not None:
            until = dt.datetime.combine(
                row.valid_until, dt.time(23, 59, 59), tzinfo=timezone.get_current_timezone()
            )
        out.append(
            HeldDocument(
                reference=f"permit-{row.number}",
                kind="permit",
                kind_label=kind_label("permit"),
                title=localised(row.permit.title_fa, row.permit.title_en),
                issuer=localised(row.authority.name_fa, row.authority.name_en),
                number=row.number,
                issued_at=row.issued_at,
                expires_at=until,
                status=status,
                status_label=label,
                token=row.token,
                pdf_url=permits_queries.permit_pdf_path(row.number),
                verify_url=permits_queries.permit_public_url(row.number),
            )
        )
    return out


def _notices(user, book: StatusBook, number: str | None = None) -> list[HeldDocument]:
    out = []
    for row in mailbox_queries.notices_held_by(user, number):
        out.append(
            HeldDocument(
                reference=f"notice-{row.reference}",
                kind="notice",
                kind_label=kind_label("notice"),
                title=row.subject,
                issuer=localised(row.agency.name_fa, row.agency.name_en),
                number=row.reference,
                issued_at=row.made_available_at or row.created_at,
                expires_at=None,
                status="valid",
                status_label=status_label("valid"),
                token=row.token,
                pdf_url=None,
                verify_url=_absolute(reverse("mailbox:notice", args=[row.reference])),
            )
        )
    return out


def _proofs(user, book: StatusBook, number: str | None = None) -> list[HeldDocument]:
    out = []
    rows = mailbox_queries.notices_held_by(user, number)
    signer = mailbox_queries.proof_signer() if rows else None
    for row in rows:
        token = mailbox_queries.proof_token(row)
        out.append(
            HeldDocument(
                reference=f"proof-{row.reference}",
                kind="proof_of_service",
                kind_label=kind_label("proof_of_service"),
                title=_("Proof of service: %(subject)s") % {"subject": row.subject},
                issuer=localised(signer.name_fa, signer.name_en),
                number=row.reference,
                issued_at=row.served_at or row.opened_at or row.created_at,
                expires_at=None,
                status="valid",
                status_label=status_label("valid"),
                token=token,
                pdf_url=reverse("mailbox:proof", args=[row.reference]),
                verify_url=_absolute(reverse("mailbox:verify")) + "?t=" + token,
            )
        )
    return out


def _bill_receipts(user, book: StatusBook, number: str | None = None) -> list[HeldDocument]:
    out = []
    for row in judiciary_queries.bill_receipts_of(user, number):
        claims = claims_of(row.receipt_token)
        out.append(
            HeldDocument(
                reference=f"bill-{row.reference}",
                kind="bill_receipt",
                kind_label=kind_label("bill_receipt"),
                title=localised(claims.get("title_fa", ""), claims.get("title_en", "")),
                issuer=localised(claims.get("iss_fa", ""), claims.get("iss_en", "")),
                number=row.reference,
                issued_at=row.submitted_at or row.created_at,
                expires_at=None,
                status="valid",
                status_label=status_label("valid"),
                token=row.receipt_token,
                pdf_url=judiciary_queries.bill_receipt_pdf_path(row),
                verify_url=_paper_verify_url(row.reference, row.receipt_token),
            )
        )
    return out


SOURCES = {
    "certificate": _certificates,
    "permit": _permits,
    "receipt": _receipts,
    "notice": _notices,
    "proof_of_service": _proofs,
    "bill_receipt": _bill_receipts,
}


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


def _payments_due(user) -> list[PaymentDue]:
    """The fees the person has still to pay: applications for a service, and for a permit."""
    due = [
        PaymentDue(
            reference=app.tracking_code,
            title=localised(app.definition.title_fa, app.definition.title_en),
            amount_rials=app.fee_rials,
            url=reverse("services:detail", args=[app.tracking_code]),
        )
        for app in services_queries.applications_waiting_for(user)
        if app.fee_rials > 0
    ]
    due += [
        PaymentDue(
            reference=app.reference,
            title=localised(app.permit.title_fa, app.permit.title_en),
            amount_rials=app.fee_rials,
            url=reverse("permits:application", args=[app.reference]),
        )
        for app in permits_queries.applications_waiting_for(user)
        if app.state == "awaiting_payment" and app.fee_rials > 0
    ]
    return due


def _applications_waiting(user) -> list[ApplicationWaiting]:
    """Applications that wait for something from the person other than a fee (the fees are
    in ``payments_due``, so nothing is counted twice): more information an authority asked
    for, a service's step that waits on them."""
    waiting = [
        ApplicationWaiting(
            tracking_code=app.tracking_code,
            title=localised(app.definition.title_fa, app.definition.title_en),
            state_label=str(app.get_state_display()),
            url=reverse("services:detail", args=[app.tracking_code]),
        )
        for app in services_queries.applications_waiting_for(user)
        if app.fee_rials <= 0
    ]
    waiting += [
        ApplicationWaiting(
            tracking_code=app.reference,
            title=localised(app.permit.title_fa, app.permit.title_en),
            state_label=str(app.get_state_display()),
            url=reverse("permits:application", args=[app.reference]),
        )
        for app in permits_queries.applications_waiting_for(user)
        if not (app.state == "awaiting_payment" and app.fee_rials > 0)
    ]
    return waiting


def _notices_unread(user) -> list[NoticeUnread]:
    return [
        NoticeUnread(
            reference=row.reference,
            title=row.subject,
            sender=localised(row.agency.name_fa, row.agency.name_en),
            sent_at=row.made_available_at or row.created_at,
            url=reverse("mailbox:notice", args=[row.reference]),
        )
        for row in mailbox_queries.unread_notices(user)
    ]


def needs_action(user) -> NeedsAction:
    """What waits for the person: fees to pay, official notices to read, applications that
    wait for them. Reading this changes nothing (a notice is opened only in the mailbox)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NeedsAction()
    return NeedsAction(
        payments_due=_payments_due(user),
        notices_unread=_notices_unread(user),
        applications_waiting=_applications_waiting(user),
    )


# -- what a document says ---------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    label: str
    value: str
    lang: str = ""  # "fa" when a Persian value is shown on the English page


def value_lang(value: str) -> str:
    """ "fa" for a Persian value shown on the English page (read as Persian), else ""."""
    return "fa" if _english() and re.search(r"[\u0600-\u06ff]", value or "") else ""


def _field(label: str, value: Any) -> Field:
    from panjereh.common.persian import to_persian_digits

    text = str(value if value is not None else "")
    if not _english():
        text = to_persian_digits(text)
    return Field(label, text, value_lang(text))


def _date(value: dt.date | dt.datetime | None) -> str:
    from panjereh.common import jalali

    if value is None:
        return ""
    if _english():
        if isinstance(value, dt.datetime):
            value = value.astimezone(jalali.TEHRAN)
        return value.strftime("%d %b %Y")
    return jalali.format_fa(value)


def text_of(document: HeldDocument) -> str:
    """The document's statement (its sentence), in the page's language where it has one."""
    claims = claims_of(document.token)
    if document.kind == "notice":
        return str(claims.get("body", ""))
    if _english() and claims.get("text_en"):
        return str(claims["text_en"])
    return str(claims.get("text_fa", ""))


def fields_of(document: HeldDocument) -> list[Field]:
    """What the signed document says, as labelled rows for people (no national code, no raw
    internal code)."""
    claims = claims_of(document.token)
    if document.kind == "permit":
        rows = [
            _field(_("Holder"), claims.get("holder", "")),
            _field(_("Business name"), claims.get("business", "")),
            _field(_("Province"), claims.get("province", "")),
            _field(
                _("Issuing authority"),
                localised(claims.get("auth_fa", ""), claims.get("auth_en", "")),
            ),
        ]
        for label, key in ((_("Valid from"), "valid_from"), (_("Valid until"), "valid_until")):
            try:
                rows.append(_field(label, _date(dt.date.fromisoformat(claims.get(key, "")))))
            except (TypeError, ValueError):
                continue
        return [r for r in rows if r.value]
    if document.kind == "notice":
        return [_field(_("Subject"), claims.get("subject", ""))]
    if document.kind == "proof_of_service":
        rows = [
            _field(_("Subject"), claims.get("subject", "")),
            _field(
                _("Sent by"), localised(claims.get("sender_fa", ""), claims.get("sender_en", ""))
            ),
        ]
        for label, key in (
            (_("Made available"), "made_available_at"),
            (_("Opened"), "opened_at"),
            (_("Served"), "served_at"),
        ):
            if isinstance(claims.get(key), int):
                rows.append(_field(label, _date(dt.datetime.fromtimestamp(claims[key], tz=dt.UTC))))
        return rows
    rows = []
    for item in claims.get("fields", []):
        if not isinstance(item, list) or len(item) < 4:
            continue
        label_fa, label_en, value_fa, value_en = (str(x) for x in item[:4])
        rows.append(_field(localised(label_fa, label_en), localised(value_fa, value_en)))
    return rows
