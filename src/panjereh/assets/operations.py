"""Every write of the asset inquiry, with its rights checked here (docs/assets.md).

* :func:`request_inquiry`: a judge of the judiciary asks, for a case number, about a person
  (national code) or a company (national ID): one :class:`~.models.RegistryCall` per asset
  registry, asked in parallel by Celery tasks (:mod:`.tasks`) or by the periodic job;
* :func:`ask`: one attempt at one registry through the exchange, as the judiciary's consumer
  system under its grants, with the subject as ``X-Road-UserId`` and the case number as
  ``X-Road-Issue`` (so the read shows in the subject's "who read my data" with the case
  number); a registry that cannot be reached is asked again after a doubling delay, never
  given up;
* :func:`order_freeze`: the judge's second step, audited (who, when, what, amount, reason):
  blocked amounts on accounts and seizures of properties are sent to the banks and the deeds
  office (:func:`send`, idempotent per item's order id at the registry); holdings and vehicles
  cannot be frozen online and wait in the judiciary staff's letter queue
  (:func:`mark_letter_sent`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency
from panjereh.common import statemachine
from panjereh.common.conf import setting
from panjereh.common.persian import to_latin_digits
from panjereh.identity.validators import is_valid_legal_national_id, is_valid_national_code

from .models import AssetEvent, FreezeItem, FreezeOrder, Inquiry, RegistryCall

log = logging.getLogger(__name__)

JUDICIARY = "judiciary"  # the catalogue code of the judiciary agency
REGISTRIES = ("banks", "ssaa", "stock", "vehicle")
ONLINE_FREEZE = {"banks", "ssaa"}  # seed §1.8: bank blocking and property seizure are online
# registry → (exchange subsystem, inquiry service, its data item, the answer's list field)
INQUIRY: dict[str, tuple[str, str, str, str]] = {
    "banks": ("banks-registry", "accounts", "banks.accounts", "accounts"),
    "ssaa": ("ssaa-registry", "properties", "ssaa.properties", "properties"),
    "stock": ("stock-registry", "holdings", "stock.holdings", "holdings"),
    "vehicle": ("vehicle-registry", "vehicle-assets", "vehicle.assets", "vehicles"),
}
FREEZE: dict[str, tuple[str, str, str]] = {
    "banks": ("banks-registry", "block", "banks.block"),
    "ssaa": ("ssaa-registry", "seizure", "ssaa.seizure"),
}
PURPOSE_TITLE_FA = "استعلام و توقیف اموال محکوم‌علیه در پرونده قضایی"
PURPOSE_TITLE_EN = "Asset inquiry and freezing for a judicial case"
CASE_NUMBER = re.compile(r"^(1[34]\d\d)\d{12}$")
MAX_REASON = 1000


class RegistryUnavailable(Exception):
    """No usable answer now; ask again later."""


class RegistryRefused(Exception):
    """The exchange or the registry refused: asking again will not help."""


# -- rights ----------------------------------------------------------------------------------


def judiciary() -> Agency | None:
    return Agency.objects.filter(code=JUDICIARY).first()


def is_judge(actor) -> bool:
    agency = judiciary()
    return agency is not None and agency.pk in roles.judge_agencies(actor)


def require_judge(actor) -> Agency:
    agency = judiciary()
    if agency is None or agency.pk not in roles.judge_agencies(actor):
        raise roles.NotPermitted(
            _("Only a judge of the judiciary may inquire about assets."), roles.INQUIRE_ASSETS
        )
    return agency


def require_own(actor, inquiry: Inquiry) -> None:
    """A judge sees and acts on their own inquiries only."""
    require_judge(actor)
    if inquiry.judge_id != getattr(actor, "pk", None):
        raise roles.NotPermitted(_("This inquiry is another judge's."), roles.INQUIRE_ASSETS)


def can_handle_letters(actor) -> bool:
    agency = judiciary()
    return agency is not None and roles.can(actor, roles.DECIDE, agency)


# -- input ------------------------------------------------------------------------------------


def _text(value: Any, field: str) -> str:
    text = str(value or "")
    if "\x00" in text or len(text) > 64:
        raise ValidationError({field: ValidationError(_("Type digits only."), code="invalid")})
    return to_latin_digits(text).replace("-", "").replace(" ", "").strip()


def clean_case_number(value: Any) -> str:
    """A case number: 16 digits, the first four the Jalali year it was opened (13xx or 14xx)."""
    number = _text(value, "case_number")
    if not number:
        raise ValidationError(
            {"case_number": ValidationError(_("Enter the case number."), code="required")}
        )
    if not CASE_NUMBER.match(number):
        raise ValidationError(
            {
                "case_number": ValidationError(
                    _("A case number has 16 digits and starts with the year it was opened."),
                    code="format",
                )
            }
        )
    return number


def clean_subject(value: Any) -> tuple[str, str]:
    """(code, kind): a national code (10 digits) or a company's national ID (11 digits),
    each with its check digit."""
    code = _text(value, "subject_code")
    if not code:
        raise ValidationError(
            {
                "subject_code": ValidationError(
                    _("Enter the national code or the company's national ID."), code="required"
                )
            }
        )
    if code.isdigit() and len(code) == 10 and is_valid_national_code(code):
        return code, Inquiry.SubjectKind.PERSON
    if code.isdigit() and len(code) == 11 and is_valid_legal_national_id(code):
        return code, Inquiry.SubjectKind.COMPANY
    raise ValidationError(
        {
            "subject_code": ValidationError(
                _(
                    "This is neither a valid national code (10 digits) nor a valid company "
                    "national ID (11 digits): check the digits."
                ),
                code="check_digit",
            )
        }
    )


def new_key() -> str:
    """A form's one-time key (a second submission of the same form does nothing new)."""
    return secrets.token_urlsafe(24)


