"""Issuing a permit: the one way an :class:`IssuedPermit` comes to exist.

Both paths call :func:`issue`: a registration-based permit at once when its application is
registered, an approval-based one when the specialised portal reports it approved. It is
idempotent per application (a repeated call returns the permit already issued), so a portal
event read twice issues one permit.

The permit ID (``number``) is twelve digits: eleven random ones and a check digit
(:func:`check_digit`, the mod-11 rule of the national code), so a mistyped ID is caught before
any lookup and IDs say nothing about the holder or the order of issue.

**The signed document.** Each permit carries a compact JWS (``token``, ES256, the machinery of
:mod:`panjereh.services.documents`) with the permit ID, its type, the holder's public
particulars and the validity, signed in the same transaction as the row. The key is the issuing
authority's agency's; an authority outside the service catalogue (no agency) is signed for by
the platform operator's agency (``PANJEREH_PERMITS_SIGNING_AGENCY``, ``ito``), named as signer
in the token (``iss``) beside the authority (``auth``). When neither exists the permit is issued
unsigned (an empty token) and its public page, which reads the row, is the only proof; a later
amendment or renewal signs it. The PDF, with a QR code to the public page
(``permits:public``), is printed only when someone downloads it (:func:`render_pdf`), so
issuing stays one short transaction. The holder is told in the inbox.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from panjereh.catalogue import queries as catalogue_queries
from panjereh.common import jalali
from panjereh.common.conf import setting
from panjereh.common.persian import to_persian_digits
from panjereh.common.uniquecode import insert_with_unique_code
from panjereh.services import documents, keys

from . import lifecycle
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
PERMIT_TYPE = "panjereh-permit+jws"  # the ``typ`` of a permit's signed document


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
    lifecycle.MACHINE.check(application, ApplicationState.ISSUED)  # the one table
    now = timezone.now()
    start = valid_from or timezone.localdate(now)
    until = valid_until or start.replace(year=start.year + DEFAULT_VALIDITY_YEARS)

    def insert(number: str) -> IssuedPermit:
        issued = IssuedPermit(
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
        issued.token, issued.kid = sign(issued)
        issued.save(force_insert=True)
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
        tell_holder_issued(issued)
    return issued


# -- the signed document --------------------------------------------------------------------


def signing_agency(authority):
    """The agency whose key signs ``authority``'s permits: its own, else the platform
    operator's (``PANJEREH_PERMITS_SIGNING_AGENCY``), else None (issued unsigned)."""
    if authority.agency_id:
        return authority.agency
    code = setting("PANJEREH_PERMITS_SIGNING_AGENCY", "ito")
    return catalogue_queries.agencies().filter(code=code).first() if code else None


def claims_for(issued: IssuedPermit, agency) -> dict[str, Any]:
    """What the signed document says: the public particulars only (no national code)."""
    permit, authority = issued.permit, issued.authority
    claims: dict[str, Any] = {
        "iss": agency.code,
        "iss_fa": agency.name_fa,
        "iss_en": agency.name_en,
        "typ": "permit",
        "num": issued.number,
        "auth": authority.code,
        "auth_fa": authority.name_fa,
        "auth_en": authority.name_en,
        "ptype": permit.public_id,
        "title_fa": permit.title_fa,
        "title_en": permit.title_en,
        "holder": issued.holder_name,
        "business": issued.business_name,
        "province": issued.province,
        "valid_from": issued.valid_from.isoformat(),
        "valid_until": issued.valid_until.isoformat() if issued.valid_until else "",
        "iat": int(timezone.now().timestamp()),
        "url": public_url(issued.number),
    }
    if issued.company_id:
        claims["company_id"] = issued.company.national_id
    return claims


def sign(issued: IssuedPermit) -> tuple[str, str]:
    """The permit's signed document (token, key id), or ("", "") when no key can sign it."""
    agency = signing_agency(issued.authority)
    if agency is None:
        return "", ""
    return documents.sign(agency, claims_for(issued, agency), typ=PERMIT_TYPE)


