"""The verification of a held document, as a verifier would see it: its signature checked
against the issuing agencies' published keys (``services.keys.jwks``), then its standing in
the issuer's register: a certificate's bit in its agency's signed status list, a permit's
status in the permits register, a receipt or notice as one the window issued. Used by the
public share page and the document page."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from panjereh.mailbox import queries as mailbox_queries
from panjereh.permits import queries as permits_queries
from panjereh.services import documents as signed
from panjereh.services import keys

from .queries import HeldDocument, localised


@dataclass(frozen=True)
class Verdict:
    status: str  # valid | revoked | expired | invalid | unchecked | suspended | superseded …
    message: str  # localised, for people

    @property
    def ok(self) -> bool:
        return self.status == "valid"


def _from(result: signed.Verification) -> Verdict:
    return Verdict(result.status, localised(result.message_fa, result.message_en))


def _certificate(token: str) -> Verdict:
    result = signed.verify(token)  # signature, and the window's own register
    if result.status not in ("valid", "expired") or result.document is None:
        return _from(result)
    # As an offline verifier would: the agency's signed status list, checked with its keys.
    listed = signed.check_status(
        result, signed.status_list_token(result.document.agency), keys.jwks()
    )
    if listed.status == "unchecked":
        # A list built before this document was issued (lists are rebuilt at most once a
        # minute) does not reach its index: the register, read just above, has answered.
        return _from(result)
    return _from(listed)


PERMIT_MESSAGES = {
    "valid": lambda: _("This permit is valid: the issuing authority's signature is genuine."),
    "expired": lambda: _("The signature is genuine but the permit has expired."),
    "suspended": lambda: _("The issuing authority has suspended this permit."),
    "revoked": lambda: _("The issuing authority has revoked this permit."),
    "cancelled": lambda: _("The holder has cancelled this permit."),
    "superseded": lambda: _("This is an older copy: the permit was amended or renewed since."),
}


def _permit(token: str) -> Verdict:
    verdict = permits_queries.verify_permit(token)
    message = PERMIT_MESSAGES.get(verdict.status)
    if message is None:
        return Verdict("invalid", localised(signed.FORGED_FA, signed.FORGED_EN))
    return Verdict(verdict.status, message())


def verify(document: HeldDocument) -> Verdict:
    """``document``'s token checked as a stranger holding it would check it."""
    token = document.token
    if document.kind == "certificate":
        return _certificate(token)
    if document.kind == "permit":
        return _permit(token)
    if document.kind == "proof_of_service":
        return _from(mailbox_queries.verify_proof(token))
    if document.kind == "notice":
        return _from(mailbox_queries.verify_notice(token))
    return _from(signed.verify(token))  # receipts and bill receipts: papers of the window
