"""The application's copy of its satisfaction score, written by the feedback app.

The feedback app owns ratings; this keeps ``Application.rating`` (read by oversight's service
performance figures) in step and records the RATED journey event, without services knowing
about feedback.
"""

from __future__ import annotations

from panjereh.common.persian import to_persian_digits

from .models import Application, JourneyEvent
from .workflow import TERMINAL, record


def set_rating(application: Application, score: int, *, changed: bool = False) -> None:
    """Store ``score`` (1-5) on a finished application and add a RATED event to its journey."""
    if application.state not in TERMINAL or not 1 <= score <= 5:
        raise ValueError(f"{application.tracking_code}: cannot rate {score} in {application.state}")
    Application.objects.filter(pk=application.pk).update(rating=score)
    application.rating = score
    if changed:
        fa, en = (
            f"امتیاز به {to_persian_digits(score)} از ۵ تغییر کرد",
            f"Rating changed to {score} of 5",
        )
    else:
        fa, en = f"امتیاز {to_persian_digits(score)} از ۵", f"Rated {score} of 5"
    record(application, JourneyEvent.Kind.RATED, fa, en, {"score": score})
