"""The public verification page gives a verdict for every question, in the page's language:
valid, revoked, expired, not found (an unknown or forged reference), invalid (altered token)."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import time_machine
from django.utils import timezone, translation

from panjereh.services import documents
from panjereh.services.models import Document

from .test_documents import issued  # noqa: F401

pytestmark = pytest.mark.django_db

PAGES = (("", "fa"), ("/en", "en"))


def _page(client, query: str, lang: str) -> str:
    prefix = "" if lang == "fa" else "/en"
    with translation.override(lang):
        response = client.get(f"{prefix}/services/verify/?{query}")
    assert response.status_code == 200
    return response.content.decode()


def _message(status: str, lang: str) -> str:
    messages = {
        "valid": ("این سند معتبر است", "This document is valid"),
        "revoked": (documents.REVOKED_FA, documents.REVOKED_EN),
        "expired": ("مهلت اعتبار آن گذشته است", "the document has expired"),
        "not_found": (documents.NOT_FOUND_FA, documents.NOT_FOUND_EN),
        "invalid": ("دست‌کاری یا جعل", "altered or forged"),
    }
    fa, en = messages[status]
    return fa if lang == "fa" else en


def _assert_verdict(page: str, status: str, lang: str) -> None:
    assert f'data-status="{status}"' in page, page[:2000]
    assert html.escape(_message(status, lang), quote=False) in page
    other = _message(status, "en" if lang == "fa" else "fa")
    assert html.escape(other, quote=False) not in page  # one language at a time


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_a_valid_reference_is_valid(issued, client, lang):  # noqa: F811
    _assert_verdict(_page(client, f"ref={issued.number}", lang), "valid", lang)


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_a_revoked_reference_is_revoked(issued, client, lang):  # noqa: F811
    Document.objects.filter(pk=issued.pk).update(revoked_at=timezone.now())
    _assert_verdict(_page(client, f"ref={issued.number}", lang), "revoked", lang)


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_an_expired_reference_is_expired(issued, client, lang):  # noqa: F811
    with time_machine.travel(timezone.now() + dt.timedelta(days=91)):
        _assert_verdict(_page(client, f"ref={issued.number}", lang), "expired", lang)


@pytest.mark.parametrize("lang", ["fa", "en"])
@pytest.mark.parametrize(
    "reference",
    [
        "JUDICI-14040101-0BADF00D",  # well formed, never issued
        "judici-14040101-0badf00d",  # a real-looking number in another case
        "<script>alert(1)</script>",  # forged, with markup
        "' OR 1=1 --",
        "",
    ],
)
def test_an_unknown_or_forged_reference_is_not_found(issued, client, lang, reference):  # noqa: F811
    from urllib.parse import quote

    page = _page(client, f"ref={quote(reference)}", lang)
    _assert_verdict(page, "not_found", lang)
    assert "<script>alert(1)</script>" not in page


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_an_altered_token_is_invalid(issued, client, lang):  # noqa: F811
    header, payload, signature = issued.token.split(".")
    forged = ".".join([header, payload[:-4] + "AAAA", signature])
    _assert_verdict(_page(client, f"t={forged}", lang), "invalid", lang)


def test_the_bare_page_has_no_verdict(client):
    assert "data-status" not in _page(client, "", "fa")