def _clean_key(key: Any) -> str:
    key = str(key or "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", key):
        raise ValidationError(_("The form has expired: open it again."), code="key")
    return key


# -- the inquiry ---------------------------------------------------------------------------


def _event(inquiry: Inquiry, kind: str, *, actor=None, registry="", data=None, **states) -> None:
    AssetEvent.objects.create(
        inquiry=inquiry,
        actor=roles.person(actor) if actor is not None else None,
        kind=kind,
        registry=registry,
        data=data or {},
        **states,
    )


def request_inquiry(*, actor, case_number: Any, subject_code: Any, key: Any) -> Inquiry:
    """A judge's one request: the four registries are asked after the commit."""
    agency = require_judge(actor)
    number = clean_case_number(case_number)
    code, kind = clean_subject(subject_code)
    key = _clean_key(key)
    known = Inquiry.objects.filter(key=key).first()
    if known is not None:
        require_own(actor, known)
        return known
    try:
        with transaction.atomic():
            inquiry = Inquiry.objects.create(
                key=key,
                case_number=number,
                subject_code=code,
                subject_kind=kind,
                judge=actor,
                agency=agency,
            )
            RegistryCall.objects.bulk_create(
                RegistryCall(inquiry=inquiry, registry=name) for name in REGISTRIES
            )
            _event(inquiry, "requested", actor=actor, data={"case_number": number})
    except IntegrityError:  # the same form twice at once: the first one stands
        known = Inquiry.objects.get(key=key)
        require_own(actor, known)
        return known
    ids = list(inquiry.calls.values_list("id", flat=True))
    transaction.on_commit(lambda: _queue_calls(ids))
    return inquiry


def _queue_calls(ids: list[int]) -> None:
    from . import tasks

    tasks.queue_calls(ids)


def backoff(attempts: int) -> dt.timedelta:
    """The delay before the next attempt: doubling from ``PANJEREH_ASSETS_RETRY_BASE`` seconds
    (5) up to ``PANJEREH_ASSETS_RETRY_MAX`` (600)."""
    base = float(setting("PANJEREH_ASSETS_RETRY_BASE", 5))
    most = float(setting("PANJEREH_ASSETS_RETRY_MAX", 600))
    return dt.timedelta(seconds=min(most, base * 2 ** max(0, attempts - 1)))


LEASE = dt.timedelta(seconds=60)  # an attempt in progress is not taken by another worker


