"""Customers rate permit holders from the public permit page, and holders answer.

**Who may rate.** A signed-in person, once per permit per Jalali quarter (``period``,
e.g. ``1405-3``); the database's unique constraint (issued, rater, period) is the last word, so
two ratings sent at once by one person store one and the other is refused with the same message
as any second rating. Nobody rates their own permit: not its holder, nor a person the window
knows as a representative of the holding company (its copy of the company registry, or a
delegation), whether or not they act for it now.

**Which permits.** Valid and suspended ones: a suspended business still has customers whose
experience matters. A revoked, cancelled or expired permit is no longer a trading licence, so
it takes no new ratings; its past ratings stay visible.

**Abuse controls.** A person gives at most ``PANJEREH_PERMITS_RATINGS_PER_DAY`` ratings (10)
in 24 hours across all permits (counted from the rows, so it holds across workers); comments
are cleaned (control characters, NUL and bidirectional overrides refused, at most 1,000
characters); a moderator (the ``moderate`` platform capability) hides a rating, which then no
longer counts; averages are published only from ``PANJEREH_PERMITS_MIN_PUBLIC_RATINGS`` (5)
visible ratings up (the small-number rule of the service ratings).

**Answers.** The holder, or for a company's permit a person the company registry names now
(asked afresh, ``identity.businesses.require_can_act``), answers a rating once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, F, Window
from django.utils import timezone
from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.common import jalali
from panjereh.common.conf import setting
from panjereh.common.persian import normalize, to_latin_digits

from .models import HolderRating, IssuedPermit, PermitStatus

MAX_COMMENT = 1000
MAX_ANSWER = 1000
RATEABLE = (PermitStatus.VALID, PermitStatus.SUSPENDED)

# Characters no comment needs and that hide or reorder what a reader sees.
_FORBIDDEN = {chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)}
_FORBIDDEN |= {chr(c) for c in range(0x7F, 0xA0)}
_FORBIDDEN |= {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068"}
_FORBIDDEN |= {"\u2069", "\u200e", "\u200f", "\ufeff", "\ufffe", "\uffff"}


class RatingError(ValidationError):
    """A rating or answer refused; the message says why and nothing was stored. ``field`` names
    the form field it is about (empty: the whole form)."""

    def __init__(self, message, code: str = "invalid", field: str = ""):
        super().__init__(message, code=code)
        self.field = field

    def __str__(self) -> str:
        return "; ".join(str(m) for m in self.messages)


def ratings_per_day() -> int:
    return int(setting("PANJEREH_PERMITS_RATINGS_PER_DAY", 10))


def min_public_ratings() -> int:
    return int(setting("PANJEREH_PERMITS_MIN_PUBLIC_RATINGS", 5))


def period_of(when: dt.datetime | dt.date | None = None) -> str:
    """The Jalali quarter of ``when`` (now): ``1405-3`` for Mehr to Azar 1405."""
    day = jalali.from_gregorian(when or timezone.now())
    return f"{day.year}-{(day.month - 1) // 3 + 1}"


def clean_text(text: str | None, *, limit: int, field: str, required: bool = False) -> str:
    text = (text or "").replace("\r\n", "\n")
    if any(ch in _FORBIDDEN for ch in text) or "\x00" in text:
        raise RatingError(
            _("The text contains characters that cannot be shown; remove them and try again."),
            "bad_characters",
            field,
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise RatingError(
            _("The text contains characters that cannot be shown; remove them and try again."),
            "bad_characters",
            field,
        ) from None
    cleaned = "\n".join(normalize(line) for line in text.split("\n")).strip()
    if required and not cleaned:
        raise RatingError(_("Please write a text."), "required", field)
    if len(cleaned) > limit:
        raise RatingError(
            _("The text is too long (at most %(n)s characters).") % {"n": f"{limit:,}"},
            "too_long",
            field,
        )
    return cleaned


def parse_stars(value) -> int:
    text = to_latin_digits(str(value if value is not None else "")).strip()
    if not text.isdigit() or not 1 <= int(text) <= 5:
        raise RatingError(_("Choose from 1 to 5 stars."), "stars", "stars")
    return int(text)


def holds(person, issued: IssuedPermit) -> bool:
    """Whether ``person`` is the permit's holder or known here as acting for its company
    (the local copy of the registry and delegations: enough to refuse a self-rating)."""
    if person is None or not getattr(person, "is_authenticated", False):
        return False
    if issued.holder_id == person.pk:
        return True
    if issued.company_id:
        from panjereh.identity.businesses import my_companies

        return any(choice.company.pk == issued.company_id for choice in my_companies(person))
    return False


def already_rated(person, issued: IssuedPermit) -> HolderRating | None:
    if person is None or not getattr(person, "is_authenticated", False):
        return None
    return HolderRating.objects.filter(issued=issued, rater=person, period=period_of()).first()


def rate(actor, issued: IssuedPermit, *, stars, comment: str = "") -> HolderRating:
    """``actor``'s rating of ``issued``'s holder for this quarter. Raises :class:`RatingError`
    (nothing stored) when the rules refuse it."""
    if actor is None or not getattr(actor, "is_authenticated", False) or roles.is_system(actor):
        raise RatingError(_("Sign in to rate a permit holder."), "sign_in")
    score = parse_stars(stars)
    text = clean_text(comment, limit=MAX_COMMENT, field="comment")
    # The status as stored now (the page may be older than a suspension or revocation).
    issued.status = IssuedPermit.objects.values_list("status", flat=True).get(pk=issued.pk)
    if issued.status not in RATEABLE:
        raise RatingError(
            _("This permit is %(status)s: it can no longer be rated.")
            % {"status": issued.get_status_display().lower()},
            "not_rateable",
        )
    if holds(actor, issued):
        raise RatingError(_("You cannot rate your own permit."), "own_permit")
    period = period_of()
    if HolderRating.objects.filter(issued=issued, rater=actor, period=period).exists():
        raise _twice()
    since = timezone.now() - dt.timedelta(days=1)
    if HolderRating.objects.filter(rater=actor, created_at__gte=since).count() >= ratings_per_day():
        raise RatingError(
            _("You have given as many ratings as allowed in one day. Please try again tomorrow."),
            "too_many",
        )
    try:
        with transaction.atomic():
            return HolderRating.objects.create(
                issued=issued, rater=actor, period=period, stars=score, comment=text
            )
    except IntegrityError:
        # The unique constraint decided: another request of this person came first.
        raise _twice() from None


def _twice() -> RatingError:
    return RatingError(
        _(
            "You have already rated this permit holder this season. You can rate them again "
            "from the start of the next season."
        ),
        "already_rated",
    )


def can_answer(actor, issued: IssuedPermit) -> bool:
    """Whether ``actor`` may answer ratings of ``issued`` (without asking the registry)."""
    return holds(actor, issued)


@transaction.atomic
def answer(actor, rating: HolderRating, text: str) -> HolderRating:
    """The holder's one answer to a rating."""
    issued = rating.issued
    body = clean_text(text, limit=MAX_ANSWER, field="answer", required=True)
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise roles.NotPermitted(_("Only the permit's holder can answer its ratings."))
    if issued.company_id:
        from panjereh.identity.businesses import CannotAct, require_can_act

        try:
            require_can_act(actor, issued.company, "apply")
        except CannotAct as exc:
            raise roles.NotPermitted(exc.messages[0] if exc.messages else None) from None
    elif issued.holder_id != actor.pk:
        raise roles.NotPermitted(_("Only the permit's holder can answer its ratings."))
    locked = HolderRating.objects.select_for_update().get(pk=rating.pk)
    if locked.answered_at is not None:
        raise RatingError(_("This rating has already been answered."), "answered", "answer")
    if locked.hidden:
        raise RatingError(_("This rating was hidden by a moderator."), "hidden", "answer")
    locked.answer, locked.answered_at, locked.answered_by = body, timezone.now(), actor
    locked.save(update_fields=["answer", "answered_at", "answered_by"])
    return locked


