"""The official mailbox's write use cases: send, make available, open, serve, call back, bulk.

A notice is accepted whole or not at all: the addressee is checked, every attachment is
checked by its content and size, then one transaction stores the signed notice, its
attachments, its events, the addressee's SMS alert (through the inbox, which sends it without
the content) and the agency's callback. A replayed request (same idempotency key, same
content) gets the notice stored the first time; the same key with other content is refused.

The legal status moves through :data:`MACHINE` (``common.statemachine``), each move an event:
created → made_available → opened → served, or made_available → served when the notice is
deemed served (``PANJEREH_MAILBOX_DEEMED_DAYS`` after it was made available, docs/mailbox.md).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency
from panjereh.common import badinput, httpclient, jalali, statemachine
from panjereh.common.uniquecode import insert_with_unique_code
from panjereh.identity import businesses, registry_checks
from panjereh.identity.models import LegalPerson, User
from panjereh.identity.validators import is_valid_legal_national_id, is_valid_national_code
from panjereh.inbox import notify
from panjereh.services import documents

from . import conf
from .models import (
    Attachment,
    Batch,
    BatchItem,
    Callback,
    Notice,
    NoticeEvent,
    RecipientKind,
    State,
)

log = logging.getLogger(__name__)
NOTICE_TYPE = "panjereh-notice+jws"
PROOF_TYPE = "panjereh-proof-of-service+jws"
CALLBACK_TYPE = "panjereh-notice-status+jws"
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NAME_RE = re.compile(r"^[^/\\\x00-\x1f\x7f]{1,200}$")
MAX_SUBJECT = 300
MAX_BODY = 20_000


class MailboxError(Exception):
    """A refused request: an API error code, its HTTP status and a message to show."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.message = message


def _bad(code: str, message: str, status: int = 400) -> MailboxError:
    return MailboxError(code, status, message)


# -- the state machine ----------------------------------------------------------------------


def _record(locked: Notice, from_state: str, to_state: str, *, by=None, changes=None, **event):
    at = (changes or {}).get(
        {
            State.MADE_AVAILABLE: "made_available_at",
            State.OPENED: "opened_at",
            State.SERVED: "served_at",
        }.get(to_state, ""),
        timezone.now(),
    )
    NoticeEvent.objects.create(
        notice=locked,
        at=at,
        from_state=from_state,
        to_state=to_state,
        by=by if isinstance(by, User) else None,
        detail=event.get("detail", "")[:300],
    )
    if locked.callback_url:
        Callback.objects.get_or_create(
            notice=locked, state=to_state, defaults={"url": locked.callback_url}
        )


MACHINE = statemachine.Machine(
    {
        State.CREATED: {State.SENDING, State.HELD, State.MADE_AVAILABLE, State.FAILED},
        State.HELD: {State.MADE_AVAILABLE, State.FAILED},
        State.SENDING: {State.MADE_AVAILABLE, State.FAILED},
        State.MADE_AVAILABLE: {State.OPENED, State.SERVED},
        State.OPENED: {State.SERVED},
        State.SERVED: set(),
        State.FAILED: set(),
    },
    record=_record,
    update_fields=(),
)


# -- checking a request ---------------------------------------------------------------------


@dataclass
class Upload:
    name: str
    content_type: str
    data: bytes
    sha256: str


@dataclass
class Draft:
    """A checked notice, ready to be stored."""

    recipient_kind: str
    recipient: str
    subject: str
    body: str
    callback_url: str = ""
    attachments: list[Upload] = field(default_factory=list)


