"""The installable app: the web app manifest (per language), the service worker at the site's
root and the offline page (docs/pwa.md)."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language, gettext, override

from . import pwa
from .pagecache import public_page

# The colours of portal.css: the header's teal (--brand) and the page's white (--paper).
THEME_COLOUR = "#0b4650"
BACKGROUND_COLOUR = "#ffffff"
SW_SOURCE = "portal/js/sw.js"
ICONS = (
    ("portal/icons/icon-192.png", "192x192", "any"),
    ("portal/icons/icon-512.png", "512x512", "any"),
    ("portal/icons/icon-maskable-512.png", "512x512", "maskable"),
)
# The shortcuts a long press on the installed icon offers.
SHORTCUTS = (
    ("personal:documents", "My documents"),
    ("inbox:inbox", "Inbox"),
    ("services:mine", "My applications"),
    ("appointments:mine", "My appointments"),
)


def manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest in the current language: Persian at /manifest.webmanifest (right
    to left), English at /en/manifest.webmanifest. Each language is its own app (its own
    ``id``) that opens on the signed-in home in that language."""
    language = get_language()
    start = reverse("personal:home")
    body = {
        "id": start,
        "name": gettext("Panjereh, the national window"),
        "short_name": gettext("Panjereh"),
        "description": gettext("Find government services, what they need and how to get them."),
        "lang": language,
        "dir": "rtl" if language == "fa" else "ltr",
        "start_url": start,
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "categories": ["government"],
        "icons": [
            {"src": static(name), "sizes": sizes, "type": "image/png", "purpose": purpose}
            for name, sizes, purpose in ICONS
        ]
        + [{"src": static("portal/favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
        "shortcuts": [{"name": gettext(label), "url": reverse(name)} for name, label in SHORTCUTS],
    }
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, indent=1),
        content_type="application/manifest+json; charset=utf-8",
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response


@lru_cache(maxsize=1)
def _worker_source() -> str:
    """The worker's code with its settings in front (read once per process)."""
    with override(settings.LANGUAGE_CODE):
        offline = {"fa": reverse("portal:offline")}
    with override("en"):
        offline["en"] = reverse("portal:offline")
    config = {
        "offline": offline,
        "kept": pwa.kept_page_pattern(),
        "signOut": pwa.SIGN_OUT,
        "keepDays": pwa.keep_days(),
        "holderHeader": pwa.HOLDER_HEADER,
        "timeZone": settings.TIME_ZONE,
        "static": settings.STATIC_URL,
    }
    code = _read_static(SW_SOURCE)
    # The version changes with the code, its settings and the pages' assets (their fingerprinted
    # names in production, their content otherwise), so that a new worker replaces the cache.
    digest = hashlib.sha256(code.encode() + json.dumps(config, sort_keys=True).encode())
    for name in ("portal/css/portal.css", "portal/js/portal.js"):
        digest.update(static(name).encode())
        digest.update(_read_static(name).encode())
    config["version"] = digest.hexdigest()[:16]
    return f"self.PANJEREH = {json.dumps(config)};\n{code}"


def _read_static(name: str) -> str:
    found = finders.find(name)
    if found:
        with open(found, encoding="utf-8") as handle:
            return handle.read()
    with staticfiles_storage.open(name) as handle:
        return handle.read().decode("utf-8")


def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, from the root so that its scope is the whole site. Never cached by
    the browser, so that a new version is seen on the next visit."""
    response = HttpResponse(_worker_source(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache, max-age=0"
    return response


@public_page
def offline(request: HttpRequest) -> HttpResponse:
    """What still works without a connection; the worker keeps it from its installation and
    shows it for any page it cannot fetch. It also carries the notice that a kept copy shows."""
    return render(request, "portal/offline.html", {"keep_days": pwa.keep_days()})
