"""Bills (لوایح) a person composes from a template and submits to their case.

1. :func:`prepare` checks who asks (a SANA account, a party of the case: anyone else is told
   the case does not exist), that the template fits the case (kind, stage, the party's role),
   reads the answers (:func:`.bills.clean`) and composes the text (:func:`.bills.compose`).
2. :func:`submit` keeps the bill once per person, case, template and text (the text's sha256:
   the same confirmation sent twice is one bill) in ``submitting``, due now.
3. :func:`send` sends it through the exchange to the judiciary's case system (the courts'
   ``pleadings`` data service, POST; the window is the consumer, the person's national code
   the ``X-Road-UserId``), which keeps one bill per ``(case, sha256)`` and answers the same
   court reference again. A court system that cannot be reached leaves the bill in
   ``submitting``, tried again after a doubling delay (:func:`backoff`) by the periodic job
   ``judiciary-send-bills`` (:func:`send_due`); a refusal of the court's (the case unknown, not
   a party, a malformed bill) moves it to ``failed`` with the reason. Once received, the
   judiciary signs a receipt (a JWS with its agency key, as documents are: verifiable on the
   public verify page and offline with the JWKS), put in the person's inbox with its PDF.

States move through the one state machine (:data:`MACHINE`): draft → submitting → submitted |
failed; each move is appended to ``Pleading.data["history"]``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from panjereh.catalogue.models import Agency
from panjereh.common import jalali
from panjereh.common.conf import setting
from panjereh.common.persian import to_persian_digits
from panjereh.common.statemachine import InvalidTransition, Machine
from panjereh.common.uniquecode import insert_with_unique_code
from panjereh.services import documents

from . import bills
from .models import Case, CaseParty, Pleading, SanaAccount

log = logging.getLogger(__name__)

SUBSYSTEM = "courts-registry"
PLEADINGS = (SUBSYSTEM, "pleadings", ["courts.pleading"])
PURPOSE_TITLE_FA = "ارسال لایحه به پرونده‌های قضایی در پنجره ملی"
PURPOSE_TITLE_EN = "Sending bills to judicial cases at the national window"
RECEIPT_TYPE = "panjereh-bill-receipt+jws"
PREFIX = "BILL"
LEASE = dt.timedelta(seconds=60)  # a send under way is not picked by another worker
State = Pleading.State


def _history(locked: Pleading, from_state, to_state, *, by=None, changes=None, **event) -> None:
    entry = {"from": from_state, "to": to_state, "at": timezone.now().isoformat(), **event}
    locked.data = {**locked.data, "history": [*locked.data.get("history", []), entry]}
    locked.save(update_fields=["data"])


MACHINE = Machine(
    {
        State.DRAFT: {State.SUBMITTING},
        State.SUBMITTING: {State.SUBMITTED, State.FAILED},
    },
    record=_history,
)


class SanaRequired(Exception):
    """The person has no active SANA account: bills are for SANA holders."""


class NotAParty(LookupError):
    """No such case for this person (unknown, or they are not a party): a 404 to them."""


class BillRefused(ValueError):
    """The bill cannot be made: ``errors`` per question (or ``None`` for the whole bill)."""

    def __init__(self, errors: dict[str | None, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class CourtUnavailable(Exception):
    """The court system or the exchange gave no usable answer; try again later."""


class CourtRefused(Exception):
    """The court system refused the bill for good (its status and words)."""


def max_attempts() -> int:
    return int(setting("PANJEREH_JUDICIARY_BILL_ATTEMPTS", 40))


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 60 s, 2 min, … doubling, at most an hour."""
    first = float(setting("PANJEREH_JUDICIARY_BILL_RETRY_SECONDS", 30))
    return dt.timedelta(seconds=min(first * 2 ** max(attempts - 1, 0), 3600))


# -- who may ------------------------------------------------------------------------------------


def sana_account(user) -> SanaAccount | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return SanaAccount.objects.filter(user=user, state=SanaAccount.State.ACTIVE).first()


def _parties(user):
    code = str(getattr(user, "national_code", "") or "")
    where = Q(user=user)
    if code:
        where |= Q(national_code=code)
    return CaseParty.objects.filter(where)


