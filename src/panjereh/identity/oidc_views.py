"""OIDC endpoints: django-oauth-toolkit's views with the national window's policy.

Only what an OpenID provider needs is routed: no dynamic client registration, no application
self-service pages (clients are registered by the platform operator in the back office), no
device flow, and no ``prompt=create`` (accounts are made only by the registration pages).
"""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import unquote_plus, urlencode

from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import path, re_path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider import views as dot
from oauth2_provider.exceptions import InvalidOIDCRedirectURIError, OAuthToolkitError
from oauth2_provider.models import (
    RefreshToken,
    get_access_token_model,
    get_application_model,
)
from oauth2_provider.scopes import get_scopes_backend
from oauth2_provider.signals import app_authorized
from oauthlib.common import add_params_to_uri
from oauthlib.oauth2.rfc6749.errors import InvalidRequestFatalError

from . import audit, operations, passkeys
from .models import AuthEvent, Consent
from .oidc import (
    ACR_VALUES,
    IN_TOKEN_TRANSACTION,
    NATIONAL_CODE_SCOPE,
    ORG_SCOPE,
    REUSED_CODES,
    REUSED_FAMILIES,
    SID_SESSION_KEY,
    ec_public_jwk,
    pairwise_subject,
    revoke_redeemed,
)

# Claims released under each scope, in the order the consent screen lists them.
SCOPE_CLAIMS = {
    "openid": ["sub", "acr"],
    "profile": ["name", "given_name", "family_name"],
    "phone": ["phone_number"],
    NATIONAL_CODE_SCOPE: ["national_code"],
    ORG_SCOPE: ["org"],
}


def _silent(request) -> bool:
    return "none" in request.GET.get("prompt", "").split()


def _requested_level(acr_values: str | None) -> int:
    levels = [int(v) for v in (acr_values or "").split() if v in ACR_VALUES]
    return max(levels) if levels else 0


class AuthorizeView(dot.AuthorizationView):
    template_name = "identity/consent.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated and _silent(request):
            # A window checking silently for a session (prompt=none) is told, not shown a page.
            return self._silent_error(request, "login_required")
        return super().dispatch(request, *args, **kwargs)

    def _silent_error(self, request, error: str):
        try:
            _scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as exc:
            return self.error_response(exc, application=None)
        application = get_application_model().objects.get(client_id=credentials["client_id"])
        params = [("error", error)]
        if credentials.get("state"):
            params.append(("state", credentials["state"]))
        return self.redirect(add_params_to_uri(credentials["redirect_uri"], params), application)

    def get(self, request, *args, **kwargs):
        if "create" in request.GET.get("prompt", "").split():
            # Accounts are created only at the national window's own registration pages.
            error = InvalidRequestFatalError(
                description="prompt=create is not supported: people register at the national window"
            )
            return self.error_response(OAuthToolkitError(error=error), application=None)
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        application = get_application_model().objects.get(client_id=credentials["client_id"])
        needed = _requested_level(request.GET.get("acr_values"))
        consent = Consent.objects.filter(user=request.user, application=application).first()
        consented = consent is not None and set(scopes) <= set(consent.scopes)
        if _silent(request) and needed > passkeys.session_level(request):
            return self._silent_error(request, "interaction_required")
        if _silent(request) and not consented:
            return self._silent_error(request, "consent_required")
        if needed > passkeys.session_level(request):
            # Not an error: the person is sent to raise their level (or, at level 3, to use
            # their passkey in this session) and then comes back here.
            query = urlencode({"level": needed, "next": request.get_full_path()})
            return redirect(f"{reverse('identity:step_up')}?{query}")
        if consented:
            try:
                uri, _headers, _body, _status = self.create_authorization_response(
                    request=request, scopes=" ".join(scopes), credentials=credentials, allow=True
                )
            except OAuthToolkitError as error:
                return self.error_response(error, application)
            return self.redirect(uri, application)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        scopes = context.get("scopes") or []
        context["claims"] = [
            {"scope": scope, "claims": SCOPE_CLAIMS.get(scope, [])}
            for scope in scopes
            if scope in SCOPE_CLAIMS
        ]
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        if form.cleaned_data.get("allow"):
            application = get_application_model().objects.get(
                client_id=form.cleaned_data["client_id"]
            )
            scopes = form.cleaned_data.get("scope", "").split()
            operations.record_consent(self.request, application, scopes)
        return response

    def create_authorization_response(self, request, scopes, credentials, allow):
        # Carries the sign-on session id to the validator, which ties the code to it.
        credentials = {**credentials, "panjereh_sid": request.session.get(SID_SESSION_KEY)}
        if ORG_SCOPE in scopes.split():
            # The company the person acts for now (if any) goes with the code; the token
            # endpoint asks the registry again before it puts it in the ``org`` claim.
            from . import businesses

            acting = businesses.acting_for(request)
            credentials["panjereh_org"] = acting.company.national_id if acting else ""
        result = super().create_authorization_response(request, scopes, credentials, allow)
        if allow:
            application = (
                get_application_model()
                .objects.filter(client_id=credentials.get("client_id"))
                .first()
            )
            audit.record(
                AuthEvent.Kind.TOKEN_ISSUED,
                request,
                user=request.user,
                client_name=application.name if application else "",
            )
        return result


