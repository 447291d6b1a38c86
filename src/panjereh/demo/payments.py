"""The payments' part of ``panjereh demo``: the simulated bank (``panjereh.psp``) as a child
process, and a treasury account for every agency that takes a fee.

The merchant's shared secret is never in the code: ``payments.conf.psp_secret()`` reads it from
``PANJEREH_PAYMENTS_PSP_SECRET`` or, outside production, from ``VAR_DIR/payments/psp-secret``,
made on first use. The demo hands the same secret to the PSP (on its standard input) and the
portal and the worker read it the same way, so all three agree without it being passed around.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from panjereh.psp.supervisor import PSP, PSPStartError

URL_SETTING = "PANJEREH_PAYMENTS_PSP_URL"
# Treasury accounts are held at the Central Bank of Iran (bank code 010 in a Sheba number).
CENTRAL_BANK = "0010"


def shaba_for(agency_pk: int) -> str:
    """A valid, deterministic Sheba number for an agency's treasury account: IR, the ISO 13616
    check digits (mod 97), the Central Bank's code and an account number made of the agency's."""
    bban = f"{CENTRAL_BANK}4001{agency_pk:014d}"
    check = 98 - int(bban + "182700") % 97  # I = 18, R = 27, then "00" for the check digits
    return f"IR{check:02d}{bban}"


def treasury_accounts(write=print) -> int:
    """An active treasury account for each agency with a fee-bearing card that has none,
    through ``payments.operations.save_treasury_account`` (idempotent: an agency that has one
    keeps it). The number of accounts made."""
    from panjereh.catalogue import roles
    from panjereh.catalogue.models import Agency, Service
    from panjereh.payments import operations
    from panjereh.payments.models import TreasuryAccount

    charging = Service.objects.filter(fee__gt=0).values("agency_id")
    covered = TreasuryAccount.objects.filter(active=True).values("agency_id")
    made = 0
    for agency in Agency.objects.filter(pk__in=charging).exclude(pk__in=covered).order_by("pk"):
        operations.save_treasury_account(
            agency,
            shaba=shaba_for(agency.pk),
            treasury_id=f"4001{agency.pk:08d}",
            title=f"حساب درآمد اختصاصی {agency.name_fa}"[:200],
            actor=roles.SYSTEM,
        )
        made += 1
    if made:
        write(f"Treasury accounts: {made} agencies that take fees got one (simulated numbers).")
    return made


def start_psp(write=print) -> PSP:
    """Start the simulated PSP at the address of ``PANJEREH_PAYMENTS_PSP_URL`` (another port if
    it is taken) and point this process and its children (the server, the worker) at it."""
    from panjereh.payments import conf

    address = urlsplit(conf.get("PSP_URL"))
    host = address.hostname or "127.0.0.1"

    def psp(port: int) -> PSP:
        return PSP(
            conf.psp_secret().decode(),
            merchant=conf.get("PSP_MERCHANT"),
            host=host,
            port=port,
            verify_deadline=float(conf.get("VERIFY_WINDOW")),
        )

    try:
        bank = psp(8790 if address.port is None else address.port).start()
    except PSPStartError:
        bank = psp(0).start()  # the usual port is taken (another demo, a test run)
    os.environ[URL_SETTING] = bank.url
    conf.SECTION.clear()  # this process may have read the old address already
    write(f"Simulated payment provider (bank gateway): {bank.url}/")
    return bank


def bill_payments(billers_url: str = "", write=print) -> bool:
    """Paying bills in the demo: the national window's grants on the simulated billers'
    services (``payments.billing.provision``, idempotent) and a treasury account for the
    billers' agency. Run once the billers are registered and the window is a consumer (the
    identity part registers it). Whether bills can be paid."""
    from panjereh.catalogue import roles
    from panjereh.catalogue.models import Agency
    from panjereh.identity.management.commands.identity_exchange import PLATFORM_AGENCY
    from panjereh.payments import billing, operations
    from panjereh.payments.models import TreasuryAccount

    operator = Agency.objects.filter(code=PLATFORM_AGENCY["code"]).first()
    if operator is None:
        return False
    billing.provision(operator, resolution_number="1404/demo")
    agency = billing.billers_agency()
    if agency is None:
        return False
    if not TreasuryAccount.objects.filter(agency=agency, active=True).exists():
        operations.save_treasury_account(
            agency,
            shaba=shaba_for(agency.pk),
            treasury_id=f"4001{agency.pk:08d}",
            title=f"حساب درآمد قبوض {agency.name_fa}"[:200],
            actor=roles.SYSTEM,
        )
    example = ""
    if billers_url:
        try:  # an open bill to try, as the billers list them for a demo
            import httpx

            bill = httpx.get(f"{billers_url}/_bills", timeout=5).json()["bills"][0]
            example = f" (e.g. bill ID {bill['bill_id']}, payment ID {bill['payment_id']})"
        except (httpx.HTTPError, KeyError, IndexError, ValueError):
            example = ""
    write(f"Bills of the simulated billers can be paid at /payments/bills/{example}.")
    return True