def my_cases(user) -> list[tuple[Case, CaseParty]]:
    """The person's cases with their role in each (newest first)."""
    rows = _parties(user).select_related("case").order_by("-case__updated_at", "-case__pk")
    seen: dict[int, tuple[Case, CaseParty]] = {}
    for party in rows:
        seen.setdefault(party.case_id, (party.case, party))
    return list(seen.values())


def case_of(user, number: str) -> tuple[Case, CaseParty]:
    """The case ``number`` if ``user`` is a party of it, else :class:`NotAParty`."""
    party = (
        _parties(user)
        .select_related("case")
        .filter(case__number=str(number or "")[:32])
        .order_by("pk")
        .first()
    )
    if party is None:
        raise NotAParty(number)
    return party.case, party


def _require_person(user, actor) -> None:
    if actor is None or getattr(actor, "pk", None) != getattr(user, "pk", None):
        raise NotAParty("only the person files their own bill")
    if sana_account(user) is None:
        raise SanaRequired()


# -- composing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    template: bills.Template
    case: Case
    party: CaseParty
    answers: dict[str, str]
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def _name(user, party: CaseParty) -> str:
    return (party.name or user.get_full_name() or user.get_username()).strip()[:200]


def prepare(user, template_code: str, case_number: str, raw: dict[str, Any], *, actor) -> Draft:
    """The bill as it would be sent, or :class:`BillRefused` with a message per question;
    :class:`NotAParty`, :class:`SanaRequired` for who may not."""
    _require_person(user, actor)
    template = bills.get(template_code)
    case, party = case_of(user, case_number)
    if template is None:
        raise NotAParty(template_code)
    if not template.applies_to(case.kind, case.stage, party.role):
        raise BillRefused({None: _("This bill does not fit this case at its present stage.")})
    try:
        answers = bills.clean(template, raw)
    except bills.Invalid as exc:
        raise BillRefused(dict(exc.errors)) from exc
    parties = bills.Parties(
        name=_name(user, party),
        national_code=str(getattr(user, "national_code", "") or party.national_code),
        role=party.role,
        case_number=case.number,
        court=case.court,
        branch=case.branch,
    )
    text = bills.compose(template, answers, parties, timezone.localdate())
    if len(text) > bills.MAX_BILL:
        raise BillRefused({None: _("The bill is too long. Shorten your answers.")})
    return Draft(template, case, party, answers, text)


# -- submitting ----------------------------------------------------------------------------------


def _reference() -> str:
    day = jalali.iso(timezone.now()).replace("-", "")
    return f"{PREFIX}-{day}-{secrets.token_hex(4).upper()}"


def submit(draft: Draft, user, *, actor) -> tuple[Pleading, bool]:
    """The bill kept and due to be sent: (pleading, created). The same person, case, template
    and text again answer the bill already kept (a double click, a replayed form)."""
    _require_person(user, actor)
    digest = draft.sha256
    with transaction.atomic():
        # One submission per case at a time: the check and the insert cannot interleave.
        Case.objects.select_for_update().filter(pk=draft.case.pk).first()
        same = Pleading.objects.filter(
            user=user, case=draft.case, template=draft.template.code, data__sha256=digest
        ).exclude(state=State.FAILED)
        existing = same.first()
        if existing is not None:
            return existing, False

        def insert(reference: str) -> Pleading:
            return Pleading.objects.create(
                reference=reference,
                user=user,
                case=draft.case,
                template=draft.template.code,
                answers=draft.answers,
                text=draft.text,
                state=State.DRAFT,
                data={
                    "sha256": digest,
                    "version": draft.template.version,
                    "number": draft.template.number,
                    "title_fa": draft.template.title_fa,
                    "title_en": draft.template.title_en,
                    "role": draft.party.role,
                    "national_code": str(
                        getattr(user, "national_code", "") or draft.party.national_code
                    ),
                },
            )

        pleading = insert_with_unique_code(_reference, insert)
        MACHINE.move(pleading, State.SUBMITTING, by=user, next_try_at=timezone.now())
    return pleading, True


def provision(agency, *, resolution_number: str, valid_days: int = 365):
    """The national window's (``agency``) grant on the courts' ``pleadings`` service under its
    bill-sending service. For the demo and the tests; in production the Interoperability
    Working Group decides."""
    from panjereh.identity import registry_checks

    return registry_checks.grant_window(
        agency,
        [PLEADINGS],
        purpose=(PURPOSE_TITLE_FA, PURPOSE_TITLE_EN),
        number_base=933_000_000,
        resolution_number=resolution_number,
        valid_days=valid_days,
    )


