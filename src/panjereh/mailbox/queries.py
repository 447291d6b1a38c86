"""What other apps may read of the official mailbox: a person's notices and their proofs.

Reading here never changes a notice's legal status: opening is recorded only by the mailbox's
own page (``operations.open_notice``)."""

from __future__ import annotations

from panjereh.services import documents, keys

from . import operations
from .models import Notice, RecipientKind, State

READ_STATES = (State.OPENED, State.SERVED)


def _addressed_to(user):
    code = getattr(user, "national_code", "") or ""
    if not code:
        return Notice.objects.none()
    return Notice.objects.filter(recipient_kind=RecipientKind.PERSON, recipient=code)


def notices_held_by(user, reference: str | None = None) -> list[Notice]:
    """The notices served on ``user`` that they have opened or that were served (deemed read),
    newest first; ``reference``: that one, if theirs. Unopened ones are "to read", not held."""
    rows = _addressed_to(user).filter(state__in=READ_STATES)
    if reference is not None:
        rows = rows.filter(reference=reference[:24])
    return list(rows.select_related("agency").order_by("-created_at", "-pk"))


def unread_notices(user, limit: int = 20) -> list[Notice]:
    """Notices made available to ``user`` and not opened yet, newest first."""
    return list(
        _addressed_to(user)
        .filter(state=State.MADE_AVAILABLE)
        .select_related("agency")
        .order_by("-created_at", "-pk")[:limit]
    )


def served(notice: Notice) -> bool:
    return notice.state == State.SERVED


def proof_token(notice: Notice) -> str:
    """A fresh proof of service of ``notice`` signed by the window's operator."""
    return operations.proof(notice)


def verify_proof(token: str) -> documents.Verification:
    return operations.verify_proof(token, keys.jwks())


def verify_notice(token: str) -> documents.Verification:
    """A notice's own token: the sending agency's signature, and a notice the mailbox holds."""
    result = documents.verify_signature(token, keys.jwks())
    if result.status not in ("valid", "expired"):
        return result
    reference = str(result.claims.get("ref") or result.claims.get("num") or "")[:24]
    found = Notice.objects.filter(reference=reference).values_list("token", flat=True).first()
    if found != (token or "").strip():
        return documents.Verification("invalid", documents.FORGED_FA, documents.FORGED_EN)
    return result


def proof_signer():
    """The agency whose key signs proofs of service (the window's operator)."""
    return operations.witness()


def latest_notices(user, limit: int = 3) -> list[Notice]:
    """The newest notices made available to ``user`` (read or not), newest first."""
    return list(
        _addressed_to(user)
        .filter(state__in=(State.MADE_AVAILABLE, *READ_STATES))
        .select_related("agency")
        .order_by("-created_at", "-pk")[:limit]
    )
