"""Whole public catalogue pages kept in the shared cache for people who are not signed in.

The home, search, agency, service and life-event pages are the same for every visitor who is
not signed in, and they are most of the window's traffic. Their views are marked with
``public_page``; ``PublicPageCacheMiddleware`` keeps their rendered bodies in the Django cache
(Redis in production, shared by every process and host) and serves them again.

Exact invalidation: every kept page carries the catalogue's public generation
(``catalogue.search.PUBLIC_PAGES``) it was rendered under, and every change of a card, an agency
or a service definition moves that generation when its transaction commits. A lookup reads the
current generation and the kept page in one cache round trip (``get_many``: one MGET on Redis)
and serves the page only if the two match, so a changed card shows on the very next request, in
every process, without waiting for any time limit.

Cheap hits, by design: the middleware sits right after the session and locale middleware, so a
hit runs no view, no context processor, no CSRF, authentication or messages middleware and no
SQL query; what it costs is the URL match (remembered per path), one cache round trip and the
outer middleware. The outer middleware (security headers, the content security policy, the
session and locale middleware's ``Vary`` and ``Content-Language``) runs on every answer, kept
or not; the headers the inner middleware added (``X-Frame-Options``, ``Content-Type``) are kept
with the page. Public pages carry no inline script, so the policy needs no per-request nonce.

Only what is safe to share is kept: GET (HEAD is served from it too), no session or messages
cookie on the request (a signed-in person, or one with a message waiting, always gets a fresh
page), a 200 answer that sets no cookie (a page with a CSRF token sets one) and says nothing
about varying on cookies. Pages are kept per language and full path (query string included).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache, wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.cache import has_vary_header
from django.utils.translation import get_language

from panjereh.catalogue.search import PUBLIC_PAGES

# A kept page is dropped by the generation, not by time; the limit only frees memory.
PAGE_SECONDS = 3600
_PERSONAL_COOKIES = ("messages",)
_MARK = "public_page"


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark ``view``'s page as the same for every visitor who is not signed in, so that
    ``PublicPageCacheMiddleware`` keeps and serves it."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return view(request, *args, **kwargs)

    setattr(wrapped, _MARK, True)
    return wrapped


@lru_cache(maxsize=4096)
def _public_path(urlconf: str, language: str, path: str) -> bool:
    # ``language`` is part of the key: i18n_patterns match the /en/ prefix by the active one.
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return False
    return bool(getattr(match.func, _MARK, False))


def _shareable_request(request: HttpRequest) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and not any(
        name in cookies for name in _PERSONAL_COOKIES
    )


def _shareable_response(request: HttpRequest, response: HttpResponse) -> bool:
    return (
        request.method == "GET"
        and response.status_code == 200
        and not response.cookies
        and not getattr(response, "streaming", False)
        and not has_vary_header(response, "Cookie")
    )


def _page_key(request: HttpRequest, language: str) -> str:
    path = hashlib.blake2b(request.get_full_path().encode(), digest_size=16).hexdigest()
    return f"pj:page:{language}:{path}"


class PublicPageCacheMiddleware:
    """Serve pages of views marked ``public_page`` from the shared cache to visitors who are
    not signed in; keep such pages when they are rendered. Place it after the session and
    locale middleware and before the CSRF, authentication and messages middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = get_language()
        if not _shareable_request(request) or not _public_path(
            getattr(request, "urlconf", None) or settings.ROOT_URLCONF, language, request.path_info
        ):
            return self.get_response(request)
        key = _page_key(request, language)
        found = cache.get_many([PUBLIC_PAGES.key, key])
        generation = found.get(PUBLIC_PAGES.key)
        if generation is None:
            generation = PUBLIC_PAGES.read()
        kept = found.get(key)
        if kept is not None and kept[0] == generation:
            _generation, content, headers = kept
            response = HttpResponse(content)
            for name, value in headers:
                response[name] = value
            return response
        response = self.get_response(request)
        if _shareable_response(request, response):
            headers = [(name, value) for name, value in response.items() if name != "Set-Cookie"]
            cache.set(key, (generation, response.content, headers), PAGE_SECONDS)
        return response
