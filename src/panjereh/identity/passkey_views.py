"""The passkey pages: the list (add, rename, remove) and the four JSON endpoints of the two
WebAuthn ceremonies that ``identity/js/passkeys.js`` calls. Thin: every write is in
:mod:`.passkeys`; a refusal comes back as ``{"error": "<code>", "detail": "<localised sentence>"}``, the shape
of the window's other JSON refusals (common.badinput)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from panjereh.catalogue import roles
from panjereh.common.templatetags.persian import digits

from . import passkeys
from .forms import PasskeyNameForm
from .models import Passkey, TotpDevice
from .operations import IdentityError

STATUS = {
    "ip_locked": 429,
    "bad_input": 400,
    "bad_name": 400,
    "expired": 400,
    "not_ready": 403,
    "not_found": 404,
    "no_passkey": 400,
    "unknown_passkey": 400,
    "not_accepted": 400,
    "no_user_verification": 400,
    "cloned": 400,
    "already_registered": 400,
}


def _refusal(exc: IdentityError) -> JsonResponse:
    return JsonResponse(
        {"error": exc.code, "detail": exc.message}, status=STATUS.get(exc.code, 400)
    )


def _forbidden() -> JsonResponse:
    return JsonResponse({"error": "not_signed_in", "detail": _("Sign in first.")}, status=403)


def _safe(request: HttpRequest, candidate, default: str = "") -> str:
    if isinstance(candidate, str) and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _body(request: HttpRequest) -> dict:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > 32 * 1024:
        raise passkeys.bad_input()
    return passkeys.parse_body(request.body)


# -- the page -----------------------------------------------------------------------------------


def _page(request: HttpRequest, rename_form=None, rename_id=None, status: int = 200):
    user = request.user
    rows = list(Passkey.objects.filter(user=user).order_by("revoked_at", "-created_at"))
    next_url = _safe(request, request.GET.get("next") or request.POST.get("next"))
    return render(
        request,
        "identity/passkeys.html",
        {
            "live": [p for p in rows if p.revoked_at is None],
            "removed": [p for p in rows if p.revoked_at is not None][:10],
            "blocker": passkeys.registration_blocker(user, request),
            "proved": passkeys.session_proved(request),
            "level": user.assurance_level,
            "next": next_url,
            "rename_form": rename_form,
            "rename_id": rename_id,
            "has_totp": TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists(),
        },
        status=status,
    )


@login_required
@require_GET
@never_cache
def passkey_list(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def passkey_rename(request: HttpRequest, pk: int) -> HttpResponse:
    form = PasskeyNameForm(request.POST)
    if form.is_valid():
        try:
            passkeys.rename(pk, form.cleaned_data["name"], actor=request.user, request=request)
        except IdentityError as exc:
            if exc.code == "not_found":
                messages.error(request, exc.message)
                return redirect("identity:passkeys")
            form.add_error("name", exc.message)
        else:
            messages.success(request, _("The passkey is renamed."))
            return redirect("identity:passkeys")
    return _page(request, rename_form=form, rename_id=pk)


@login_required
@require_POST
def passkey_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        passkey = passkeys.revoke(pk, actor=request.user, request=request)
    except IdentityError as exc:
        messages.error(request, exc.message)
        return redirect("identity:passkeys")
    messages.success(
        request,
        _("The passkey “%(name)s” is removed: it can no longer be used to sign in.")
        % {"name": passkey.name},
    )
    level = passkey.user.assurance_level  # recomputed by the removal
    if level < 3:
        messages.info(
            request,
            _(
                "You have no passkey left, so your assurance level is now %(level)s. To add a new "
                "passkey, do the photo check again first."
            )
            % {"level": digits(level)},
        )
    return redirect("identity:passkeys")


# -- the ceremonies (JSON) ----------------------------------------------------------------------


@require_POST
@never_cache
def register_options(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return _forbidden()
    try:
        passkeys.count_ceremony(request)
        _body(request)
        options = passkeys.registration_options(request, request.user, actor=request.user)
    except IdentityError as exc:
        return _refusal(exc)
    except roles.NotPermitted:
        return _forbidden()
    return JsonResponse(options)


@require_POST
@never_cache
def register_verify(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return _forbidden()
    try:
        passkeys.count_ceremony(request)
        data = _body(request)
        credential = data.get("credential")
        if not isinstance(credential, dict):
            raise passkeys.bad_input()
        passkeys.register(
            request, request.user, credential, data.get("name", ""), actor=request.user
        )
    except IdentityError as exc:
        return _refusal(exc)
    except roles.NotPermitted:
        return _forbidden()
    messages.success(request, _("Your passkey is added."))
    return JsonResponse(
        {"redirect": _safe(request, data.get("next"), reverse("identity:passkeys"))}
    )


@require_POST
@never_cache
def sign_in_options(request: HttpRequest) -> JsonResponse:
    try:
        passkeys.count_ceremony(request)
        data = _body(request)
        next_url = _safe(request, data.get("next"))
        options = passkeys.authentication_options(
            request, next_url, step_up=data.get("mode") == "step_up"
        )
    except IdentityError as exc:
        return _refusal(exc)
    return JsonResponse(options)


@require_POST
@never_cache
def sign_in_verify(request: HttpRequest) -> JsonResponse:
    try:
        passkeys.count_ceremony(request)
        data = _body(request)
        credential = data.get("credential")
        if not isinstance(credential, dict):
            raise passkeys.bad_input()
        next_url = passkeys.authenticate(request, credential)
    except IdentityError as exc:
        return _refusal(exc)
    return JsonResponse({"redirect": next_url or reverse("identity:account")})
