"""Whole public catalogue pages kept in the shared cache for people who are not signed in.

The home, search, agency, service and life-event pages are the same for every visitor who is
not signed in, and they are most of the window's traffic. Their rendered bodies are kept in the
Django cache (Redis in production, shared by every process and host) under the catalogue's
public generation (``catalogue.search.PUBLIC_PAGES``), which every change of a card, an agency
or a service definition moves when its transaction commits: a changed card shows on the very
next request, in every process, without waiting for any time limit.

Only what is safe to share is kept: GET or HEAD, no session or messages cookie on the request
(a signed-in person, or one with a message waiting, always gets a fresh page), a 200 answer that
sets no cookie and says nothing about varying on cookies. Middleware still runs around a kept
page, so security headers and the content security policy are those of the current request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import has_vary_header
from django.utils.translation import get_language

from panjereh.catalogue.search import PUBLIC_PAGES

# A kept page is dropped by the generation, not by time; the limit only frees memory.
PAGE_SECONDS = 3600
_PERSONAL_COOKIES = ("messages",)
_KEPT_HEADERS = ("Content-Type", "Content-Language")


def _shareable_request(request: HttpRequest) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and not any(
        name in cookies for name in _PERSONAL_COOKIES
    )


def _shareable_response(response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not response.cookies
        and not getattr(response, "streaming", False)
        and not has_vary_header(response, "Cookie")
    )


def _key(request: HttpRequest, generation: int) -> str:
    path = hashlib.blake2b(request.get_full_path().encode(), digest_size=16).hexdigest()
    return f"pj:page:{generation}:{get_language()}:{path}"


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve ``view``'s page from the shared cache to visitors who are not signed in."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _shareable_request(request):
            return view(request, *args, **kwargs)
        key = _key(request, PUBLIC_PAGES.read())
        kept = cache.get(key)
        if kept is not None:
            content, headers = kept
            response = HttpResponse(content)
            for name, value in headers:
                response[name] = value
            return response
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        if _shareable_response(response):
            headers = [(h, response[h]) for h in _KEPT_HEADERS if h in response]
            cache.set(key, (response.content, headers), PAGE_SECONDS)
        return response

    return wrapped