def sniff(data: bytes) -> str:
    """The type of an attachment by its content (not its name): PDF, PNG or JPEG, else ''."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return ""


def _text(value: Any, name: str, limit: int, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise _bad("bad_field", _("The field %(name)s must be text.") % {"name": name})
    value = value.strip()
    if required and not value:
        raise _bad("missing_field", _("The field %(name)s is required.") % {"name": name})
    if "\x00" in value or _CONTROL_RE.search(value) or not badinput.clean_text(value):
        raise _bad("bad_input", _("The field %(name)s holds control characters.") % {"name": name})
    if len(value) > limit:
        raise _bad(
            "field_too_long",
            _("The field %(name)s is longer than %(limit)s characters.")
            % {"name": name, "limit": limit},
        )
    return value


def _callback(value: Any) -> str:
    url = _text(value, "callback_url", 500, required=False)
    if url and not re.fullmatch(r"https?://[^\s]+", url):
        raise _bad("bad_field", _("callback_url must be an http or https address."))
    if url and getattr(settings, "MODE", "") == "production" and not url.startswith("https://"):
        raise _bad("bad_field", _("callback_url must be an https address."))
    return url


def check(data: Any, *, with_attachments: bool = True) -> Draft:
    """A notice request (decoded JSON) checked whole; raises :class:`MailboxError`."""
    if not isinstance(data, dict):
        raise _bad("bad_request", _("The request must be a JSON object."))
    to = data.get("to")
    if not isinstance(to, dict):
        raise _bad(
            "missing_field",
            _('Name the addressee: "to": {"national_code": …} or {"national_id": …}.'),
        )
    if "national_code" in to:
        code = str(to.get("national_code") or "").strip()
        if not is_valid_national_code(code):
            raise _bad(
                "bad_national_code",
                _("The national code is not valid (10 digits with a check digit)."),
            )
        kind = RecipientKind.PERSON
    elif "national_id" in to:
        code = str(to.get("national_id") or "").strip()
        if not is_valid_legal_national_id(code):
            raise _bad(
                "bad_national_id",
                _("The national ID is not valid (11 digits with a check digit)."),
            )
        kind = RecipientKind.COMPANY
    else:
        raise _bad(
            "missing_field",
            _('Name the addressee: "to": {"national_code": …} or {"national_id": …}.'),
        )
    draft = Draft(
        recipient_kind=kind,
        recipient=code,
        subject=_text(data.get("subject"), "subject", MAX_SUBJECT),
        body=_text(data.get("body"), "body", MAX_BODY),
        callback_url=_callback(data.get("callback_url")),
    )
    files = data.get("attachments") or []
    if files and not with_attachments:
        raise _bad("bad_field", _("This notice may not carry attachments."))
    if not isinstance(files, list):
        raise _bad("bad_field", _("attachments must be a list."))
    if len(files) > int(conf.get("MAX_ATTACHMENTS")):
        raise _bad(
            "too_many_attachments",
            _("A notice carries at most %(n)s attachments.") % {"n": conf.get("MAX_ATTACHMENTS")},
        )
    limit = int(conf.get("MAX_ATTACHMENT_BYTES"))
    for index, item in enumerate(files, start=1):
        if not isinstance(item, dict):
            raise _bad("bad_field", _("Each attachment is an object with a name and content."))
        name = _text(item.get("name"), "attachments.name", 200)
        if not _NAME_RE.match(name):
            raise _bad("bad_field", _("An attachment's name may not hold slashes."))
        content = item.get("content")
        if not isinstance(content, str) or len(content) > limit * 4 // 3 + 8:
            if isinstance(content, str):
                raise _too_large(index, limit)
            raise _bad("bad_field", _("An attachment's content must be base64 text."))
        try:
            raw = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise _bad(
                "bad_attachment", _("An attachment's content is not valid base64.")
            ) from None
        if len(raw) > limit:
            raise _too_large(index, limit)
        kind_of = sniff(raw)
        if not kind_of:
            raise _bad(
                "bad_attachment_type",
                _("Attachment %(n)s is not a PDF, PNG or JPEG file (checked by its content).")
                % {"n": index},
            )
        draft.attachments.append(Upload(name, kind_of, raw, hashlib.sha256(raw).hexdigest()))
    return draft


def _too_large(index: int, limit: int) -> MailboxError:
    return MailboxError(
        "attachment_too_large",
        413,
        _("Attachment %(n)s is larger than %(limit)s bytes; nothing was sent.")
        % {"n": index, "limit": limit},
    )


def request_hash(data: Any) -> str:
    """The SHA-256 of a request's content in one canonical form (keys sorted)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    # surrogatepass: a lone surrogate (refused by the checks after) must not crash the hash.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class Addressee:
    """Who a checked notice goes to: the person's account (None for a company or a person not
    yet signed up), whether it is kept until they sign in, and the company's representatives
    to alert."""

    user: User | None = None
    held: bool = False
    representatives: list[User] = field(default_factory=list)


def _unavailable() -> MailboxError:
    return MailboxError(
        "registry_unavailable",
        503,
        _("The registry could not be asked about the addressee; nothing was sent. Retry later."),
    )


def resolve(draft: Draft) -> Addressee:
    """The addressee of a checked notice, or :class:`MailboxError`.

    A person registered with the window gets it at once. A person the civil registry knows
    (asked through the exchange, the person as the subject of the inquiry) who has not signed
    up yet: the notice is kept (``held``) and made available when they first sign in. A
    national code the civil registry does not know is refused (``unknown_addressee``). A
    company must be known to the window and to the company registry; the registry names its
    representatives (directors, signatories), those with an account are alerted."""
    if draft.recipient_kind == RecipientKind.PERSON:
        user = User.objects.filter(national_code=draft.recipient, is_active=True).first()
        if user is not None:
            return Addressee(user=user)
        try:
            record = registry_checks.civil_identity(draft.recipient)
        except registry_checks.RegistryUnavailable:
            raise _unavailable() from None
        if record is None:
            raise MailboxError(
                "unknown_addressee",
                422,
                _("The civil registry knows no person with this national code; nothing was sent."),
            )
        return Addressee(held=True)
    if not LegalPerson.objects.filter(national_id=draft.recipient).exists():
        raise MailboxError(
            "unknown_addressee",
            422,
            _("No company with this national ID is known to the national window."),
        )
    try:
        record = businesses.company_from_registry(draft.recipient, "", fresh=False)
    except registry_checks.RegistryUnavailable:
        raise _unavailable() from None
    if record is None:
        raise MailboxError(
            "unknown_addressee",
            422,
            _("The company registry knows no company with this national ID; nothing was sent."),
        )
    codes = {
        code for code, role, _since in record.representatives if role in businesses.ROLE_SCOPES
    }
    people = list(User.objects.filter(national_code__in=codes, is_active=True).order_by("pk"))
    return Addressee(representatives=people)