def public_url(number: str) -> str:
    """The public page's full address (the QR code's content), in the default language."""
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("permits:public", args=[number])
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def pdf_path(number: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return reverse("permits:pdf", args=[number])


def _part(token: str, index: int) -> dict[str, Any]:
    try:
        part = token.split(".")[index]
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a token issued here (read, not checked: for printing)."""
    return _part(token, 1)


def _header_type(token: str) -> str:
    return str(_part(token, 0).get("typ", ""))


def pdf_html(issued: IssuedPermit) -> str:
    link = public_url(issued.number)
    qr = documents.qr_svg(link)
    return render_to_string(
        "permits/permit_pdf.html",
        {
            "issued": issued,
            "number_fa": to_persian_digits(issued.number),
            "title_fa": to_persian_digits(issued.permit.title_fa),
            "valid_from_fa": jalali.format_fa(issued.valid_from),
            "valid_until_fa": jalali.format_fa(issued.valid_until),
            "issued_fa": jalali.format_fa(issued.issued_at),
            "qr": "data:image/svg+xml;base64," + base64.b64encode(qr.encode()).decode(),
            "link": link,
            "font_dir": documents.FONT_DIR.as_uri(),
            "token": issued.token,
            "signer_fa": claims_of(issued.token).get("iss_fa", "") if issued.token else "",
        },
    )


def render_pdf(issued: IssuedPermit) -> bytes:
    """The permit on paper (WeasyPrint), its token in the PDF's keywords so that the
    verification page can read it back from the file."""
    from weasyprint import HTML

    return HTML(string=pdf_html(issued), base_url=str(documents.FONT_DIR)).write_pdf()


@dataclass
class Verdict:
    """The check of a permit's signed document: ``status`` is the permit's status when the
    token is genuine and current, else ``invalid`` (forged, altered, not a permit),
    ``superseded`` (an older copy: the permit was amended or renewed since) or ``not_found``."""

    status: str
    claims: dict[str, Any]
    issued: IssuedPermit | None = None

    @property
    def genuine(self) -> bool:
        return self.status not in ("invalid", "not_found")


def verify(token: str) -> Verdict:
    """A permit's token checked against the published keys and against the register."""
    token = (token or "").strip()
    result = documents.verify_signature(token, keys.jwks())
    if result.status not in ("valid", "expired") or _header_type(token) != PERMIT_TYPE:
        return Verdict("invalid", {})
    issued = (
        IssuedPermit.objects.select_related("permit", "authority")
        .filter(number=str(result.claims.get("num", "")))
        .first()
    )
    if issued is None:
        return Verdict("not_found", result.claims)
    if issued.token != token:
        return Verdict("superseded", result.claims, issued)
    return Verdict(issued.status, result.claims, issued)


# -- telling the holder ---------------------------------------------------------------------


def _dates_fa(issued: IssuedPermit) -> tuple[str, str]:
    return jalali.format_fa(issued.valid_from), jalali.format_fa(issued.valid_until)


def tell_holder(issued: IssuedPermit, event: str, subject: tuple[str, str], body: tuple[str, str]):
    """A message in the holder's inbox about their permit (once per ``event`` key)."""
    from panjereh.inbox.models import Message
    from panjereh.inbox.notify import post

    if issued.holder_id is None:
        return
    with translation.override(settings.LANGUAGE_CODE):
        mine = reverse("permits:mine")
    post(
        issued.holder,
        kind=Message.Kind.DOCUMENT if event.startswith("issued") else Message.Kind.NOTICE,
        dedupe_key=f"permit:{issued.number}:{event}"[:120],
        subject_fa=subject[0],
        subject_en=subject[1],
        body_fa=body[0],
        body_en=body[1],
        link_url=mine,
        link_label_fa="مجوزهای من",
        link_label_en="My licences",
        document_url=pdf_path(issued.number),
    )


def tell_holder_issued(issued: IssuedPermit) -> None:
    start_fa, until_fa = _dates_fa(issued)
    title_fa, title_en = issued.permit.title_fa, issued.permit.title_en or issued.permit.title_fa
    tell_holder(
        issued,
        "issued",
        (f"مجوز صادر شد: {to_persian_digits(title_fa)}", f"Permit issued: {title_en}"),
        (
            f"مجوز «{to_persian_digits(title_fa)}» به نام {issued.holder_name} صادر شد.\n"
            f"شناسه مجوز: {to_persian_digits(issued.number)}\n"
            f"اعتبار: از {start_fa} تا {until_fa}\n"
            "هر کس با خواندن رمزینه (QR) روی مجوز، مشخصات و وضعیت آن را می‌بیند.",
            f"The permit “{title_en}” was issued to {issued.holder_name}.\n"
            f"Permit ID: {issued.number}\n"
            f"Valid from {issued.valid_from.isoformat()} to "
            f"{issued.valid_until.isoformat() if issued.valid_until else '-'}\n"
            "Anyone who scans the QR code on the permit sees its particulars and status.",
        ),
    )