def _take(model, pk: int, states: tuple[str, ...], now) -> Any | None:
    """Lease one due row (its next attempt pushed past the call's time), or None."""
    with transaction.atomic():
        row = (
            model.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, state__in=states)
            .first()
        )
        if row is None or (row.next_attempt_at and row.next_attempt_at > now):
            return None
        row.attempts += 1
        row.next_attempt_at = now + LEASE
        row.save(update_fields=["attempts", "next_attempt_at"])
        return row


def _record_call(locked, from_state, to_state, *, by, changes, **event) -> None:
    _event(
        locked.inquiry,
        "answer",
        registry=locked.registry,
        from_state=from_state,
        to_state=to_state,
        data={"attempt": locked.attempts, **event},
    )


CALL_MACHINE = statemachine.Machine(
    {
        RegistryCall.State.PENDING: {
            RegistryCall.State.ANSWERED,
            RegistryCall.State.NOT_FOUND,
            RegistryCall.State.RETRYING,
            RegistryCall.State.REFUSED,
        },
        RegistryCall.State.RETRYING: {
            RegistryCall.State.ANSWERED,
            RegistryCall.State.NOT_FOUND,
            RegistryCall.State.RETRYING,
            RegistryCall.State.REFUSED,
        },
    },
    record=_record_call,
)


def ask(call_id: int) -> str:
    """One attempt at one registry for one inquiry; the call's state afterwards."""
    now = timezone.now()
    call = _take(RegistryCall, call_id, (RegistryCall.State.PENDING, "retrying"), now)
    if call is None:
        return "not_due"
    inquiry = call.inquiry
    subsystem, code, item, _field = INQUIRY[call.registry]
    try:
        reply = _exchange(inquiry, subsystem, code, item, f"{inquiry.subject_code}", body=None)
    except RegistryUnavailable as exc:
        delay = backoff(call.attempts)
        CALL_MACHINE.move(
            call,
            RegistryCall.State.RETRYING,
            event={"error": str(exc)[:200]},
            last_error=str(exc)[:200],
            next_attempt_at=timezone.now() + delay,
        )
        from . import tasks

        tasks.retry_call(call.pk, delay)
        return call.state
    except RegistryRefused as exc:
        CALL_MACHINE.move(
            call,
            RegistryCall.State.REFUSED,
            event={"error": str(exc)[:200]},
            last_error=str(exc)[:200],
            next_attempt_at=None,
        )
        return call.state
    state = RegistryCall.State.ANSWERED if reply.found else RegistryCall.State.NOT_FOUND
    CALL_MACHINE.move(
        call,
        state,
        result=reply.data if reply.found and isinstance(reply.data, dict) else {},
        message_id=reply.message_id[:64],
        answered_at=timezone.now(),
        next_attempt_at=None,
        last_error="",
    )
    return call.state


def _exchange(inquiry: Inquiry, subsystem: str, code: str, item: str, param: str, *, body):
    """One call through the gateway as the judiciary's consumer system."""
    from panjereh.exchange import client as nix_client
    from panjereh.exchange.models import ConsumerSystem
    from panjereh.services import keys, nix
    from panjereh.services.models import AgencyKey

    agency = inquiry.agency
    system = ConsumerSystem.objects.filter(
        agency=agency, subsystem=nix.SUBSYSTEM, enabled=True
    ).first()
    if system is None:
        raise RegistryRefused("the judiciary is not an exchange consumer")
    address = nix_client.service_address(subsystem, code)
    if address is None:
        raise RegistryRefused(f"no data service {subsystem}/{code} on the exchange")
    client = nix_client.NixClient(
        nix.gateway_url(),
        system.client_id,
        keys.private_key(keys.active_key(agency, AgencyKey.Use.EXCHANGE)),
        timeout=float(setting("PANJEREH_ASSETS_HTTP_TIMEOUT", 8.0)),
    )
    purpose = agency.services.filter(title_en=PURPOSE_TITLE_EN).first()
    options = {
        "user_id": inquiry.subject_code,
        "issue": inquiry.case_number,
        "purpose": (purpose.service_id or "") if purpose else "",
        "items": [item],
    }
    try:
        if body is None:
            return client.get(f"{address}/{param}", **options)
        return client.post(f"{address}/{param}", body, **options)
    except nix_client.ExchangeUnreachable as exc:
        raise RegistryUnavailable(exc.reason) from exc
    except nix_client.AnswerNotJSON as exc:
        raise RegistryUnavailable("the answer is not JSON") from exc
    except nix_client.GatewayRefusal as exc:
        if exc.code == "provider_rejected" and exc.status in (400, 409):
            raise RegistryRefused(f"{exc.status} {exc.message}") from exc
        if exc.consumer_fault and not exc.transient:
            raise RegistryRefused(f"{exc.status} {exc.code}") from exc
        raise RegistryUnavailable(f"exchange answered {exc.status} {exc.code}") from exc