def addressee(draft: Draft) -> User | None:
    """The person's account (None for a company or a person kept for until they sign up);
    raises when neither the window nor the registries know the addressee."""
    return resolve(draft).user


# -- sending --------------------------------------------------------------------------------


def _new_reference() -> str:
    return f"N{jalali.iso(timezone.now()).replace('-', '')[2:]}{secrets.token_hex(5).upper()}"


def _claims(agency: Agency, draft: Draft, reference: str, at: dt.datetime) -> dict[str, Any]:
    return {
        "iss": agency.code,
        "iss_fa": agency.name_fa,
        "iss_en": agency.name_en,
        "ref": reference,
        "to": {draft.recipient_kind: draft.recipient},
        "subject": draft.subject,
        "body": draft.body,
        "att": [
            {"name": a.name, "type": a.content_type, "size": len(a.data), "sha256": a.sha256}
            for a in draft.attachments
        ],
        "iat": int(at.timestamp()),
    }


def _same_or_conflict(existing: Notice, digest: str) -> Notice:
    if existing.request_hash != digest:
        raise MailboxError(
            "idempotency_conflict",
            409,
            _("This idempotency key was used for another notice; use a new key."),
        )
    return existing


def send(
    agency: Agency,
    client: str,
    draft: Draft,
    *,
    idempotency_key: str,
    digest: str,
    batch: Batch | None = None,
    alert: dict[str, str] | None = None,
) -> tuple[Notice, bool]:
    """Store, sign and make available one notice; (notice, created). Idempotent per (agency,
    key): the same content returns the stored notice, other content raises a 409 error.

    ``alert`` (callers inside the window only, never the machine API): the texts of the
    person's inbox alert and so of its SMS (``subject_fa``, ``subject_en``, ``body_fa``,
    ``body_en``) for a notice whose content is not confidential, such as an appointment
    reminder that must say the time; otherwise the alert names the sender only."""
    existing = Notice.objects.filter(agency=agency, idempotency_key=idempotency_key).first()
    if existing is not None:
        return _same_or_conflict(existing, digest), False
    found = resolve(draft)
    user = found.user

    made: list[Notice] = []

    def insert(reference: str) -> Notice:
        now = timezone.now()
        token, kid = documents.sign(agency, _claims(agency, draft, reference, now), NOTICE_TYPE)
        notice = Notice.objects.create(
            reference=reference,
            agency=agency,
            client=client[:200],
            recipient_kind=draft.recipient_kind,
            recipient=draft.recipient,
            user=user,
            subject=draft.subject,
            body=draft.body,
            callback_url=draft.callback_url,
            idempotency_key=idempotency_key,
            request_hash=digest,
            batch=batch,
            token=token,
            kid=kid,
            created_at=now,
        )
        for position, upload in enumerate(draft.attachments):
            Attachment.objects.create(
                notice=notice,
                position=position,
                name=upload.name,
                content_type=upload.content_type,
                size=len(upload.data),
                sha256=upload.sha256,
                data=upload.data,
            )
        NoticeEvent.objects.create(notice=notice, at=now, to_state=State.CREATED)
        if found.held:
            MACHINE.move(notice, State.HELD, event={"detail": "kept until the addressee signs in"})
        else:
            if user is not None:
                alerted = int(_alert(notice, user, texts=alert))
            else:
                alerted = sum(_alert(notice, rep, company=True) for rep in found.representatives)
            MACHINE.move(
                notice, State.MADE_AVAILABLE, made_available_at=timezone.now(), alerted=alerted
            )
        made.append(notice)
        return notice

    def raced(_exc: IntegrityError) -> Notice | None:
        return Notice.objects.filter(agency=agency, idempotency_key=idempotency_key).first()

    with transaction.atomic():
        notice = insert_with_unique_code(_new_reference, insert, on_conflict=raced)
    created = bool(made) and made[-1].pk == notice.pk
    if not created:
        _same_or_conflict(notice, digest)  # another request with this key stored it first
    return notice, created


def _alert(
    notice: Notice, user: User, *, company: bool = False, texts: dict[str, str] | None = None
) -> bool:
    """The addressee's inbox alert (and through it the SMS): who sent a notice, not what. For
    a company, each representative the registry names gets one naming the company, never the
    notice's subject or text. ``texts``: a window caller's own alert texts (``send``'s
    ``alert``). True if a new alert was posted."""
    fields = _alert_fields(notice, company=company)
    if texts:
        keys = ("subject_fa", "subject_en", "body_fa", "body_en")
        fields.update({key: str(texts[key]) for key in keys if texts.get(key)})
    _message, created = notify.post(user, **fields)
    return created


