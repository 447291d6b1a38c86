"""The installable app's server side: which pages a phone may keep, whose they are, and the
sign-out that wipes them (docs/pwa.md).

The service worker (``portal/static/portal/js/sw.js``, served at ``/sw.js`` by
``views_pwa.service_worker``) keeps a copy of the signed-in person's own pages so that they can
be read without a connection. What it may keep is decided here, once:

- ``KEPT_PAGES``: the paths (Persian and their ``/en/`` twins) whose last copy is kept. Nothing
  else is ever kept: other pages are fetched from the network only, with the offline page when
  there is none.
- ``OfflineCopyMiddleware`` marks every HTML page for a signed-in person with
  ``X-Panjereh-Holder``, an opaque keyed hash of the person (never their national code). The
  worker keeps a page only when it carries the mark, and drops every kept copy when the mark
  changes (another person signed in on the same phone).
- The same middleware answers every sign-out (any request during which Django's
  ``user_logged_out`` signal fired: the sign-out form, the agency windows' RP-initiated
  logout) with ``Clear-Site-Data: "cache", "storage"``: the browser then empties the window's
  HTTP cache, its Cache Storage (every kept copy) and unregisters the worker. The worker also
  drops the kept copies itself when it sees the sign-out form's POST go by, for browsers that
  ignore the header.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from panjereh.common.conf import setting

HOLDER_HEADER = "X-Panjereh-Holder"
_SIGNED_OUT = "_panjereh_signed_out"
CLEAR_SITE_DATA = '"cache", "storage"'

# The signed-in person's pages kept readable offline (PHONE_CONTRACT.md): the signed-in home,
# documents, inbox and messages, the official mailbox and its notices, my applications and an
# application, my appointments. Regular expressions on the path, without the language prefix.
# Never a page whose GET changes something the person has not asked for: a mailbox notice is
# kept only after the person opened it (the worker never fetches a page by itself).
KEPT_PAGES = (
    r"my/",
    r"my/documents/",
    r"my/documents/[^/]+/",
    r"inbox/",
    r"inbox/[0-9]+/",
    r"mailbox/",
    r"mailbox/(?!verify/)[^/]+/",
    r"services/",
    r"services/a/[^/]+/",
    r"appointments/mine/",
)

# The sign-out form's address (POST), both languages.
SIGN_OUT = r"^/(en/)?account/logout/$"


def kept_page_pattern() -> str:
    """One regular expression (JavaScript and Python alike) for every kept path."""
    return r"^/(en/)?(" + "|".join(KEPT_PAGES) + r")$"


def keep_days() -> int:
    """How long a kept copy may be shown; older copies are dropped, not shown."""
    return int(setting("PANJEREH_OFFLINE_KEEP_DAYS", 14))


def holder_of(user) -> str:
    """An opaque, stable mark of ``user`` for the worker: a keyed hash of the primary key, so
    that it names nobody and cannot be guessed from the national code."""
    return salted_hmac("panjereh.portal.pwa.holder", str(user.pk)).hexdigest()[:32]


@receiver(user_logged_out, dispatch_uid="panjereh.portal.pwa.signed_out")
def _note_sign_out(sender, request=None, **kwargs) -> None:
    if request is not None:
        setattr(request, _SIGNED_OUT, True)


class OfflineCopyMiddleware:
    """Mark signed-in pages with their holder; make the sign-out clear the site's data. Place
    it after the authentication middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, _SIGNED_OUT, False):
            response["Clear-Site-Data"] = CLEAR_SITE_DATA
            return response
        user = getattr(request, "user", None)
        if (
            user is not None
            and response.get("Content-Type", "").startswith("text/html")
            and user.is_authenticated
        ):
            response[HOLDER_HEADER] = holder_of(user)
        return response
