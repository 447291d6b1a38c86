"""Paying a utility or government bill at the window, with the biller's word through the exchange.

1. :func:`look_up`: the bill ID and payment ID are checked (:mod:`.bills`, the banks' mod-11
   rule), then the biller is asked through the exchange whether that bill is open and for how
   much (the billers' data service ``bill``; the national window is the consumer, the payer's
   national code the ``X-Road-UserId``, so the payer sees the call in "who read my data").
2. :func:`pay`: the same checks again (nothing the browser sends back is trusted), then one
   payment of purpose ``bill`` (``purpose_id`` = bill ID-payment ID) collected into the
   billers' agency's treasury account; the view sends the payer to the bank.
3. :func:`confirm`, the ``bill`` purpose's ``paid`` handler (:mod:`.purposes`): once the
   payment is captured the biller is told through the exchange (``bill-payment``, POST); it
   records the payment once per payment reference and answers its confirmation reference,
   which is kept as a :class:`~.models.BillConfirmation`, and the payer gets an inbox notice.
   If the biller cannot be reached the handler raises, so the purposes outbox (the job
   ``payments-tell-purposes``) tells it again later; meanwhile the payer's page says "paid,
   the biller's confirmation is pending". A biller that says the bill was paid elsewhere (or
   no longer knows it) is answered with a refund of the whole payment.

Settings: ``PANJEREH_PAYMENTS_EXCHANGE_URL`` (the gateway's address; default the exchange's
address, ``common.addresses.exchange_url``). The national window's consumer key is identity's
(``identity.registry_checks.consumer_key``): one consumer system, ``national-window``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency
from panjereh.common.persian import to_persian_digits

from . import bills, operations, purposes
from .models import BillConfirmation, Payment, Purpose

log = logging.getLogger(__name__)

SUBSYSTEM = "billers-registry"
# (registry subsystem, service code, data items the window asks for)
BILL = (SUBSYSTEM, "bill", ["billers.bill"])
NOTICE = (SUBSYSTEM, "bill-payment", ["billers.payment"])
SERVICES = [BILL, NOTICE]
# The window's own service in the catalogue, named as the purpose of the calls.
PURPOSE_TITLE_FA = "پرداخت قبوض خدمات و جرایم در پنجره ملی"
PURPOSE_TITLE_EN = "Paying utility and government bills at the national window"


class BillerUnavailable(Exception):
    """The exchange or the biller gave no usable answer; nothing was decided on it."""


def _refusal(field: str, message, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


@dataclass(frozen=True)
class OpenBill:
    """A bill the biller says is open, for its amount."""

    bill: bills.Bill
    biller_fa: str
    biller_en: str
    agency: Agency  # who collects: the billers' member of the exchange


# -- calling the billers through the exchange -------------------------------------------------


def _national_code(actor) -> str:
    code = str(getattr(actor, "national_code", "") or "")
    if not code:
        raise roles.NotPermitted(_("Sign in with your national code to pay a bill."))
    return code


def _consumer():
    from panjereh.exchange.models import ConsumerSystem
    from panjereh.identity.registry_checks import SUBSYSTEM as WINDOW

    system = ConsumerSystem.objects.filter(subsystem=WINDOW, enabled=True).first()
    if system is None:
        raise BillerUnavailable("the national window is not an exchange consumer")
    return system


def _service(spec):
    from panjereh.exchange.models import DataService

    service = (
        DataService.objects.filter(subsystem=spec[0], code=spec[1], enabled=True)
        .select_related("provider")
        .first()
    )
    if service is None:
        raise BillerUnavailable(f"no data service {spec[0]}/{spec[1]} on the exchange")
    return service


def _call(spec, national_code: str, bill_id: str, *, params=None, body=None, issue: str = ""):
    """One call through the gateway: the reply, or :class:`BillerUnavailable`; a refusal of
    the biller's (409, 400) comes back as the exchange client's ``GatewayRefusal``."""
    from panjereh.common.addresses import exchange_url
    from panjereh.exchange import client as nix_client
    from panjereh.exchange.client import service_address
    from panjereh.identity import registry_checks

    system = _consumer()
    address = service_address(spec[0], spec[1])
    if address is None:
        raise BillerUnavailable(f"no data service {spec[0]}/{spec[1]} on the exchange")
    client = nix_client.NixClient(
        exchange_url("PANJEREH_PAYMENTS_EXCHANGE_URL"),
        system.client_id,
        registry_checks.consumer_key(),
        timeout=8.0,
    )
    options: dict[str, Any] = {
        "user_id": national_code,
        "issue": issue,
        "purpose": registry_checks.purpose_service_id(system, PURPOSE_TITLE_EN),
        "items": spec[2],
        "params": params,
    }
    try:
        if body is None:
            return client.get(f"{address}/{bill_id}", **options)
        return client.post(f"{address}/{bill_id}", body, **options)
    except nix_client.ExchangeUnreachable as exc:
        log.warning("billers: %s unreachable (%s)", spec[1], exc.reason)
        raise BillerUnavailable(exc.reason) from exc
    except nix_client.AnswerNotJSON as exc:
        raise BillerUnavailable("the exchange answer is not JSON") from exc
    except nix_client.GatewayRefusal as exc:
        # The biller's own refusals (the gateway passes its status on) are the caller's to
        # read; anything else (grant, provider down) is "not now".
        if exc.code == "provider_rejected" and exc.status in (400, 409):
            raise
        log.warning("billers: %s refused %s %s", spec[1], exc.status, exc.code)
        raise BillerUnavailable(f"exchange answered {exc.status} {exc.code}") from exc


# -- asking and paying ------------------------------------------------------------------------


def unavailable_message():
    return _("The biller cannot be reached now. Nothing was paid; try again in a few minutes.")


def look_up(bill_id_text: str, payment_id_text: str, *, actor) -> OpenBill:
    """The bill if both numbers check and the biller says it is open for that amount.

    ValidationError naming the field (a wrong number, a bill the biller does not know or says
    is paid); :class:`BillerUnavailable` when the biller cannot be asked."""
    bill = bills.parse(bill_id_text, payment_id_text)
    code = _national_code(actor)
    reply = _call(BILL, code, bill.bill_id, params={"payment_id": bill.payment_id})
    if not reply.found:
        raise _refusal(
            "bill_id",
            _(
                "The biller has no unpaid bill with this bill ID and payment ID: check both numbers."
            ),
            "unknown",
        )
    data = reply.data if isinstance(reply.data, dict) else {}
    if data.get("status") == "paid":
        raise _refusal("bill_id", _("The biller says this bill is already paid."), "paid")
    if data.get("status") != "open" or data.get("amount") != bill.amount:
        log.error("billers: bill %s answered %r", bill.bill_id, data)
        raise BillerUnavailable("the biller's answer does not match the bill")
    return OpenBill(
        bill=bill,
        biller_fa=str(data.get("biller_fa") or "")[:200],
        biller_en=str(data.get("biller_en") or "")[:200],
        agency=_service(BILL).provider,
    )


def description(bill: bills.Bill) -> str:
    """What the payment is for, as the payer's history shows it (Persian first)."""
    with translation.override("fa"):
        kind = str(bill.type_label)
    return f"قبض {kind}، شناسه قبض {to_persian_digits(bill.bill_id)}"