def _alert_fields(notice: Notice, *, company: bool = False) -> dict[str, str]:
    agency = notice.agency
    with translation.override("fa"):
        url = reverse("mailbox:notice", args=[notice.reference])
    sender_fa, sender_en = agency.name_fa, agency.name_en or agency.name_fa
    if company:
        name = (
            LegalPerson.objects.filter(national_id=notice.recipient)
            .values_list("name", flat=True)
            .first()
            or notice.recipient
        )
        texts = {
            "subject_fa": f"ابلاغیه رسمی برای {name} از {sender_fa}",
            "subject_en": f"An official notice to {name} from {sender_en}",
            "body_fa": f"یک ابلاغیه رسمی برای {name} گذاشته شد. برای دیدن آن، به‌جای این "
            "شرکت وارد شوید و به صندوق ابلاغیه‌های رسمی بروید.",
            "body_en": f"An official notice to {name} was put in its mailbox. Act for the "
            "company and open the official mailbox to read it.",
        }
    else:
        texts = {
            "subject_fa": f"ابلاغیه رسمی از {sender_fa}",
            "subject_en": f"An official notice from {sender_en}",
            "body_fa": "یک ابلاغیه رسمی در صندوق ابلاغیه‌های شما گذاشته شد. برای دیدن متن آن به "
            "صندوق ابلاغیه‌های رسمی بروید.",
            "body_en": "An official notice was put in your mailbox. Open the official mailbox "
            "to read it.",
        }
    return {
        "kind": "notice",
        "dedupe_key": f"mailbox:{notice.reference}",
        "link_url": url,
        "link_label_fa": "دیدن ابلاغیه در صندوق ابلاغیه‌های رسمی",
        "link_label_en": "Read the notice in the official mailbox",
        **texts,
    }


def deliver_held(user) -> int:
    """Make available the notices kept for ``user`` (sent before they signed up): called when
    they sign in (``user_logged_in``) and when their mailbox is shown. The legal "made
    available" moment, and so the deemed-served clock, starts now. How many were delivered."""
    code = getattr(user, "national_code", "") or ""
    if not code or not getattr(user, "is_active", False):
        return 0
    delivered = 0
    held = Notice.objects.filter(
        recipient=code, recipient_kind=RecipientKind.PERSON, state=State.HELD
    ).order_by("created_at", "pk")
    for notice in held.select_related("agency"):
        try:
            with transaction.atomic():
                alerted = int(_alert(notice, user))
                MACHINE.move(
                    notice,
                    State.MADE_AVAILABLE,
                    made_available_at=timezone.now(),
                    alerted=alerted,
                    event={"detail": "made available when the addressee signed in"},
                )
        except statemachine.InvalidTransition:
            continue  # delivered meanwhile by another request (its alert rolled back here)
        delivered += 1
    return delivered


NOT_REACHABLE = "not_reachable_electronically"


def expire_held(limit: int = 500, now: dt.datetime | None = None) -> int:
    """The job ``mailbox-held-expire``: a notice kept (``held``) for a person who has not
    signed up for ``HELD_DAYS`` days closes as ``failed`` with the reason
    :data:`NOT_REACHABLE`; the sender reads it in the status and gets it by its callback, and
    serves the notice on paper. Never made available afterwards (the agency was told to serve
    it otherwise). How many were closed."""
    days = int(conf.get("HELD_DAYS"))
    if days <= 0:
        return 0
    now = now or timezone.now()
    due = Notice.objects.filter(
        state=State.HELD, created_at__lte=now - dt.timedelta(days=days)
    ).order_by("created_at", "pk")
    closed = 0
    for notice in due[:limit]:
        try:
            with transaction.atomic():
                MACHINE.move(
                    notice,
                    State.FAILED,
                    failed_reason=NOT_REACHABLE,
                    event={
                        "detail": f"kept {days} days; the addressee has not signed up: "
                        "not reachable electronically, to be served on paper"
                    },
                )
        except statemachine.InvalidTransition:
            continue  # made available meanwhile (the person signed in)
        closed += 1
    return closed


# -- the legal status -----------------------------------------------------------------------


def deemed_at(notice: Notice) -> dt.datetime | None:
    """When the notice is deemed served if not opened first (None: only opening serves)."""
    days = int(conf.get("DEEMED_DAYS"))
    if days <= 0 or notice.made_available_at is None:
        return None
    return notice.made_available_at + dt.timedelta(days=days)


def serve_if_due(notice: Notice, now: dt.datetime | None = None) -> Notice:
    """Mark a notice served if the rule says it is by ``now``; the time is the rule's own."""
    now = now or timezone.now()
    due = deemed_at(notice)
    if notice.state != State.MADE_AVAILABLE or due is None or due > now:
        return notice
    try:
        return MACHINE.move(
            notice,
            State.SERVED,
            served_at=due,
            served_by=Notice.ServedBy.DEEMED,
            event={"detail": "deemed served"},
        )
    except statemachine.InvalidTransition:
        return notice  # opened (and so served) meanwhile


