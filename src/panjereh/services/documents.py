"""Signed documents: a compact JWS per document, a Persian PDF with a QR code, verification.

The JWS (ES256) is signed with the issuing agency's active key (``kid`` in the header) and
carries what the document says, so that anyone holding the agency's published JWKS can check
it offline. The QR code carries the verification address with the whole token when it fits,
else a short reference that the public verification page resolves. Revocation is recorded
by the issuing agency and shown by the online verification, and published for offline
verifiers as a status list (IETF OAuth Token Status List): each document names its index in
its agency's list (``status.status_list``: ``idx``, ``uri``), and the list, a bit per index
(1 = revoked) signed with the same agency key as the documents, is served at
``/services/status/<agency>.jwt``.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
import secrets
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import segno
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey

from panjereh.catalogue import roles
from panjereh.common import jalali
from panjereh.common.uniquecode import insert_with_unique_code

from . import keys, workflow
from .models import AgencyKey, Application, Document, JourneyEvent

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
QR_MAX_TOKEN = 1200  # longer tokens make a QR code too dense to scan from paper
FONT_DIR = Path(settings.BASE_DIR) / "portal" / "static" / "portal" / "fonts"


def _fill(template: str, data: dict[str, Any], lang: str = "fa") -> str:
    """Replace ``{a.b}`` / ``{a.b|format}`` placeholders with fetched values written for people
    (labels, not codes; Jalali, not Gregorian: see ``labels.py``). No format(): no attribute
    access."""
    from .labels import render

    return render(template, data, lang)


def payload_for(application: Application, data: dict[str, Any], number: str) -> dict[str, Any]:
    spec = application.definition.spec["document"]
    issued = timezone.now()
    claims: dict[str, Any] = {
        "iss": application.agency.code,
        "iss_fa": application.agency.name_fa,
        "iss_en": application.agency.name_en,
        "num": number,
        "typ": spec["type"],
        "svc": application.definition.service.service_id,
        "trk": application.tracking_code,
        "sub": application.subject_code,
        "iat": int(issued.timestamp()),
        "title_fa": spec["title_fa"],
        "title_en": spec.get("title_en", ""),
        "text_fa": _fill(spec.get("statement_fa", ""), data),
        # label fa, label en, value fa, value en (the English value only differs for labels)
        "fields": [
            [
                f["label_fa"],
                f.get("label_en", ""),
                _fill(f["value"], data),
                _fill(f["value"], data, "en"),
            ]
            for f in spec.get("fields", [])
        ],
    }
    if spec.get("valid_days"):
        claims["exp"] = int((issued + dt.timedelta(days=spec["valid_days"])).timestamp())
    return claims


def sign(
    agency, claims: dict[str, Any], typ: str = "panjereh-document+jws", *, key=None
) -> tuple[str, str]:
    """``claims`` signed with the agency's active key (ES256); the token and the key's id.
    ``key``: that active key's row, already read (many signatures in one go)."""
    row = key or keys.active_key(agency, AgencyKey.Use.SIGN)
    body = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode()
    token = jws.serialize_compact(
        {"alg": "ES256", "kid": row.kid, "typ": typ},
        body,
        keys.private_key(row),
        algorithms=["ES256"],
    )
    return token, row.kid


def issue(application: Application, data: dict[str, Any]) -> Document:
    """The application's document, created once (a re-run returns the one already issued)."""
    existing = Document.objects.filter(application=application).first()
    if existing is not None:
        return existing
    # The day in the number is the Jalali day of issue (a document carries no Gregorian date).
    day = jalali.iso(timezone.now()).replace("-", "")
    prefix = f"{application.agency.code.upper()[:6]}-{day}-"

    def insert(number: str) -> Document:
        claims = payload_for(application, data, number)
        # The row first: its id is the document's index in the agency's status list, which the
        # signed token names. Nobody sees the row before it has its token (one savepoint).
        document = Document.objects.create(
            application=application, number=number, agency=application.agency
        )
        claims["status"] = {
            "status_list": {"idx": document.pk, "uri": status_list_uri(application.agency)}
        }
        document.token, document.kid = sign(application.agency, claims)
        document.save(update_fields=["token", "kid"])
        return document

    def issued_already(_exc: IntegrityError) -> Document | None:
        # Another run issued it first; else the random number was taken: draw another.
        return Document.objects.filter(application=application).first()

    return insert_with_unique_code(
        lambda: prefix + secrets.token_hex(4).upper(), insert, on_conflict=issued_already
    )