def pay(bill_id_text: str, payment_id_text: str, *, actor) -> Payment:
    """The payer's payment of an open bill (their live one if they already started it)."""
    found = look_up(bill_id_text, payment_id_text, actor=actor)
    bill = found.bill
    payment = operations.create_payment(
        purpose_kind=Purpose.BILL,
        purpose_id=bill.purpose_id,
        amount=bill.amount,
        agency=found.agency,
        description=description(bill),
        payer=actor,
        actor=actor,
        return_url=reverse("payments:bill-return", args=[bill.purpose_id]),
    )
    if payment.payer_id != actor.pk:
        raise _refusal(
            "bill_id",
            _("This bill is being paid by someone else at the window. Try again later."),
            "taken",
        )
    return payment


def numbers(payment: Payment) -> tuple[str, str]:
    """The bill ID and payment ID a bill payment pays."""
    bill_id, _sep, payment_id = payment.purpose_id.partition("-")
    return bill_id, payment_id


# -- telling the biller ------------------------------------------------------------------------


def confirm(payment: Payment) -> None:
    """The ``bill`` purpose's ``paid`` handler: tell the biller, keep its confirmation, tell
    the payer. Idempotent; raises :class:`BillerUnavailable` to be called again later."""
    from panjereh.exchange.client import GatewayRefusal

    known = BillConfirmation.objects.filter(payment=payment).first()
    if known is not None:
        _tell_payer(payment, known)  # once: the inbox keeps one message per dedupe key
        return
    bill_id, payment_id = numbers(payment)
    payer = payment.payer
    code = _national_code(payer) if payer is not None else ""
    if not code:
        raise BillerUnavailable("a bill payment without a payer's national code")
    try:
        reply = _call(
            NOTICE,
            code,
            bill_id,
            body={
                "payment_id": payment_id,
                "reference": payment.reference,
                "amount": payment.amount,
            },
            issue=payment.reference,
        )
    except GatewayRefusal as exc:
        # 409: the biller recorded another payment of this bill (paid at a bank's counter
        # meanwhile); 400: it asks another amount. The window gives the money back.
        _give_back(payment, reason=f"biller refused the payment notice ({exc.status})")
        return
    if not reply.found:
        _give_back(payment, reason="the biller no longer knows this bill")
        return
    data = reply.data if isinstance(reply.data, dict) else {}
    try:
        confirmed_at = dt.datetime.fromisoformat(str(data["confirmed_at"]))
        biller_ref = str(data["confirmation"])[:40]
    except (KeyError, ValueError) as exc:
        raise BillerUnavailable(f"the biller's confirmation is not readable: {exc}") from exc
    if not biller_ref or data.get("reference") != payment.reference:
        raise BillerUnavailable("the biller confirmed another payment")
    if timezone.is_naive(confirmed_at):
        confirmed_at = timezone.make_aware(confirmed_at, dt.UTC)
    try:
        with transaction.atomic():
            confirmation = BillConfirmation.objects.create(
                payment=payment,
                bill_id=bill_id,
                bill_payment_id=payment_id,
                biller_ref=biller_ref,
                confirmed_at=confirmed_at,
                message_id=reply.message_id[:100],
            )
    except IntegrityError:
        # Told twice at once: the biller answered both the same; keep the stored one.
        confirmation = BillConfirmation.objects.get(payment=payment)
    _tell_payer(payment, confirmation)


