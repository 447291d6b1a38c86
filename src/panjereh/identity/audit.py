"""Writing the authentication audit trail (see :class:`models.AuthEvent`)."""

from __future__ import annotations

from typing import Any

from panjereh.common.ratelimit import client_ip

from .models import AuthEvent, Delegation, LegalPerson, subject_hash

ACTING_SESSION_KEY = "panjereh_acting_delegation"
# The company the person acts for in this session (businesses.switch): {"national_id", ...}.
ACTING_COMPANY_SESSION_KEY = "panjereh_acting_company"


def record(
    kind: str,
    request=None,
    user=None,
    national_code: str | None = None,
    client_name: str = "",
    acting_company: LegalPerson | None = None,
    **detail: Any,
) -> AuthEvent:
    """Record one event. When a helper is acting for someone under a delegation, the event is
    filed under the person acted for, with the helper and the delegation named. The company the
    person acts for in this session (or ``acting_company``) is named with them."""
    ip = client_ip(request) if request is not None else None
    agent = request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""
    acting_for = None
    delegation = None
    if request is not None and hasattr(request, "session"):
        delegation_id = request.session.get(ACTING_SESSION_KEY)
        if delegation_id:
            delegation = Delegation.objects.filter(pk=delegation_id).first()
            if delegation is not None and delegation.is_active():
                acting_for = delegation.principal
            else:
                delegation = None
    if acting_company is None and request is not None and hasattr(request, "session"):
        chosen = request.session.get(ACTING_COMPANY_SESSION_KEY)
        if chosen:
            acting_company = LegalPerson.objects.filter(
                national_id=chosen.get("national_id")
            ).first()
    return AuthEvent.objects.create(
        user=user if user is not None and getattr(user, "pk", None) else None,
        subject_hash=subject_hash(national_code) if national_code else "",
        kind=kind,
        ip=ip if ip and ip != "unknown" else None,
        user_agent=agent,
        client_name=client_name[:255],
        acting_for=acting_for,
        delegation=delegation,
        acting_company=acting_company,
        detail=detail,
    )


def acting_principal(request):
    """For other apps: the person the signed-in helper is acting for and the delegation, or
    ``(request.user, None)``. Anything done under a delegation must be recorded with it."""
    delegation_id = request.session.get(ACTING_SESSION_KEY)
    if delegation_id:
        delegation = Delegation.objects.filter(pk=delegation_id, helper=request.user).first()
        if delegation is not None and delegation.is_active():
            return delegation.principal, delegation
        request.session.pop(ACTING_SESSION_KEY, None)
    return request.user, None