# -- sending -------------------------------------------------------------------------------------


def _consumer():
    from panjereh.exchange.models import ConsumerSystem
    from panjereh.identity.registry_checks import SUBSYSTEM as WINDOW

    system = ConsumerSystem.objects.filter(subsystem=WINDOW, enabled=True).first()
    if system is None:
        raise CourtUnavailable("the national window is not an exchange consumer")
    return system


def court_agency() -> Agency | None:
    """The judiciary: the provider of the courts' ``pleadings`` service (it signs receipts)."""
    from panjereh.exchange.models import DataService

    service = (
        DataService.objects.filter(subsystem=PLEADINGS[0], code=PLEADINGS[1])
        .select_related("provider")
        .first()
    )
    return service.provider if service else Agency.objects.filter(code="judiciary").first()


def _post(pleading: Pleading) -> dict[str, Any]:
    """The court's receipt ``{"court_reference", "received_at", ...}``; raises
    :class:`CourtUnavailable` or :class:`CourtRefused`."""
    from panjereh.common.addresses import exchange_url
    from panjereh.exchange import client as nix_client
    from panjereh.exchange.client import service_address
    from panjereh.identity import registry_checks

    system = _consumer()
    address = service_address(PLEADINGS[0], PLEADINGS[1])
    if address is None:
        raise CourtUnavailable("no courts pleadings service on the exchange")
    client = nix_client.NixClient(
        exchange_url("PANJEREH_JUDICIARY_EXCHANGE_URL"),
        system.client_id,
        registry_checks.consumer_key(),
        timeout=float(setting("PANJEREH_JUDICIARY_BILL_TIMEOUT", 8.0)),
    )
    body = {
        "case_number": pleading.case.number,
        "national_code": pleading.data.get("national_code", ""),
        "template": pleading.template,
        "title": pleading.data.get("title_fa", ""),
        "text": pleading.text,
        "sha256": pleading.data["sha256"],
    }
    try:
        reply = client.post(
            address,
            body,
            user_id=body["national_code"],
            issue=pleading.reference,
            purpose=registry_checks.purpose_service_id(system, PURPOSE_TITLE_EN),
            items=PLEADINGS[2],
        )
    except nix_client.ExchangeUnreachable as exc:
        raise CourtUnavailable(exc.reason) from exc
    except nix_client.AnswerNotJSON as exc:
        raise CourtUnavailable("the answer is not JSON") from exc
    except nix_client.GatewayRefusal as exc:
        if exc.code == "provider_rejected" and exc.status in (400, 403):
            raise CourtRefused(f"{exc.status} {exc.message}".strip()) from exc
        raise CourtUnavailable(f"exchange answered {exc.status} {exc.code}") from exc
    if not reply.found:
        raise CourtRefused("404 the court has no such case")
    data = reply.data if isinstance(reply.data, dict) else {}
    if not data.get("court_reference"):
        raise CourtUnavailable("the court's answer has no reference")
    return data


def send(pleading_id: int) -> Pleading | None:
    """One try to deliver a bill that is due (None when it is not due or another worker has
    it). Safe to run twice at once: the lease admits one, and the court keeps one bill per
    text."""
    now = timezone.now()
    claimed = Pleading.objects.filter(
        pk=pleading_id, state=State.SUBMITTING, next_try_at__lte=now
    ).update(next_try_at=now + LEASE, attempts=F("attempts") + 1)
    if not claimed:
        return None
    pleading = Pleading.objects.select_related("case", "user").get(pk=pleading_id)
    try:
        data = _post(pleading)
    except CourtUnavailable as exc:
        log.warning("bill %s: court not reached (%s)", pleading.reference, exc)
        if pleading.attempts >= max_attempts():
            return _fail(pleading, f"not reached after {pleading.attempts} tries: {exc}")
        Pleading.objects.filter(pk=pleading.pk, state=State.SUBMITTING).update(
            next_try_at=timezone.now() + backoff(pleading.attempts), last_error=str(exc)[:300]
        )
        pleading.refresh_from_db()
        return pleading
    except CourtRefused as exc:
        log.warning("bill %s: refused by the court (%s)", pleading.reference, exc)
        return _fail(pleading, str(exc))
    return _received(pleading, data)