class TokenView(dot.TokenView):
    """Tokens for one code are issued all or nothing: the ID, access and refresh token rows and
    the deletion of the code commit together, and a request that loses a race for the same code
    leaves no orphan tokens. On PostgreSQL the whole request is one transaction. On SQLite that
    would hold the single database write lock for the whole request, so there only the writes
    (``PanjerehValidator.save_bearer_token``) share one."""

    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def authorization_flow_token_response(self, request, *args, **kwargs):
        if app_authorized.has_listeners(self):
            return super().authorization_flow_token_response(request, *args, **kwargs)
        # The library reads the new access token back from the database only to send
        # ``app_authorized``; nothing here listens to it, so the read is skipped.
        _url, headers, body, status = self.create_token_response(request)
        # An error raised after validation (a code used up by a racing request) comes without
        # oauthlib's default headers: the body is still JSON and must not be cached.
        response = HttpResponse(content=body, status=status, content_type="application/json")
        response["Cache-Control"] = "no-store"
        for key, value in headers.items():
            response[key] = value
        return response

    def post(self, request, *args, **kwargs):
        response = self._post(request, *args, **kwargs)
        if response.status_code == 401 and request.headers.get("Authorization", "").startswith(
            "Basic "
        ):
            # RFC 6749 5.2: the challenge matches the scheme the client authenticated with
            # (oauthlib always answers with a Bearer challenge).
            response["WWW-Authenticate"] = 'Basic realm="panjereh", charset="UTF-8"'
        return response

    def _post(self, request, *args, **kwargs):
        if connection.vendor == "sqlite":
            return super().post(request, *args, **kwargs)
        reused = REUSED_CODES.set([])
        families = REUSED_FAMILIES.set([])
        try:
            with transaction.atomic():
                marker = IN_TOKEN_TRANSACTION.set(True)
                try:
                    response = super().post(request, *args, **kwargs)
                finally:
                    IN_TOKEN_TRANSACTION.reset(marker)
                if response.status_code != 200:
                    # The library answers errors instead of raising: undo what it wrote first.
                    transaction.set_rollback(True)
            # A code presented again: its first tokens are revoked outside the rolled-back
            # transaction of this refused request.
            for hashed in REUSED_CODES.get() or []:
                revoke_redeemed(hashed)
            # A rotated refresh token presented again: its family is revoked for good.
            for family in REUSED_FAMILIES.get() or []:
                RefreshToken.revoke_family(family)
        finally:
            REUSED_FAMILIES.reset(families)
            REUSED_CODES.reset(reused)
        return response


class IntrospectView(dot.IntrospectTokenView):
    """RFC 7662 introspection for agency windows: a window learns about its own tokens only,
    and the person is named by the window's pairwise subject, never by a global username
    (which would let agencies join their records)."""

    @staticmethod
    def _caller_client_id(request) -> str:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                decoded = base64.b64decode(header[6:]).decode()
            except (ValueError, UnicodeDecodeError):
                return ""
            return unquote_plus(decoded.split(":", 1)[0])
        return request.POST.get("client_id", "")

    def _answer(self, request, token_value):
        response = self.get_token_response(token_value)
        data = json.loads(response.content)
        if response.status_code != 200 or not data.get("active"):
            return response
        checksum = hashlib.sha256(token_value.encode()).hexdigest()
        token = (
            get_access_token_model()
            .objects.select_related("user", "application")
            .filter(token_checksum=checksum)
            .first()
        )
        caller = self._caller_client_id(request)
        if token is None or token.application is None or token.application.client_id != caller:
            return JsonResponse({"active": False})
        data.pop("username", None)
        if token.user is not None:
            data["sub"] = pairwise_subject(token.user, token.application)
        return JsonResponse(data)

    def get(self, request, *args, **kwargs):
        return self._answer(request, request.GET.get("token"))

    def post(self, request, *args, **kwargs):
        return self._answer(request, request.POST.get("token"))


class DiscoveryView(dot.ConnectDiscoveryInfoView):
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data.update(
            {
                "acr_values_supported": ACR_VALUES,
                "backchannel_logout_supported": True,
                "backchannel_logout_session_supported": True,
                "code_challenge_methods_supported": ["S256"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "revocation_endpoint": request.build_absolute_uri(
                    reverse("oauth2_provider:revoke-token")
                ),
                "introspection_endpoint": request.build_absolute_uri(
                    reverse("oauth2_provider:introspect")
                ),
                "scopes_supported": list(get_scopes_backend().get_available_scopes()),
                "ui_locales_supported": ["fa", "en"],
                "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            }
        )
        out = JsonResponse(data)
        out["Access-Control-Allow-Origin"] = "*"
        return out


class JwksView(dot.JwksInfoView):
    """The library's JWKS (its RSA keys, current and retired, and its caching headers) with
    the ES256 key added."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data["keys"].append(ec_public_jwk())
        response.content = json.dumps(data)
        return response


class LogoutView(dot.RPInitiatedLogoutView):
    template_name = "identity/logout_prompt.html"

    def validate_post_logout_redirect_uri(self, application, post_logout_redirect_uri):
        super().validate_post_logout_redirect_uri(application, post_logout_redirect_uri)
        # Exact match, for the same reason as redirect URIs (see PanjerehValidator).
        if post_logout_redirect_uri and (
            post_logout_redirect_uri not in application.post_logout_redirect_uris.split()
        ):
            raise InvalidOIDCRedirectURIError(
                "This client does not have this redirect uri registered."
            )


app_name = "oauth2_provider"
urlpatterns = [
    re_path(
        r"^\.well-known/openid-configuration/?$",
        DiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path("oidc/jwks/", JwksView.as_view(), name="jwks-info"),
    path("oidc/authorize/", AuthorizeView.as_view(), name="authorize"),
    path("oidc/token/", TokenView.as_view(), name="token"),
    path("oidc/revoke/", dot.RevokeTokenView.as_view(), name="revoke-token"),
    path("oidc/introspect/", IntrospectView.as_view(), name="introspect"),
    path("oidc/userinfo/", dot.UserInfoView.as_view(), name="user-info"),
    path("oidc/logout/", LogoutView.as_view(), name="rp-initiated-logout"),
]
