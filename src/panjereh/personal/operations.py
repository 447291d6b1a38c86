"""Every write of the personal app, with its rights checked here: share links.

Only the holder of a document shares it and revokes its links; a member of staff, someone
else or nobody signed in cannot (``roles.NotPermitted``); someone else's link or document is
"not found" (the same answer as one that does not exist). Creating links is rate-limited per
person (``SHARES_CREATED``)."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.common import ratelimit

from . import queries
from .models import LIFETIMES, Lifetime, ShareLink

# Share links made by one person (a leaked session cannot mint links without end).
SHARES_CREATED = ratelimit.Limit("personal-share", limit=30, window=60 * 60, lockout=60 * 60)
TOKEN_BYTES = 32


class ShareError(Exception):
    """A share request refused: ``message`` is for people (localised)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class NotFound(LookupError):
    """No such document or link of this person's."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require_citizen(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise roles.NotPermitted(_("Sign in to share your documents."))
    if not getattr(actor, "national_code", ""):
        raise roles.NotPermitted(_("Only a citizen shares their own documents."))


def create_share(actor, reference: str, lifetime: str) -> tuple[ShareLink, str]:
    """A new link to the actor's document ``reference`` for ``lifetime`` (one of
    ``Lifetime``): the row and the link's secret, which is not stored and shown once."""
    _require_citizen(actor)
    if lifetime not in Lifetime.values:
        raise ShareError(_("Choose how long the link works."))
    document = queries.document_of(actor, reference)
    if document is None:
        raise NotFound(reference)
    if document.status != "valid":
        raise ShareError(_("Only a valid document can be shared."), status=409)
    if ratelimit.hit(SHARES_CREATED, f"user:{actor.pk}"):
        raise ShareError(
            _("You have made many share links in a short time. Try again in an hour."), status=429
        )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    link = ShareLink.objects.create(
        holder=actor,
        reference=document.reference,
        kind=document.kind,
        title=document.title[:300],
        token_hash=digest(token),
        lifetime=lifetime,
        created_at=now,
        expires_at=now + LIFETIMES[Lifetime(lifetime)],
    )
    return link, token


@transaction.atomic
def revoke_share(actor, link_id) -> ShareLink:
    """The holder ends one of their links at once (revoking twice changes nothing)."""
    _require_citizen(actor)
    try:
        pk = int(link_id)
    except (TypeError, ValueError):
        raise NotFound(link_id) from None
    link = ShareLink.objects.select_for_update().filter(pk=pk, holder=actor).first()
    if link is None:
        raise NotFound(link_id)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
    return link


def open_share(token: str) -> tuple[ShareLink | None, str]:
    """The link a secret names and its state: "live", "expired", "revoked" or "unknown"
    (a malformed, unknown or guessed secret: nothing is said about any document)."""
    token = token if isinstance(token, str) else ""
    if not (20 <= len(token) <= 100) or not token.isascii():
        return None, "unknown"
    link = ShareLink.objects.filter(token_hash=digest(token)).first()
    if link is None:
        return None, "unknown"
    if link.revoked_at is not None:
        return link, "revoked"
    if link.expires_at <= timezone.now():
        return link, "expired"
    return link, "live"


def count_view(link: ShareLink) -> None:
    """One more view of a live link (one UPDATE; concurrent views all count)."""
    now = timezone.now()
    ShareLink.objects.filter(pk=link.pk).update(views=F("views") + 1, last_viewed_at=now)