@transaction.atomic
def revoke(document: Document, reason: str, *, actor) -> Document:
    """The issuing agency withdraws a document (its administrators only; ``actor`` may be
    ``roles.SYSTEM`` for the window's own corrections)."""
    roles.require(
        actor,
        roles.REVOKE,
        document.agency_id,
        _("Only the issuing agency's administrators can revoke its documents."),
    )
    locked = Document.objects.select_for_update().get(pk=document.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.revocation_reason = reason[:300]
        locked.save(update_fields=["revoked_at", "revocation_reason"])
        workflow.record(
            locked.application,
            JourneyEvent.Kind.REVOKED,
            "سند ابطال شد: " + reason,
            "The document was revoked: " + reason,
            {"officer": getattr(actor, "pk", None)},
        )
        agency_code = locked.agency.code
        transaction.on_commit(lambda: cache.delete(_status_cache_key(agency_code)))
    return locked


# -- status lists (offline revocation) ----------------------------------------------------------
# draft-ietf-oauth-status-list: one bit per index, least significant bit first within each
# byte, the bytes zlib-compressed (RFC 1950) and base64url-encoded in ``status_list.lst``,
# the whole a JWT of type ``statuslist+jwt`` whose ``sub`` is the list's own address.

STATUS_LIST_TYPE = "statuslist+jwt"
STATUS_LIST_TTL = 300  # seconds a verifier may keep a fetched list before fetching again
STATUS_LIST_VALID = 86400  # seconds after which an offline copy is refused (its ``exp``)
STATUS_LIST_REBUILD = 60  # seconds a built list is served before it is built again


def status_list_uri(agency) -> str:
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return f"{base}{reverse('services_status_list', args=[agency.code])}"


def _status_cache_key(agency_code: str) -> str:
    return f"services:status-list:{agency_code}"


def encode_status_bits(revoked: list[int], size: int) -> str:
    bits = bytearray(size // 8 + 1)
    for idx in revoked:
        bits[idx // 8] |= 1 << (idx % 8)
    return base64.urlsafe_b64encode(zlib.compress(bytes(bits), 9)).rstrip(b"=").decode()


def status_bit(lst: str, idx: int) -> int:
    """The bit at ``idx``; ``IndexError`` when the list is shorter than the index."""
    bits = zlib.decompress(_b64(lst))
    return (bits[idx // 8] >> (idx % 8)) & 1


def status_list_token(agency) -> str:
    """The agency's signed status list, rebuilt from the rows at most once a minute and at once
    after a revocation."""
    key = _status_cache_key(agency.code)
    token = cache.get(key)
    if token is not None:
        return token
    rows = Document.objects.filter(agency=agency)
    revoked = list(rows.filter(revoked_at__isnull=False).values_list("pk", flat=True))
    size = rows.aggregate(top=Max("pk"))["top"] or 0
    now = int(timezone.now().timestamp())
    claims = {
        "sub": status_list_uri(agency),
        "iss": agency.code,
        "iat": now,
        "exp": now + STATUS_LIST_VALID,
        "ttl": STATUS_LIST_TTL,
        "status_list": {"bits": 1, "lst": encode_status_bits(revoked, size)},
    }
    token, _kid = sign(agency, claims, typ=STATUS_LIST_TYPE)
    cache.set(key, token, STATUS_LIST_REBUILD)
    return token


# -- verification ---------------------------------------------------------------------------


@dataclass
class Verification:
    status: str  # valid | revoked | expired | invalid | unchecked (revocation unknown)
    message_fa: str
    message_en: str
    claims: dict[str, Any] = field(default_factory=dict)
    document: Document | None = None

    @property
    def ok(self) -> bool:
        return self.status == "valid"


FORGED_FA = "این سند معتبر نیست: امضای آن با کلیدهای منتشرشده دستگاه صادرکننده تطبیق نمی‌کند؛ ممکن است دست‌کاری یا جعل شده باشد."
FORGED_EN = "This document is not valid: its signature does not match the issuing agency's published keys; it may have been altered or forged."
REVOKED_FA = "این سند را دستگاه صادرکننده ابطال کرده است."
REVOKED_EN = "The issuing agency has revoked this document."
MALFORMED_FA = "این متن یک سند امضاشده پنجره نیست."
MALFORMED_EN = "This text is not a signed Panjereh document."


def _key_set(jwks_data: dict[str, Any]) -> KeySet:
    imported = []
    for data in jwks_data.get("keys", []):
        data = {k: v for k, v in data.items() if k != "iss"}
        imported.append((ECKey if data.get("kty") == "EC" else OKPKey).import_key(data))
    return KeySet(imported)


def _open_signed(token: str, jwks_data: dict[str, Any]) -> tuple[dict, dict, str | None]:
    """A compact JWS checked (ES256) against the JWKS: its protected header, its claims, and
    the agency (``iss``) the JWKS names for the key that signed it. Raises on a bad token."""
    result = jws.deserialize_compact(token, _key_set(jwks_data), algorithms=["ES256"])
    kid = result.protected.get("kid")
    issuer = next(
        (
            k.get("iss")
            for k in jwks_data.get("keys", [])
            if isinstance(k, dict) and k.get("kid") == kid
        ),
        None,
    )
    return result.protected, json.loads(result.payload), issuer


def verify_signature(token: str, jwks_data: dict[str, Any]) -> Verification:
    """Check ``token`` against a JWKS alone (offline): signature, issuer and expiry."""
    token = (token or "").strip()
    if not TOKEN_RE.fullmatch(token):
        return Verification("invalid", MALFORMED_FA, MALFORMED_EN)
    try:
        _header, claims, issuer = _open_signed(token, jwks_data)
    except (JoseError, ValueError, KeyError, TypeError):
        return Verification("invalid", FORGED_FA, FORGED_EN)
    if issuer and issuer != claims.get("iss"):
        return Verification("invalid", FORGED_FA, FORGED_EN)
    if claims.get("exp") and claims["exp"] < timezone.now().timestamp():
        return Verification(
            "expired",
            "امضای سند درست است اما مهلت اعتبار آن گذشته است.",
            "The signature is genuine but the document has expired.",
            claims,
        )
    return Verification(
        "valid",
        "این سند معتبر است و امضای دستگاه صادرکننده بر آن درست است.",
        "This document is valid: the issuing agency's signature is genuine.",
        claims,
    )


UNCHECKED_FA = "امضای سند درست است اما فهرست ابطال معتبر نیست (جعلی، کهنه یا از فهرست دیگری)؛ ابطال‌نشدن سند را نمی‌توان تأیید کرد."
UNCHECKED_EN = "The signature is genuine but the revocation list is not valid (forged, out of date or another list); whether the document was revoked cannot be confirmed."


def check_status(result: Verification, list_token: str, jwks_data: dict[str, Any]) -> Verification:
    """Offline revocation: ``result`` (a genuine document) checked against a status list token
    fetched earlier. The list must be signed by the document's own agency, be the list the
    document names, and not be past its ``exp``; then its bit for the document decides."""
    reference = (result.claims.get("status") or {}).get("status_list")
    if result.status not in ("valid", "expired") or not isinstance(reference, dict):
        return result
    unchecked = Verification("unchecked", UNCHECKED_FA, UNCHECKED_EN, result.claims)
    try:
        header, claims, issuer = _open_signed((list_token or "").strip(), jwks_data)
        if (
            header.get("typ") != STATUS_LIST_TYPE
            or issuer != result.claims.get("iss")
            or claims.get("sub") != reference.get("uri")
            or claims.get("exp", 0) < timezone.now().timestamp()
            or claims["status_list"].get("bits") != 1
        ):
            return unchecked
        bit = status_bit(claims["status_list"]["lst"], int(reference["idx"]))
    except (JoseError, ValueError, KeyError, TypeError, IndexError, zlib.error):
        return unchecked
    if bit:
        return Verification("revoked", REVOKED_FA, REVOKED_EN, result.claims)
    return result


NOT_FOUND_FA = "سندی با این شماره در پنجره ملی صادر نشده است؛ اگر این شماره روی برگه‌ای آمده، آن برگه معتبر نیست."
NOT_FOUND_EN = "No document with this number was issued by the national window; a paper that shows this number is not valid."
REFERENCE_RE = re.compile(r"[A-Z0-9_-]{1,6}-[0-9]{8}-[0-9A-F]{8}")


def verify_reference(reference: str) -> Verification:
    """Online verification of a document number (the QR code's short form): the verdict of its
    token, or "not found" for a number never issued (unknown, mistyped or forged)."""
    reference = (reference or "").strip()
    document = (
        Document.objects.filter(number=reference).first()
        if REFERENCE_RE.fullmatch(reference)
        else None
    )
    if document is None and REFERENCE_RE.fullmatch(reference):
        # A fee's receipt (services.fees) is checked on the same page by its number too.
        from .models import Receipt

        document = Receipt.objects.filter(number=reference).first()
    if document is None and REFERENCE_RE.fullmatch(reference):
        for prefix, token_of in PAPER_NUMBERS.items():
            if reference.startswith(prefix) and token_of(reference):
                return verify(token_of(reference))
    if document is None or not document.token:
        return Verification("not_found", NOT_FOUND_FA, NOT_FOUND_EN)
    return verify(document.token)


RECEIPT_TYPE = "panjereh-receipt+jws"  # a fee's receipt (services.fees), signed like a document

# Papers of the apps above this one, signed like documents and checked on the same page (a
# judiciary bill's receipt): by the token's header type, the app's verdict on a genuine
# signature (was it issued by the window?); by the number's prefix, the token of a number.
PAPERS: dict[str, Any] = {}
PAPER_NUMBERS: dict[str, Any] = {}


def register_paper(typ: str, prefix: str, verdict, token_of) -> None:
    """``verdict(result, token) -> Verification`` and ``token_of(number) -> str`` ("")."""
    PAPERS[typ] = verdict
    PAPER_NUMBERS[prefix] = token_of


def _header_type(token: str) -> str:
    """The ``typ`` of a token's protected header (read after its signature was checked)."""
    try:
        return str(json.loads(_b64(token.strip().split(".")[0])).get("typ", ""))
    except (ValueError, AttributeError):
        return ""


def verify(token: str) -> Verification:
    """Online verification: the signature against our published keys, then revocation."""
    result = verify_signature(token, keys.jwks())
    if result.status in ("valid", "expired") and _header_type(token) in PAPERS:
        return PAPERS[_header_type(token)](result, token)
    if result.status in ("valid", "expired") and _header_type(token) == RECEIPT_TYPE:
        from .fees import verify_receipt

        return verify_receipt(result, token)
    if result.status in ("valid", "expired"):
        document = Document.objects.filter(number=result.claims.get("num")).first()
        result.document = document
        if document is None or document.token != token.strip():
            return Verification("invalid", FORGED_FA, FORGED_EN)
        if document.revoked_at is not None:
            result.status = "revoked"
            result.message_fa, result.message_en = REVOKED_FA, REVOKED_EN
    return result


def token_from_file(raw: bytes) -> str:
    """The JWS in a token file, or in a PDF's metadata (its keywords, ``panjereh-jws:…``)."""
    marker = re.compile(rb"panjereh-jws:([A-Za-z0-9_.-]+)")
    if raw.startswith(b"%PDF"):
        # The metadata sits in a compressed object stream: inflate each stream and look. Each
        # stream is inflated from its start until the compressed data ends by itself, so
        # compressed bytes that happen to spell "endstream" cannot cut a stream short.
        for start in re.finditer(rb"stream\r?\n", raw):
            try:
                data = zlib.decompressobj().decompress(raw[start.end() :])
            except zlib.error:
                continue
            match = marker.search(data)
            if match:
                return match.group(1).decode()
        match = marker.search(raw)
        return match.group(1).decode() if match else ""
    found = TOKEN_RE.search(raw.decode("latin-1").strip())
    return found.group(0) if found else ""


# -- rendering ------------------------------------------------------------------------------


def verification_url(document: Document) -> str:
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    if len(document.token) <= QR_MAX_TOKEN:
        return f"{base}{reverse('services:verify')}#t={document.token}"
    return f"{base}{reverse('services:verify')}?ref={document.number}"


def qr_svg(text: str) -> str:
    out = io.BytesIO()
    segno.make(text, error="l", micro=False).save(out, kind="svg", scale=3, border=2, xmldecl=False)
    return out.getvalue().decode()


def render_pdf(document: Document) -> bytes:
    from weasyprint import HTML

    return HTML(string=pdf_html(document), base_url=str(FONT_DIR)).write_pdf()


def pdf_html(document: Document) -> str:
    """The HTML the PDF is printed from."""
    from panjereh.common.persian import to_persian_digits

    claims = json.loads(_b64(document.token.split(".")[1]))
    # Persian digits on paper; the signed data keeps the registries' own values.
    claims["text_fa"] = to_persian_digits(claims.get("text_fa", ""))
    claims["fields"] = [
        [field[0], field[1], to_persian_digits(str(field[2]))] for field in claims.get("fields", [])
    ]
    link = verification_url(document)
    return render_to_string(
        "services/document_pdf.html",
        {
            "document": document,
            "claims": claims,
            "issued_fa": jalali.format_fa(document.issued_at),
            "qr": "data:image/svg+xml;base64," + base64.b64encode(qr_svg(link).encode()).decode(),
            "link": link,
            "font_dir": FONT_DIR.as_uri(),
            "token": document.token,
        },
    )


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def claims_of(document: Document) -> dict[str, Any]:
    return json.loads(_b64(document.token.split(".")[1]))


def not_verifiable_message() -> str:
    return _("Paste the text of a signed document, or open the link in its QR code.")