def due_calls(limit: int = 50) -> list[int]:
    now = timezone.now()
    return list(
        RegistryCall.objects.filter(
            state__in=(RegistryCall.State.PENDING, RegistryCall.State.RETRYING)
        )
        .exclude(next_attempt_at__gt=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def due_items(limit: int = 50) -> list[int]:
    now = timezone.now()
    return list(
        FreezeItem.objects.filter(state__in=(FreezeItem.State.PENDING, FreezeItem.State.RETRYING))
        .exclude(next_attempt_at__gt=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def run_due(limit: int = 50) -> int:
    """Every due registry call and freeze item, once (the periodic job ``assets-due``; it
    also picks up work whose Celery task was lost)."""
    done = 0
    for call_id in due_calls(limit):
        try:
            ask(call_id)
        except Exception:  # one broken call must not stop the others
            log.exception("asset call %s failed", call_id)
        done += 1
    for item_id in due_items(limit):
        try:
            send(item_id)
        except Exception:
            log.exception("freeze item %s failed", item_id)
        done += 1
    return done


# -- freezing ---------------------------------------------------------------------------------


def _answered(inquiry: Inquiry, registry: str) -> list[dict[str, Any]]:
    call = inquiry.calls.filter(registry=registry, state=RegistryCall.State.ANSWERED).first()
    if call is None:
        return []
    rows = call.result.get(INQUIRY[registry][3]) or []
    return [row for row in rows if isinstance(row, dict)]


def _refuse(field: str, message) -> ValidationError:
    return ValidationError({field: ValidationError(message, code="invalid")})


def order_freeze(
    inquiry: Inquiry,
    *,
    actor,
    key: Any,
    reason: Any,
    accounts: dict[str, Any] | None = None,
    properties: list[str] | None = None,
    holdings: list[str] | None = None,
    vehicles: list[str] | None = None,
) -> FreezeOrder:
    """The judge's freeze order on assets the registries reported for this inquiry.

    ``accounts``: IBAN → amount in rials (at most what is available); ``properties``: deed
    serials; ``holdings``: stock symbols and ``vehicles``: VINs (not online: the letter
    queue). The same form again (``key``) is the same order; an asset already in a live order
    of this inquiry is refused (nothing is frozen twice)."""
    require_own(actor, inquiry)
    key = _clean_key(key)
    known = FreezeOrder.objects.filter(key=key).first()
    if known is not None:
        if known.inquiry_id != inquiry.pk:
            raise roles.NotPermitted(_("This order belongs to another inquiry."))
        return known
    reason = str(reason or "").strip()
    if "\x00" in reason:
        raise _refuse("reason", _("The reason contains characters that cannot be kept."))
    if not reason:
        raise _refuse("reason", _("Give the reason for the order (the decision it executes)."))
    if len(reason) > MAX_REASON:
        raise _refuse("reason", _("Keep the reason under 1,000 characters."))
    wanted: list[tuple[str, str, str, int | None]] = []  # registry, target, label, amount
    by_iban = {row.get("iban"): row for row in _answered(inquiry, "banks")}
    for iban, raw in (accounts or {}).items():
        row = by_iban.get(iban)
        if row is None:
            raise _refuse("accounts", _("Choose accounts the banks reported for this inquiry."))
        try:
            amount = int(to_latin_digits(str(raw or "")).replace(",", "").strip())
        except ValueError:
            raise _refuse("accounts", _("Give each amount in rials, in digits.")) from None
        available = int(row.get("available") or 0)
        if amount <= 0 or amount > available:
            raise _refuse(
                "accounts",
                _("Each amount must be above zero and at most the account's available balance."),
            )
        wanted.append(("banks", iban, str(row.get("bank_fa") or "")[:200], amount))
    lists = (
        ("ssaa", properties, "serial", ""),  # a deed has no name
        ("stock", holdings, "symbol", "company_fa"),
        ("vehicle", vehicles, "vin", "plate"),
    )
    for registry, chosen, field, label in lists:
        rows = {str(row.get(field)): row for row in _answered(inquiry, registry)}
        for target in chosen or []:
            row = rows.get(str(target))
            if row is None:
                raise _refuse(
                    "assets", _("Choose assets the registries reported for this inquiry.")
                )
            wanted.append((registry, str(target), str(row.get(label) or "")[:200], None))
    if not wanted:
        raise _refuse("assets", _("Choose at least one account or asset to freeze."))
    live = set(
        FreezeItem.objects.filter(order__inquiry=inquiry)
        .exclude(state=FreezeItem.State.REFUSED)
        .values_list("registry", "target")
    )
    if any((registry, target) in live for registry, target, _l, _a in wanted):
        raise _refuse("assets", _("An asset you chose is already in an order of this inquiry."))
    try:
        with transaction.atomic():
            # One order at a time per inquiry: two at once cannot both pass the check above.
            Inquiry.objects.select_for_update().filter(pk=inquiry.pk).first()
            again = set(
                FreezeItem.objects.filter(order__inquiry=inquiry)
                .exclude(state=FreezeItem.State.REFUSED)
                .values_list("registry", "target")
            )
            if any((registry, target) in again for registry, target, _l, _a in wanted):
                raise _refuse(
                    "assets", _("An asset you chose is already in an order of this inquiry.")
                )
            order = FreezeOrder.objects.create(
                inquiry=inquiry, key=key, ordered_by=actor, reason=reason
            )
            items = []
            for n, (registry, target, label, amount) in enumerate(wanted):
                online = registry in ONLINE_FREEZE
                items.append(
                    FreezeItem(
                        order=order,
                        registry=registry,
                        target=target,
                        label=label,
                        amount=amount,
                        registry_order_id=f"{order.key[:40]}-{n}",
                        state=FreezeItem.State.PENDING if online else FreezeItem.State.LETTER,
                    )
                )
            FreezeItem.objects.bulk_create(items)
            _event(
                inquiry,
                "freeze_ordered",
                actor=actor,
                data={
                    "order": order.pk,
                    "reason": reason,
                    "items": [{"registry": r, "target": t, "amount": a} for r, t, _l, a in wanted],
                },
            )
    except IntegrityError:  # the same form twice at once
        known = FreezeOrder.objects.get(key=key)
        if known.inquiry_id != inquiry.pk:
            raise roles.NotPermitted(_("This order belongs to another inquiry.")) from None
        return known
    ids = list(order.items.filter(state=FreezeItem.State.PENDING).values_list("id", flat=True))
    transaction.on_commit(lambda: _queue_items(ids))
    return order


def _queue_items(ids: list[int]) -> None:
    from . import tasks

    tasks.queue_items(ids)


def _record_item(locked, from_state, to_state, *, by, changes, **event) -> None:
    _event(
        locked.order.inquiry,
        "freeze",
        actor=by,
        registry=locked.registry,
        from_state=from_state,
        to_state=to_state,
        data={"target": locked.target, "attempt": locked.attempts, **event},
    )


ITEM_MACHINE = statemachine.Machine(
    {
        FreezeItem.State.PENDING: {
            FreezeItem.State.FROZEN,
            FreezeItem.State.RETRYING,
            FreezeItem.State.REFUSED,
        },
        FreezeItem.State.RETRYING: {
            FreezeItem.State.FROZEN,
            FreezeItem.State.RETRYING,
            FreezeItem.State.REFUSED,
        },
        FreezeItem.State.LETTER: {FreezeItem.State.LETTER_SENT},
    },
    record=_record_item,
)


def send(item_id: int) -> str:
    """One attempt to send one online freeze item; its state afterwards. The registry keeps
    the item's order id: a repeat (a retry after a lost answer) freezes nothing twice."""
    now = timezone.now()
    item = _take(FreezeItem, item_id, (FreezeItem.State.PENDING, "retrying"), now)
    if item is None:
        return "not_due"
    inquiry = item.order.inquiry
    subsystem, code, data_item = FREEZE[item.registry]
    body: dict[str, Any] = {
        "national_code": inquiry.subject_code,
        "case_number": inquiry.case_number,
    }
    if item.registry == "banks":
        body.update(iban=item.target, amount=item.amount)
    else:
        body.update(serial=item.target)
    try:
        reply = _exchange(inquiry, subsystem, code, data_item, item.registry_order_id, body=body)
    except RegistryUnavailable as exc:
        delay = backoff(item.attempts)
        ITEM_MACHINE.move(
            item,
            FreezeItem.State.RETRYING,
            event={"error": str(exc)[:200]},
            last_error=str(exc)[:200],
            next_attempt_at=timezone.now() + delay,
        )
        from . import tasks

        tasks.retry_item(item.pk, delay)
        return item.state
    except RegistryRefused as exc:
        ITEM_MACHINE.move(
            item,
            FreezeItem.State.REFUSED,
            event={"error": str(exc)[:200]},
            last_error=str(exc)[:200],
            next_attempt_at=None,
        )
        return item.state
    data = reply.data if isinstance(reply.data, dict) else {}
    if not reply.found or not data.get("reference"):
        ITEM_MACHINE.move(
            item,
            FreezeItem.State.REFUSED,
            event={"error": "the registry does not know this asset"},
            last_error="not found",
            next_attempt_at=None,
        )
        return item.state
    ITEM_MACHINE.move(
        item,
        FreezeItem.State.FROZEN,
        event={"reference": str(data["reference"])[:40]},
        reference=str(data["reference"])[:40],
        frozen_amount=data.get("blocked") if item.registry == "banks" else None,
        answer=data,
        next_attempt_at=None,
        last_error="",
    )
    return item.state


def mark_letter_sent(item: FreezeItem, *, actor, letter_number: Any) -> FreezeItem:
    """Judiciary staff record the letter that carried an offline freeze (stock, vehicle)."""
    if not can_handle_letters(actor):
        raise roles.NotPermitted(_("Only the judiciary's staff handle freeze letters."))
    number = str(letter_number or "").strip()
    if not number or "\x00" in number or len(number) > 40:
        raise _refuse("letter_number", _("Enter the letter's number (up to 40 characters)."))
    return ITEM_MACHINE.move(
        item,
        FreezeItem.State.LETTER_SENT,
        by=actor,
        event={"letter_number": number},
        reference=number,
    )


# -- setting up the exchange (demo and tests; production grants come from the Working Group) --


def provision(*, resolution_number: str, valid_days: int = 365):
    """The judiciary as an exchange consumer with grants on the asset services, under its
    "asset inquiry" service (made once)."""
    from panjereh.catalogue import operations as catalogue_operations
    from panjereh.catalogue.models import Service
    from panjereh.catalogue.rules import make_service_id
    from panjereh.exchange.models import DataService
    from panjereh.exchange.operations import ensure_grant
    from panjereh.services import nix

    agency = judiciary()
    if agency is None:
        raise ValueError("no judiciary agency in the catalogue")
    system = nix.join_exchange(agency)
    agency = system.agency
    purpose = Service.objects.filter(agency=agency, title_en=PURPOSE_TITLE_EN).first()
    if purpose is None:
        purpose = catalogue_operations.save_service(
            Service(agency=agency),
            {
                "service_id": make_service_id(f"{952_000_000 + agency.pk:09d}"),
                "title_fa": PURPOSE_TITLE_FA,
                "title_en": PURPOSE_TITLE_EN,
                "recipients": ["G2G"],
                "category": "other",
                "channels": ["web"],
                "scope": "connectable",
                "connected": True,
                "connection_form": "direct",
                "min_assurance_level": 1,
            },
            author=catalogue_operations.SYSTEM,
        )
    wanted = [(s, c, [i]) for s, c, i, _f in INQUIRY.values()] + [
        (s, c, [i]) for s, c, i in FREEZE.values()
    ]
    for subsystem, code, items in wanted:
        ensure_grant(
            agency,
            DataService.objects.get(subsystem=subsystem, code=code),
            items,
            actor=roles.SYSTEM,
            purpose=purpose,
            resolution_number=resolution_number,
            valid_days=valid_days,
        )
    return system