def _received(pleading: Pleading, data: dict[str, Any]) -> Pleading:
    received = _parse_time(data.get("received_at")) or timezone.now()
    try:
        MACHINE.move(
            pleading,
            State.SUBMITTED,
            event={"court_reference": str(data["court_reference"])[:40]},
            court_reference=str(data["court_reference"])[:40],
            submitted_at=received,
            next_try_at=None,
            last_error="",
        )
    except InvalidTransition:  # another worker recorded it first
        pleading.refresh_from_db()
        return pleading
    issue_receipt(pleading)
    transaction.on_commit(lambda: _tell(pleading))
    return pleading


def _fail(pleading: Pleading, reason: str) -> Pleading:
    try:
        MACHINE.move(
            pleading,
            State.FAILED,
            event={"reason": reason[:300]},
            next_try_at=None,
            last_error=reason[:300],
        )
    except InvalidTransition:
        pleading.refresh_from_db()
        return pleading
    _tell_failed(pleading)
    return pleading


def _parse_time(value: Any) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return moment if timezone.is_aware(moment) else None


def send_due(limit: int = 50) -> int:
    """The job ``judiciary-send-bills``: bills whose next try is due, oldest first."""
    ids = list(
        Pleading.objects.filter(state=State.SUBMITTING, next_try_at__lte=timezone.now())
        .order_by("next_try_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for pk in ids:
        try:
            result = send(pk)
        except Exception:  # one bill's fault does not stop the others
            log.exception("bill %s: sending failed", pk)
            continue
        sent += bool(result is not None and result.state == State.SUBMITTED)
    return sent


# -- the receipt -----------------------------------------------------------------------------------


def _receipt_claims(pleading: Pleading, agency: Agency) -> dict[str, Any]:
    template = bills.get(pleading.template)
    title_fa = pleading.data.get("title_fa") or (template.title_fa if template else "")
    title_en = pleading.data.get("title_en") or (template.title_en if template else "")
    received = pleading.submitted_at or timezone.now()
    when_fa = jalali.format_fa(timezone.localtime(received))
    case = pleading.case
    return {
        "iss": agency.code,
        "iss_fa": agency.name_fa,
        "iss_en": agency.name_en,
        "num": pleading.reference,
        "typ": "bill-receipt",
        "iat": int(timezone.now().timestamp()),
        "title_fa": "رسید ثبت لایحه در پرونده قضایی",
        "title_en": "Receipt of a bill filed in a judicial case",
        "text_fa": (
            f"لایحه «{title_fa}» در پرونده شماره {case.number} در تاریخ {when_fa} به سامانه "
            f"قضایی رسید و با شماره {pleading.court_reference} ثبت شد."
        ),
        # The text's SHA-256: the bill received is the one the person read (not shown as a
        # field: 64 characters do not fit a phone's line).
        "sha": pleading.data.get("sha256", ""),
        "fields": [
            ["موضوع لایحه", "Bill", title_fa, title_en],
            ["شماره پرونده", "Case number", case.number, ""],
            ["مرجع رسیدگی", "Court", case.court, ""],
            ["شماره ثبت در دادگاه", "Court reference", pleading.court_reference, ""],
            ["تاریخ وصول", "Received on", when_fa, received.date().isoformat()],
        ],
    }


def issue_receipt(pleading: Pleading) -> Pleading:
    """The judiciary's signed receipt of a received bill, once."""
    if pleading.receipt_token:
        return pleading
    agency = court_agency()
    if agency is None:
        log.error("bill %s: no judiciary agency to sign its receipt", pleading.reference)
        return pleading
    claims = _receipt_claims(pleading, agency)
    token, kid = documents.sign(agency, claims, typ=RECEIPT_TYPE)
    updated = Pleading.objects.filter(pk=pleading.pk, receipt_token="").update(
        receipt_token=token, receipt_kid=kid
    )
    pleading.refresh_from_db()
    if not updated:
        log.info("bill %s: receipt already issued", pleading.reference)
    return pleading


def receipt_paper(pleading: Pleading) -> SimpleNamespace:
    """What the documents' PDF and QR code need of a receipt."""
    return SimpleNamespace(
        number=pleading.reference,
        token=pleading.receipt_token,
        kid=pleading.receipt_kid,
        issued_at=pleading.submitted_at or pleading.created_at,
    )


def receipt_pdf(pleading: Pleading) -> bytes:
    return documents.render_pdf(receipt_paper(pleading))


def verify_receipt(result: documents.Verification, token: str) -> documents.Verification:
    """The online verdict of a bill receipt whose signature holds: one the window issued."""
    pleading = Pleading.objects.filter(reference=str(result.claims.get("num", ""))[:24]).first()
    if pleading is None or pleading.receipt_token != token.strip():
        return documents.Verification("invalid", documents.FORGED_FA, documents.FORGED_EN)
    result.message_fa = (
        "این رسید معتبر است: لایحه در پرونده ثبت شده و امضای قوه قضاییه بر آن درست است."
    )
    result.message_en = "This receipt is valid: the bill was filed in the case and the judiciary's signature is genuine."
    return result


def receipt_token(number: str) -> str:
    """The token of a receipt number (the QR code's short form), or ""."""
    row = Pleading.objects.filter(reference=number).values_list("receipt_token", flat=True).first()
    return row or ""


def register() -> None:
    """Bill receipts checked on the public verify page (called from the app's ready())."""
    documents.register_paper(RECEIPT_TYPE, f"{PREFIX}-", verify_receipt, receipt_token)


# -- telling the person --------------------------------------------------------------------------


def page_url(pleading: Pleading, lang: str | None = None) -> str:
    with translation.override(lang or settings.LANGUAGE_CODE):
        return reverse("judiciary:bill", args=[pleading.reference])


def pdf_url(pleading: Pleading) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return reverse("judiciary:bill-pdf", args=[pleading.reference])


def _tell(pleading: Pleading) -> None:
    from panjereh.inbox.models import Message
    from panjereh.inbox.notify import post

    try:
        post(
            pleading.user,
            kind=Message.Kind.DOCUMENT,
            dedupe_key=f"bill-receipt:{pleading.reference}",
            subject_fa=f"رسید لایحه: {pleading.data.get('title_fa', '')}",
            subject_en=f"Bill receipt: {pleading.data.get('title_en', '')}",
            body_fa=(
                f"لایحه شما در پرونده {to_persian_digits(pleading.case.number)} به دادگاه رسید و با "
                f"شماره {to_persian_digits(pleading.court_reference)} ثبت شد.\n"
                f"شماره رسید: {pleading.reference}"
            ),
            body_en=(
                f"Your bill in case {pleading.case.number} reached the court and was filed as "
                f"{pleading.court_reference}.\nReceipt number: {pleading.reference}"
            ),
            link_url=page_url(pleading),
            link_label_fa="لایحه و رسید آن",
            link_label_en="The bill and its receipt",
            document_url=pdf_url(pleading),
        )
    except Exception:  # the receipt stands; the page shows it
        log.exception("bill %s: the inbox message was not posted", pleading.reference)


def _tell_failed(pleading: Pleading) -> None:
    from panjereh.inbox.models import Message
    from panjereh.inbox.notify import post

    try:
        post(
            pleading.user,
            kind=Message.Kind.NOTICE,
            dedupe_key=f"bill-failed:{pleading.reference}",
            subject_fa=f"لایحه ثبت نشد: {pleading.data.get('title_fa', '')}",
            subject_en=f"Bill not filed: {pleading.data.get('title_en', '')}",
            body_fa="سامانه قضایی این لایحه را نپذیرفت. جزئیات را در صفحه لایحه ببینید.",
            body_en="The court system did not accept this bill. See the bill's page for details.",
            link_url=page_url(pleading),
            link_label_fa="لایحه",
            link_label_en="The bill",
        )
    except Exception:
        log.exception("bill %s: the inbox message was not posted", pleading.reference)


# -- reading --------------------------------------------------------------------------------------


def mine(user):
    return Pleading.objects.filter(user=user).select_related("case").order_by("-created_at", "-pk")


def own(user, reference: str) -> Pleading:
    pleading = (
        Pleading.objects.select_related("case")
        .filter(reference=str(reference or "")[:24], user=user)
        .first()
    )
    if pleading is None:
        raise NotAParty(reference)
    return pleading
