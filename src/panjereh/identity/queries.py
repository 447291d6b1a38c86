"""Read queries over sign-ins, for other apps (oversight's observed connection).

Every function is one grouped aggregate and returns plain dicts, never model instances.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count

from .models import SsoSession


def sso_sign_ins_by_agency(start: dt.datetime, end: dt.datetime) -> dict[int, int]:
    """Per catalogue agency pk: sign-on sessions started in [``start``, ``end``) under which
    one of the agency's windows (an OIDC client whose profile names the agency) signed the
    person in through the national window's single sign-on. One grouped query over the
    sessions' client links."""
    links = SsoSession.clients.through.objects.filter(
        ssosession__started_at__gte=start,
        ssosession__started_at__lt=end,
        application__panjereh_profile__agency__isnull=False,
    )
    rows = (
        links.values("application__panjereh_profile__agency_id")
        .annotate(n=Count("ssosession_id", distinct=True))
        .order_by()
    )
    return {r["application__panjereh_profile__agency_id"]: r["n"] for r in rows}


def acting_for(request):
    """The company (a ``LegalPerson``) the request's person acts for, re-checked with the
    company registry (afresh for a request that acts), or None: acting as themselves. Record it
    on whatever the request creates (with the person), and call
    ``identity.businesses.require_can_act(user, company, scope)`` before each decision."""
    from . import businesses

    acting = businesses.acting_for(request)
    return acting.company if acting is not None else None


def session_level(request) -> int:
    """The assurance level the signed-in person may act at in this browser session: the
    account's level, but not above 2 unless one of their passkeys was used in the session
    (signing in, stepping up or adding it). Services gate on this, not on the account's level,
    so that level 3 always means a passkey with user verification in this session."""
    from . import passkeys

    return passkeys.session_level(request)