def due_for_service(notices=None):
    """The notices (of ``notices``, or all) whose deemed-served moment has come."""
    notices = Notice.objects.all() if notices is None else notices
    days = int(conf.get("DEEMED_DAYS"))
    if days <= 0:
        return notices.none()
    cutoff = timezone.now() - dt.timedelta(days=days)
    return notices.filter(state=State.MADE_AVAILABLE, made_available_at__lte=cutoff)


def serve_due(limit: int = 1000) -> int:
    """The job ``mailbox-serve-due``: notices whose deemed-served moment has come."""
    served = 0
    for notice in due_for_service().order_by("made_available_at")[:limit]:
        served += int(serve_if_due(notice).state == State.SERVED)
    return served


@dataclass(frozen=True)
class Reader:
    """Who reads a notice and whether it counts as the addressee opening it."""

    user: User
    is_addressee: bool
    helper_of: User | None = None


def reader(notice: Notice, user, *, principal=None, company_authority=None) -> Reader | None:
    """Whether ``user`` may read the notice (None: no). The addressee themself, or a company's
    representative, opens it; a helper acting for the person, or a company's delegate, reads
    it without opening it. ``principal`` is the person a helper acts for; ``company_authority``
    the ``identity.businesses.Authority`` of the user for the notice's company (asked afresh)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if notice.recipient_kind == RecipientKind.PERSON:
        if principal is not None and principal.pk != user.pk:
            if principal.national_code == notice.recipient:
                return Reader(user, False, helper_of=principal)
            return None
        if user.national_code and user.national_code == notice.recipient:
            return Reader(user, True)
        return None
    if company_authority is None or company_authority.company.national_id != notice.recipient:
        return None
    if "read" not in company_authority.scopes:
        return None
    return Reader(user, company_authority.is_representative)


def open_notice(notice: Notice, who: Reader) -> Notice:
    """The notice shown to ``who``: the first time the addressee themself opens it, opened_at
    (and, under the rule, served_at) is recorded once; a helper or delegate changes nothing."""
    if notice.state == State.HELD:
        if not who.is_addressee:
            return notice  # kept for the addressee: a helper's reading makes nothing available
        deliver_held(who.user)
        notice.refresh_from_db()
    serve_if_due(notice)
    if not who.is_addressee or notice.opened_at is not None:
        return notice
    now = timezone.now()
    with transaction.atomic():
        locked = Notice.objects.select_for_update().get(pk=notice.pk)
        if locked.opened_at is not None:
            return locked
        if locked.state == State.SERVED:
            # Deemed served before it was opened: the opening is still a fact on the record.
            Notice.objects.filter(pk=locked.pk).update(opened_at=now)
            NoticeEvent.objects.create(
                notice=locked, at=now, from_state=State.SERVED, to_state=State.OPENED, by=who.user
            )
            locked.opened_at = now
            return locked
        MACHINE.move(locked, State.OPENED, by=who.user, opened_at=now)
        MACHINE.move(
            locked,
            State.SERVED,
            by=who.user,
            served_at=now,
            served_by=Notice.ServedBy.OPENED,
            event={"detail": "opened by the addressee"},
        )
    notice.refresh_from_db()
    return notice


# -- callbacks ------------------------------------------------------------------------------


def witness() -> Agency:
    """The window's operator, whose key signs proofs of service and callbacks."""
    code = conf.get("WITNESS_AGENCY")
    agency = Agency.objects.filter(code=code).first()
    if agency is not None:
        return agency
    from panjereh.catalogue import operations as catalogue

    try:
        return catalogue.save_agency(
            Agency(),
            {
                "code": code,
                "name_fa": "سازمان فناوری اطلاعات ایران",
                "name_en": "Information Technology Organization of Iran",
                "kind": "organisation",
            },
            author=roles.SYSTEM,
        )
    except IntegrityError:  # pragma: no cover - created meanwhile
        return Agency.objects.get(code=code)


def status_of(notice: Notice) -> dict[str, Any]:
    """The notice's status as the API gives it (and as callbacks carry it)."""

    def iso(value):
        return value.isoformat() if value else None

    return {
        "id": notice.reference,
        "status": notice.state,
        "to": {notice.recipient_kind: notice.recipient},
        "created_at": iso(notice.created_at),
        "made_available_at": iso(notice.made_available_at),
        "opened_at": iso(notice.opened_at),
        "served_at": iso(notice.served_at),
        "served_by": notice.served_by or None,
        "deemed_served_at": iso(deemed_at(notice)) if notice.served_at is None else None,
        "failed_reason": notice.failed_reason or None,
        "alerted": notice.alerted,
    }


def retry_after(attempts: int) -> dt.timedelta:
    first = int(conf.get("CALLBACK_RETRY"))
    return dt.timedelta(
        seconds=min(int(conf.get("CALLBACK_RETRY_MAX")), first * 2 ** (attempts - 1))
    )


