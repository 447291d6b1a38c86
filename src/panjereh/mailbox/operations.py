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
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency
from panjereh.common import httpclient, jalali, statemachine
from panjereh.common.uniquecode import insert_with_unique_code
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
        State.CREATED: {State.SENDING, State.MADE_AVAILABLE, State.FAILED},
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
    if "\x00" in value or _CONTROL_RE.search(value):
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
        raise _bad("bad_field", _("Items of a bulk send carry no attachments."))
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
    return hashlib.sha256(text.encode()).hexdigest()


def addressee(draft: Draft) -> User | None:
    """The person's account (None for a company); raises when the window does not know them."""
    if draft.recipient_kind == RecipientKind.PERSON:
        user = User.objects.filter(national_code=draft.recipient, is_active=True).first()
        if user is None:
            raise MailboxError(
                "unknown_addressee",
                422,
                _("No person with this national code is registered with the national window."),
            )
        return user
    if not LegalPerson.objects.filter(national_id=draft.recipient).exists():
        raise MailboxError(
            "unknown_addressee",
            422,
            _("No company with this national ID is known to the national window."),
        )
    return None


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
) -> tuple[Notice, bool]:
    """Store, sign and make available one notice; (notice, created). Idempotent per (agency,
    key): the same content returns the stored notice, other content raises a 409 error."""
    existing = Notice.objects.filter(agency=agency, idempotency_key=idempotency_key).first()
    if existing is not None:
        return _same_or_conflict(existing, digest), False
    user = addressee(draft)

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
        MACHINE.move(notice, State.MADE_AVAILABLE, made_available_at=timezone.now())
        if user is not None:
            _alert(notice, user)
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


def _alert(notice: Notice, user: User) -> None:
    """The addressee's inbox alert (and through it the SMS): who sent a notice, not what."""
    agency = notice.agency
    with translation.override("fa"):
        url = reverse("mailbox:notice", args=[notice.reference])
    notify.post(
        user,
        kind="notice",
        dedupe_key=f"mailbox:{notice.reference}",
        subject_fa=f"ابلاغیه رسمی از {agency.name_fa}",
        subject_en=f"An official notice from {agency.name_en or agency.name_fa}",
        body_fa="یک ابلاغیه رسمی در صندوق ابلاغیه‌های شما گذاشته شد. برای دیدن متن آن به صندوق "
        "ابلاغیه‌های رسمی بروید.",
        body_en="An official notice was put in your mailbox. Open the official mailbox to read it.",
        link_url=url,
        link_label_fa="دیدن ابلاغیه در صندوق ابلاغیه‌های رسمی",
        link_label_en="Read the notice in the official mailbox",
    )


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
            check(item, with_attachments=False)
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
    and its position), so a crash between two steps never sends an item twice."""
    limit = limit or int(conf.get("BULK_CHUNK"))
    now = timezone.now()
    items = BatchItem.objects.filter(status=BatchItem.Status.PENDING, next_try_at__lte=now)
    if batch_id is not None:
        items = items.filter(batch_id=batch_id)
    handled = 0
    touched: set[int] = set()
    for item in items.select_related("batch", "batch__agency").order_by("next_try_at", "pk")[
        :limit
    ]:
        claimed = BatchItem.objects.filter(
            pk=item.pk, status=BatchItem.Status.PENDING, next_try_at=item.next_try_at
        ).update(next_try_at=now + retry_after(item.attempts + 1), attempts=item.attempts + 1)
        if not claimed:
            continue
        batch = item.batch
        touched.add(batch.pk)
        payload = dict(item.payload)
        if batch.callback_url and not payload.get("callback_url"):
            payload["callback_url"] = batch.callback_url
        try:
            draft = check(payload, with_attachments=False)
            notice, _created = send(
                batch.agency,
                batch.client,
                draft,
                idempotency_key=f"batch:{batch.reference}:{item.position}",
                digest=request_hash(payload),
                batch=batch,
            )
        except MailboxError as error:
            BatchItem.objects.filter(pk=item.pk).update(
                status=BatchItem.Status.FAILED, error=f"{error.code}: {error.message}"[:300]
            )
        except Exception as exc:  # noqa: BLE001 -- a failing dependency: the item waits
            log.warning("bulk item %s waits: %s", item.pk, exc)
            BatchItem.objects.filter(pk=item.pk).update(error=str(exc)[:300])
        else:
            BatchItem.objects.filter(pk=item.pk).update(
                status=BatchItem.Status.DONE, notice=notice, error=""
            )
        handled += 1
    for pk in touched:
        finished = not BatchItem.objects.filter(
            batch_id=pk, status=BatchItem.Status.PENDING
        ).exists()
        if finished:
            Batch.objects.filter(pk=pk, status=Batch.Status.QUEUED).update(
                status=Batch.Status.DONE, finished_at=timezone.now()
            )
    return handled


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
