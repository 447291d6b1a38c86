"""Issuing a permit: the one way an :class:`IssuedPermit` comes to exist.

Both paths call :func:`issue`: a registration-based permit at once when its application is
registered, an approval-based one when the specialised portal reports it approved. It is
idempotent per application (a repeated call returns the permit already issued), so a portal
event read twice issues one permit.

The permit ID (``number``) is twelve digits: eleven random ones and a check digit
(:func:`check_digit`, the mod-11 rule of the national code), so a mistyped ID is caught before
any lookup and IDs say nothing about the holder or the order of issue.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from panjereh.common.uniquecode import insert_with_unique_code

from .models import (
    ApplicationState,
    IssuedPermit,
    PermitApplication,
    PermitEvent,
    PermitEventKind,
    PermitStatus,
)

NUMBER_LENGTH = 12
DEFAULT_VALIDITY_YEARS = 5


def check_digit(body: str) -> str:
    """The mod-11 check digit of ``body`` (weights len+1 … 2, as the national code uses)."""
    total = sum(int(d) * w for d, w in zip(body, range(len(body) + 1, 1, -1), strict=True))
    rest = total % 11
    return str(rest if rest < 2 else 11 - rest)


def valid_number(text: str) -> bool:
    """``text`` has the shape of a permit ID and its check digit holds."""
    return (
        len(text) == NUMBER_LENGTH
        and text.isascii()
        and text.isdigit()
        and text[0] != "0"
        and check_digit(text[:-1]) == text[-1]
    )


def new_number() -> str:
    body = str(secrets.randbelow(9 * 10 ** (NUMBER_LENGTH - 2)) + 10 ** (NUMBER_LENGTH - 2))
    return body + check_digit(body)


def holder_name(application: PermitApplication) -> str:
    if application.company_id:
        return application.company.name
    person = application.applicant
    return person.get_full_name() or person.username


def issue(
    application: PermitApplication,
    *,
    portal_number: str = "",
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    by=None,
) -> IssuedPermit:
    """The application's permit, issued once; the application moves to ``issued``.

    The caller holds the application's row (its own transaction); a second call for the same
    application returns the permit already issued and changes nothing."""
    existing = IssuedPermit.objects.filter(application=application).first()
    if existing is not None:
        return existing
    now = timezone.now()
    start = valid_from or timezone.localdate(now)
    until = valid_until or start.replace(year=start.year + DEFAULT_VALIDITY_YEARS)

    def insert(number: str) -> IssuedPermit:
        issued = IssuedPermit.objects.create(
            number=number,
            permit=application.permit,
            authority=application.authority,
            application=application,
            holder=application.applicant,
            company=application.company,
            holder_name=holder_name(application),
            business_name=application.title,
            province=str(application.details.get("province", ""))[:60],
            status=PermitStatus.VALID,
            issued_at=now,
            valid_from=start,
            valid_until=until,
            portal_number=portal_number,
        )
        PermitEvent.objects.create(
            issued=issued,
            at=now,
            kind=PermitEventKind.ISSUED,
            to_status=PermitStatus.VALID,
            by=by,
        )
        return issued

    def issued_already(_exc: IntegrityError) -> IssuedPermit | None:
        return IssuedPermit.objects.filter(application=application).first()

    with transaction.atomic():
        issued = insert_with_unique_code(new_number, insert, on_conflict=issued_already)
        PermitApplication.objects.filter(pk=application.pk).update(
            state=ApplicationState.ISSUED, decided_at=now, updated_at=now
        )
        application.state, application.decided_at = ApplicationState.ISSUED, now
    return issued