def send_callbacks(limit: int = 100) -> int:
    """The job ``mailbox-callbacks``: POST each owed status report, signed by the window
    (``application/jose``, a compact JWS), to the agency's callback address; a failure is
    tried again after a doubling pause, never given up. How many were delivered."""
    now = timezone.now()
    due = list(
        Callback.objects.filter(delivered_at__isnull=True, next_try_at__lte=now)
        .select_related("notice", "notice__agency")
        .order_by("next_try_at", "pk")[:limit]
    )
    delivered = 0
    for callback in due:
        # Claimed first (its next try moved on): two workers never post it at once.
        claimed = Callback.objects.filter(
            pk=callback.pk, delivered_at__isnull=True, next_try_at=callback.next_try_at
        ).update(next_try_at=now + retry_after(callback.attempts + 1))
        if not claimed:
            continue
        signer = witness()
        body = {
            **status_of(callback.notice),
            "event": callback.state,
            "iss": signer.code,
            "iat": int(timezone.now().timestamp()),
        }
        token, _kid = documents.sign(signer, body, CALLBACK_TYPE)
        try:
            response = httpclient.pooled("mailbox-callbacks").post(
                callback.url,
                content=token.encode(),
                headers={"Content-Type": "application/jose"},
                timeout=float(conf.get("CALLBACK_TIMEOUT")),
            )
            ok = 200 <= response.status_code < 300
            error = "" if ok else f"HTTP {response.status_code}"
        except Exception as exc:  # noqa: BLE001 -- any failure is retried later
            ok, error = False, str(exc)[:300] or type(exc).__name__
        attempts = callback.attempts + 1
        if ok:
            Callback.objects.filter(pk=callback.pk).update(
                attempts=attempts, delivered_at=timezone.now(), last_error=""
            )
            delivered += 1
        else:
            Callback.objects.filter(pk=callback.pk).update(
                attempts=attempts,
                last_error=error,
                next_try_at=timezone.now() + retry_after(attempts),
            )
    return delivered


# -- bulk sends -----------------------------------------------------------------------------