def _tell_payer(payment: Payment, confirmation: BillConfirmation) -> None:
    from panjereh.inbox import notify

    bill = bills.parse(confirmation.bill_id, confirmation.bill_payment_id)
    texts = {}
    for language in ("fa", "en"):
        with translation.override(language):
            texts[language] = (
                str(_("Your %(kind)s bill is paid") % {"kind": bill.type_label}),
                str(
                    _(
                        "The biller confirmed the payment of bill ID %(bill)s, payment ID "
                        "%(payment)s: %(amount)s rials. The biller's confirmation number is "
                        "%(ref)s."
                    )
                    % {
                        "bill": confirmation.bill_id,
                        "payment": confirmation.bill_payment_id,
                        "amount": f"{payment.amount:,}",
                        "ref": confirmation.biller_ref,
                    }
                ),
                str(_("The bill payment")),
            )
    fa, en = texts["fa"], texts["en"]
    notify.post(
        payment.payer,
        kind="notice",
        dedupe_key=f"bill-paid:{payment.reference}",
        subject_fa=fa[0],
        subject_en=en[0],
        body_fa=to_persian_digits(fa[1]).replace(",", "٬"),
        body_en=en[1],
        link_url=reverse("payments:bill", args=[payment.reference]),
        link_label_fa=fa[2],
        link_label_en=en[2],
    )


def _give_back(payment: Payment, *, reason: str) -> None:
    log.warning("bill payment %s: %s; refunding it", payment.reference, reason)
    operations.request_refund(
        payment,
        amount=payment.refundable or payment.amount,
        reason=f"Bill payment not accepted by the biller: {reason}",
        actor=roles.SYSTEM,
        idempotency_key=f"bill-refused:{payment.reference}",
    )


def page(payment: Payment) -> str:
    return reverse("payments:bill", args=[payment.reference])


def register() -> None:
    """The ``bill`` purpose (called from ``PaymentsConfig.ready``)."""
    purposes.register(Purpose.BILL, purposes.Purpose(paid=confirm, page=page))


# -- setting up the exchange ---------------------------------------------------------------------


def provision(agency: Agency, *, resolution_number: str, valid_days: int = 365):
    """Grants for the national window (``agency``, the platform operator, already a consumer
    of the exchange through ``identity.registry_checks.provision``) on the billers' services,
    under the window's bill-paying service. The billers' agency needs a treasury account
    (``operations.save_treasury_account``) before it can take payments.

    For the demo and the tests; in production the Interoperability Working Group decides."""
    from panjereh.identity import registry_checks

    return registry_checks.grant_window(
        agency,
        SERVICES,
        purpose=(PURPOSE_TITLE_FA, PURPOSE_TITLE_EN),
        number_base=910_000_000,
        resolution_number=resolution_number,
        valid_days=valid_days,
    )


def billers_agency() -> Agency | None:
    """The billers' agency (the exchange member whose services :data:`BILL` names), if known."""
    try:
        return _service(BILL).provider
    except BillerUnavailable:
        return None
