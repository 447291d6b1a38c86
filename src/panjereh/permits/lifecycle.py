"""The one table of an application's states: every move of a permit application, whoever makes
it (the applicant, the authority's staff in the window, a specialised portal's event, the
issuing), is checked against it. The callers keep their own guards (who may, and when)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from panjereh.common import statemachine

from .models import ApplicationState
from .operations import InvalidTransition

S = ApplicationState

# Open at a specialised portal, in the order a portal moves them.
AT_PORTAL = (S.AT_PORTAL, S.UNDER_REVIEW, S.INFORMATION_REQUESTED, S.INSPECTION_SCHEDULED)

# A portal's event may skip a step the window never saw (a submit whose answer was lost: the
# feed says "received" and more), so every open portal state reaches every later one. Issuing
# (``issuing.issue``, idempotent per application) ends any open state the rules allow.
TABLE: dict[str, set[str]] = {
    S.AWAITING_PAYMENT: {S.ROUTING, S.UNDER_REVIEW, S.WITHDRAWN, S.ISSUED},
    S.ROUTING: {*AT_PORTAL, S.REJECTED, S.WITHDRAWN, S.ISSUED},
    S.AT_PORTAL: {S.UNDER_REVIEW, S.INFORMATION_REQUESTED, S.INSPECTION_SCHEDULED, S.REJECTED},
    # Under review in the window (the authority decides there) or at the portal.
    S.UNDER_REVIEW: {S.INFORMATION_REQUESTED, S.INSPECTION_SCHEDULED, S.REJECTED, S.WITHDRAWN},
    S.INFORMATION_REQUESTED: {S.UNDER_REVIEW, S.INSPECTION_SCHEDULED, S.REJECTED},
    S.INSPECTION_SCHEDULED: {S.UNDER_REVIEW, S.INFORMATION_REQUESTED, S.REJECTED},
}
for _state in (*AT_PORTAL, S.UNDER_REVIEW):
    TABLE[_state].add(S.ISSUED)

MACHINE = statemachine.Machine(
    TABLE,
    message=lambda application, to: (
        _("This application is %(state)s: it cannot be %(to)s.")
        % {
            "state": application.get_state_display().lower(),
            "to": ApplicationState(to).label.lower(),
        }
    ),
    error=InvalidTransition,
    update_fields=("updated_at",),
)