def queue_batch(
    agency: Agency,
    client: str,
    data: Any,
    *,
    idempotency_key: str,
    digest: str,
) -> tuple[Batch, bool]:
    """Queue a bulk send; (batch, created). Each item is checked now (a bad item refuses the
    whole request, nothing is queued); addressees are checked as each is made available."""
    existing = Batch.objects.filter(agency=agency, idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.request_hash != digest:
            raise MailboxError(
                "idempotency_conflict",
                409,
                _("This idempotency key was used for another batch; use a new key."),
            )
        return existing, False
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise _bad("bad_request", _('A bulk send is a JSON object with a list "items".'))
    items = data["items"]
    if not items or len(items) > int(conf.get("BULK_MAX_ITEMS")):
        raise _bad(
            "bad_batch_size",
            _("A bulk send holds 1 to %(n)s items.") % {"n": conf.get("BULK_MAX_ITEMS")},
        )
    callback_url = _callback(data.get("callback_url"))
    for position, item in enumerate(items):
        try:
            check(item)
        except MailboxError as error:
            raise MailboxError(
                error.code,
                error.status,
                _("Item %(n)s: %(message)s") % {"n": position + 1, "message": error.message},
            ) from None

    def insert(reference: str) -> Batch:
        batch = Batch.objects.create(
            reference=reference,
            agency=agency,
            client=client[:200],
            idempotency_key=idempotency_key,
            request_hash=digest,
            callback_url=callback_url,
            total=len(items),
        )
        BatchItem.objects.bulk_create(
            [BatchItem(batch=batch, position=i, payload=item) for i, item in enumerate(items)],
            batch_size=2000,
        )
        return batch

    def raced(_exc: IntegrityError) -> Batch | None:
        return Batch.objects.filter(agency=agency, idempotency_key=idempotency_key).first()

    with transaction.atomic():
        batch = insert_with_unique_code(
            lambda: "B" + secrets.token_hex(6).upper(), insert, on_conflict=raced
        )
        transaction.on_commit(lambda: _kick(batch.pk))
    if batch.request_hash != digest:
        raise MailboxError(
            "idempotency_conflict",
            409,
            _("This idempotency key was used for another batch; use a new key."),
        )
    return batch, True


def _kick(batch_id: int) -> None:
    from . import tasks

    tasks.queue(batch_id)


def process_items(limit: int | None = None, batch_id: int | None = None) -> int:
    """Make available the due items of bulk sends (one chunk); how many were handled. An item
    whose dependency fails waits and is tried again; an item the window refuses (unknown
    addressee) fails with its reason. Each item is idempotent (its notice's key is the batch's
    and its position), so a crash between two steps never sends an item twice.

    The chunk is claimed at once (rows locked and skipped by other workers on PostgreSQL, their
    next try moved on). Items to registered people without attachments, the bulk of a court's
    list, are stored together (:func:`_send_together`: the same notices, events, callbacks and
    alerts as :func:`send`, a few statements for the whole chunk); any other item, or a chunk
    whose joint write fails, goes through :func:`send` one by one."""
    limit = limit or int(conf.get("BULK_CHUNK"))
    now = timezone.now()
    due = BatchItem.objects.filter(status=BatchItem.Status.PENDING, next_try_at__lte=now)
    if batch_id is not None:
        due = due.filter(batch_id=batch_id)
    with transaction.atomic():
        pks = list(
            due.select_for_update(skip_locked=True)
            .order_by("next_try_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        BatchItem.objects.filter(pk__in=pks).update(
            next_try_at=now + retry_after(1), attempts=F("attempts") + 1
        )
    items = list(
        BatchItem.objects.filter(pk__in=pks)
        .select_related("batch", "batch__agency")
        .order_by("next_try_at", "pk")
    )
    touched = {item.batch_id for item in items}
    together: list[tuple[BatchItem, dict, Draft]] = []
    alone: list[tuple[BatchItem, dict, Draft | None]] = []
    for item in items:
        payload = dict(item.payload)
        if item.batch.callback_url and not payload.get("callback_url"):
            payload["callback_url"] = item.batch.callback_url
        try:
            draft = check(payload)
        except MailboxError as error:
            _item_failed(item, error)
            continue
        simple = draft.recipient_kind == RecipientKind.PERSON and not draft.attachments
        (together if simple else alone).append((item, payload, draft))
    if together:
        left = _send_together(together)
        alone.extend(left)
    for item, payload, draft in alone:
        batch = item.batch
        try:
            notice, _created = send(
                batch.agency,
                batch.client,
                draft,
                idempotency_key=_item_key(item),
                digest=request_hash(payload),
                batch=batch,
            )
        except MailboxError as error:
            _item_failed(item, error)
        except Exception as exc:  # noqa: BLE001 -- a failing dependency: the item waits
            _item_waits(item, exc)
        else:
            BatchItem.objects.filter(pk=item.pk).update(
                status=BatchItem.Status.DONE, notice=notice, error=""
            )
    for pk in touched:
        finished = not BatchItem.objects.filter(
            batch_id=pk, status=BatchItem.Status.PENDING
        ).exists()
        if finished:
            Batch.objects.filter(pk=pk, status=Batch.Status.QUEUED).update(
                status=Batch.Status.DONE, finished_at=timezone.now()
            )
    return len(items)


def _item_key(item: BatchItem) -> str:
    return f"batch:{item.batch.reference}:{item.position}"


def _item_failed(item: BatchItem, error: MailboxError) -> None:
    BatchItem.objects.filter(pk=item.pk).update(
        status=BatchItem.Status.FAILED, error=f"{error.code}: {error.message}"[:300]
    )


def _mark_done(items: list[BatchItem]) -> None:
    """Items done, each with its notice: one UPDATE (a CASE written here; ``bulk_update``
    builds an expression per row, seconds for a chunk)."""
    if not items:
        return
    table = connection.ops.quote_name(BatchItem._meta.db_table)
    cases = " ".join("WHEN %s THEN %s" for _item in items)
    marks = ", ".join("%s" for _item in items)
    params: list[Any] = []
    for item in items:
        params += [item.pk, item.notice_id]
    params += [BatchItem.Status.DONE, *(item.pk for item in items)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET notice_id = CASE id {cases} END, status = %s, error = '' "  # noqa: S608
            f"WHERE id IN ({marks})",
            params,
        )


def _send_together(entries: list[tuple[BatchItem, dict, Draft]]) -> list:
    """Items of one chunk to registered people, stored in one transaction: each notice signed
    by its agency, made available with its two events, its callback row and its addressee's
    alert (``inbox.notify.post_many``). Returns the entries left for :func:`send` one by one:
    those whose addressee has no account here (kept or refused by the registry), and all of
    them if the joint write fails."""
    codes = {draft.recipient for _i, _p, draft in entries}
    users = {
        u.national_code: u for u in User.objects.filter(national_code__in=codes, is_active=True)
    }
    keys_of = {_item_key(item): (item, payload, draft) for item, payload, draft in entries}
    existing = {
        (n.agency_id, n.idempotency_key): n
        for n in Notice.objects.filter(
            agency_id__in={item.batch.agency_id for item, _p, _d in entries},
            idempotency_key__in=list(keys_of),
        ).only("pk", "agency_id", "idempotency_key", "request_hash")
    }
    left, rows, owners, done = [], [], [], []
    signing: dict[int, Any] = {}
    now = timezone.now()
    for key, (item, payload, draft) in keys_of.items():
        agency = item.batch.agency
        found = existing.get((agency.pk, key))
        if found is not None:  # made by an earlier run that stopped before marking the item
            item.notice_id = found.pk
            done.append(item)
            continue
        user = users.get(draft.recipient)
        if user is None:
            left.append((item, payload, draft))
            continue
        if agency.pk not in signing:
            from panjereh.services import keys

            signing[agency.pk] = keys.active_key(agency, "sign")
        reference = _new_reference()
        try:
            token, kid = documents.sign(
                agency, _claims(agency, draft, reference, now), NOTICE_TYPE, key=signing[agency.pk]
            )
        except Exception as exc:  # noqa: BLE001 -- a failing dependency: the item waits
            _item_waits(item, exc)
            continue
        rows.append(
            Notice(
                reference=reference,
                agency=agency,
                client=item.batch.client[:200],
                recipient_kind=draft.recipient_kind,
                recipient=draft.recipient,
                user=user,
                subject=draft.subject,
                body=draft.body,
                callback_url=draft.callback_url,
                idempotency_key=key,
                request_hash=request_hash(payload),
                batch=item.batch,
                token=token,
                kid=kid,
                created_at=now,
                state=State.MADE_AVAILABLE,
                made_available_at=now,
            )
        )
        owners.append((item, user))
    try:
        with transaction.atomic():
            Notice.objects.bulk_create(rows)
            events, callbacks, alerts = [], [], []
            for notice, (item, user) in zip(rows, owners, strict=True):
                events.append(NoticeEvent(notice=notice, at=now, to_state=State.CREATED))
                events.append(
                    NoticeEvent(
                        notice=notice,
                        at=now,
                        from_state=State.CREATED,
                        to_state=State.MADE_AVAILABLE,
                    )
                )
                if notice.callback_url:
                    callbacks.append(
                        Callback(notice=notice, state=State.MADE_AVAILABLE, url=notice.callback_url)
                    )
                alerts.append((user, _alert_fields(notice)))
                item.notice_id = notice.pk
                done.append(item)
            NoticeEvent.objects.bulk_create(events)
            Callback.objects.bulk_create(callbacks)
            posted = notify.post_many(alerts)
            if posted:
                Notice.objects.filter(pk__in=[n.pk for n in rows]).update(alerted=1)
            _mark_done(done)
    except IntegrityError as exc:  # a reference drawn twice, a key raced: one by one instead
        log.warning("bulk chunk stored one by one: %s", exc)
        return [(item, payload, draft) for item, payload, draft in entries]
    except Exception as exc:  # noqa: BLE001 -- a failing dependency: the items wait
        for item, _user in owners:
            _item_waits(item, exc)
    return left


def _item_waits(item: BatchItem, exc: Exception) -> None:
    log.warning("bulk item %s waits: %s", item.pk, exc)
    BatchItem.objects.filter(pk=item.pk).update(
        error=str(exc)[:300], next_try_at=timezone.now() + retry_after(max(1, item.attempts))
    )


def batch_status(batch: Batch) -> dict[str, Any]:
    counts = {s: 0 for s in BatchItem.Status.values}
    for row in batch.items.values("status").order_by().annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    failed = list(
        batch.items.filter(status=BatchItem.Status.FAILED).values("position", "error")[:100]
    )
    return {
        "id": batch.reference,
        "status": batch.status,
        "total": batch.total,
        "pending": counts["pending"],
        "made_available": counts["done"],
        "failed": counts["failed"],
        "failures": [{"item": f["position"] + 1, "error": f["error"]} for f in failed],
        "created_at": batch.created_at.isoformat(),
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
    }


# -- proof of service -----------------------------------------------------------------------


def proof_claims(notice: Notice) -> dict[str, Any]:
    attachments = list(notice.attachments.values("name", "content_type", "size", "sha256"))
    return {
        "iss": witness().code,
        "typ": "proof_of_service",
        "ref": notice.reference,
        "sender": notice.agency.code,
        "sender_fa": notice.agency.name_fa,
        "sender_en": notice.agency.name_en,
        "to": {notice.recipient_kind: notice.recipient},
        "subject": notice.subject,
        # The notice itself, as its agency signed it: the proof binds the status to the text.
        "notice_sha256": hashlib.sha256(notice.token.encode()).hexdigest(),
        "att": [
            {"name": a["name"], "type": a["content_type"], "size": a["size"], "sha256": a["sha256"]}
            for a in attachments
        ],
        "made_available_at": int(notice.made_available_at.timestamp())
        if notice.made_available_at
        else None,
        "opened_at": int(notice.opened_at.timestamp()) if notice.opened_at else None,
        "served_at": int(notice.served_at.timestamp()) if notice.served_at else None,
        "served_by": notice.served_by or None,
        "iat": int(timezone.now().timestamp()),
    }


def proof(notice: Notice) -> str:
    """A proof of service signed by the window's operator (ES256, its published key): what the
    notice was, when it was made available, opened and served."""
    serve_if_due(notice)
    token, _kid = documents.sign(witness(), proof_claims(notice), PROOF_TYPE)
    return token


def verify_proof(token: str, jwks: dict[str, Any]) -> documents.Verification:
    """Offline: a proof of service checked against a JWKS (the window's published keys)."""
    result = documents.verify_signature(token, jwks)
    if result.status in ("valid", "expired") and result.claims.get("typ") != "proof_of_service":
        return documents.Verification(
            "invalid", documents.MALFORMED_FA, documents.MALFORMED_EN, result.claims
        )
    return result
