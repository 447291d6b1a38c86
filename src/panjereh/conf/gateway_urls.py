"""The gateway process's URL map: the exchange gateway and the OpenID Connect endpoints that
programs call (token, revocation, introspection, userinfo, JWKS, and the discovery document
the library names the issuer by). The browsers' endpoints (authorize, logout) and every page
stay with the portal: here their addresses only send the browser there (the discovery document
names them, so they must resolve). Unknown addresses and server errors are answered in JSON."""

from django.conf import settings
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import include, path
from django.utils.translation import gettext as _

from panjereh.identity import oidc_views

PROGRAM_ENDPOINTS = (
    "oauth2_provider:oidc-connect-discovery-info",
    "oauth2_provider:jwks-info",
    "oauth2_provider:token",
    "oauth2_provider:revoke-token",
    "oauth2_provider:introspect",
    "oauth2_provider:user-info",
)
BROWSER_ENDPOINTS = ("oauth2_provider:authorize", "oauth2_provider:rp-initiated-logout")


def to_portal(request):
    """A browser that reached the gateway process is sent to the same address on the portal."""
    return HttpResponseRedirect(settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path())


_oidc = [
    p for p in oidc_views.urlpatterns if f"{oidc_views.app_name}:{p.name}" in PROGRAM_ENDPOINTS
] + [
    path(str(p.pattern), to_portal, name=p.name)
    for p in oidc_views.urlpatterns
    if f"{oidc_views.app_name}:{p.name}" in BROWSER_ENDPOINTS
]

urlpatterns = [
    path("r1/", include("panjereh.exchange.gateway_urls")),
    path("", include((_oidc, oidc_views.app_name))),
]


def not_found(request, exception=None):
    return JsonResponse({"detail": _("There is nothing at this address.")}, status=404)


def server_error(request):
    return JsonResponse({"detail": _("The server failed; please try again later.")}, status=500)


handler404 = not_found
handler500 = server_error