@transaction.atomic
def hide(actor, rating: HolderRating, *, hidden: bool = True) -> HolderRating:
    """A moderator hides (or shows again) a rating; a hidden one neither shows nor counts."""
    roles.require(actor, roles.MODERATE, None, _("Only moderators can hide ratings."))
    HolderRating.objects.filter(pk=rating.pk).update(hidden=hidden)
    rating.hidden = hidden
    return rating


# -- reading --------------------------------------------------------------------------------


@dataclass
class Summary:
    count: int
    average: float | None  # None below the small-number threshold
    ratings: list[HolderRating]

    @property
    def withheld(self) -> bool:
        return self.count > 0 and self.average is None


def summary(issued: IssuedPermit, limit: int = 20) -> Summary:
    """The visible ratings (latest ``limit``) with their count and mean, in one query: the
    window aggregates are computed over every visible rating before the limit applies."""
    rows = list(
        HolderRating.objects.filter(issued=issued, hidden=False)
        .annotate(total=Window(Count("id")), mean=Window(Avg(F("stars"))))
        .only("id", "stars", "comment", "created_at", "answer", "answered_at", "period")
        .order_by("-created_at", "-id")[:limit]
    )
    count = rows[0].total if rows else 0
    mean = float(rows[0].mean) if rows and count >= min_public_ratings() else None
    return Summary(count, mean, rows)
