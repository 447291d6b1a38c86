"""A fee paid without the bank, for tests about what happens after the payment (an officer's
review of a fee-bearing service, its document). The payment is the window's own row, moved to
captured as the bank's verification would, and its purpose is told through the payments app's
outbox exactly as after a real capture. The payment itself, with the simulated PSP as a real
process, is tested in tests/services/test_fees.py and tests/browser/test_payments.py."""

from __future__ import annotations

from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.payments import operations, purposes
from panjereh.payments.models import Payment, TreasuryAccount
from panjereh.services.models import Application, State
from tests.payments.conftest import shaba


def settle_fee(application: Application) -> Application:
    """``application``'s fee paid (nothing for a free one); it is then submitted to the engine."""
    application.refresh_from_db()
    if application.state != State.AWAITING_PAYMENT:
        return application
    if not TreasuryAccount.objects.filter(agency=application.agency, active=True).exists():
        operations.save_treasury_account(
            application.agency, shaba=shaba(), treasury_id="4001", title="درآمد", actor=roles.SYSTEM
        )
    payment = operations.create_payment(
        purpose_kind="application",
        purpose_id=application.tracking_code,
        amount=application.fee_rials,
        agency=application.agency,
        description="fee",
        payer=application.user,
        actor=roles.SYSTEM,
    )
    Payment.objects.filter(pk=payment.pk).update(
        state="captured", captured_amount=payment.amount, captured_at=timezone.now()
    )
    assert purposes.tell(payment.pk)
    application.refresh_from_db()
    assert application.state == State.SUBMITTED
    return application
