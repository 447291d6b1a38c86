"""The proof of service on paper: a Persian PDF with a QR code, carrying its signed token."""

from __future__ import annotations

import base64

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from panjereh.common import jalali
from panjereh.common.persian import to_persian_digits
from panjereh.services import documents

from .models import Notice


def verification_url(token: str) -> str:
    """The public check page, with the token in the fragment when it fits a QR code (the
    fragment never reaches a server log)."""
    with translation.override("fa"):
        page = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("mailbox:verify")
    return f"{page}#t={token}" if len(token) <= documents.QR_MAX_TOKEN else page


def html(notice: Notice, token: str) -> str:
    link = verification_url(token)

    def when(value):
        if not value:
            return "—"
        clock = timezone.localtime(value).strftime("%H:%M:%S")
        return to_persian_digits(f"{jalali.format_fa(value)}، ساعت {clock}")

    return render_to_string(
        "mailbox/proof_pdf.html",
        {
            "notice": notice,
            "token": token,
            "made_available": when(notice.made_available_at),
            "opened": when(notice.opened_at),
            "served": when(notice.served_at),
            "qr": "data:image/svg+xml;base64,"
            + base64.b64encode(documents.qr_svg(link).encode()).decode(),
            "link": link,
            "font_dir": documents.FONT_DIR.as_uri(),
            "attachments": notice.attachments.all(),
        },
    )


def render(notice: Notice, token: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html(notice, token), base_url=str(documents.FONT_DIR)).write_pdf()
