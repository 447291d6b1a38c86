"""The national window's identity pages: registration, sign-in, step-up, audit, delegations.

Registration and sign-in keep their progress in the server-side session and change nothing in
the database until the last step succeeds; every refusal is a clear message on the same page.
Sign-in never tells whether a national code has an account: the same page and message follow
whether it has or not, and a code is "sent" either way.

Every write is an operation (:mod:`.operations`): a view reads the form, calls one, and shows
its outcome or its refusal (:class:`operations.IdentityError`).
"""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from panjereh.common import ratelimit

from . import assurance, audit, operations, passkeys, totp
from .forms import (
    CodeForm,
    DelegationForm,
    LoginForm,
    PhotoForm,
    RegisterForm,
    TotpForm,
)
from .models import AuthEvent, SsoSession
from .oidc import SID_SESSION_KEY
from .operations import REG_KEY  # noqa: F401  (where the session keeps a registration; tests)

# The status a page answers a refusal with: locked out, too many codes, the registry down.
REFUSAL_STATUS = {
    "ip_locked": 429,
    "code_locked": 429,
    "too_many_codes": 429,
    "registry_unavailable": 503,
}


def _status(exc: operations.IdentityError) -> int:
    return REFUSAL_STATUS.get(exc.code, 200)


def _safe_next(request: HttpRequest, default: str | None = None) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default or reverse("identity:account")


def _register_page(request, form, status: int = 200):
    context = {"form": form, "next": _safe_next(request, "")}
    return render(request, "identity/register.html", context, status=status)


# -- registration -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _register_page(request, RegisterForm())
    form = RegisterForm(request.POST)
    try:
        operations.count_registration_attempt(request)
    except operations.IdentityError as exc:
        form.is_valid()
        form.add_error(None, exc.message)
        return _register_page(request, form, _status(exc))
    if not form.is_valid():
        return _register_page(request, form)
    try:
        operations.start_registration(
            request,
            form.cleaned_data["national_code"],
            form.cleaned_data["birth_date"],
            form.cleaned_data["mobile"],
            next_url=_safe_next(request, ""),
        )
    except operations.IdentityError as exc:
        form.add_error(None, exc.message)
        return _register_page(request, form, _status(exc))
    return redirect("identity:register_verify")


@require_http_methods(["GET", "POST"])
def register_verify(request: HttpRequest) -> HttpResponse:
    state = operations.registration_in_progress(request)
    if not state:
        return redirect("identity:register")
    form = CodeForm(request.POST or None)
    context = {
        "form": form,
        "mobile_tail": state["mobile"][-4:],
        "resend": "identity:register_resend",
    }
    if request.method == "POST" and form.is_valid():
        try:
            operations.verify_registration_code(request, form.cleaned_data["code"])
        except operations.IdentityError as exc:
            form.add_error(None, exc.message)
            return render(request, "identity/verify.html", context, status=_status(exc))
        return redirect("identity:register_confirm")
    return render(request, "identity/verify.html", context)


@require_POST
def register_resend(request: HttpRequest) -> HttpResponse:
    if not operations.registration_in_progress(request):
        return redirect("identity:register")
    try:
        operations.resend_registration_code(request)
    except operations.IdentityError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, _("A new code has been sent."))
    return redirect("identity:register_verify")


@require_http_methods(["GET", "POST"])
def register_confirm(request: HttpRequest) -> HttpResponse:
    state = operations.registration_in_progress(request)
    if not state or not state.get("verified"):
        return redirect("identity:register")
    if request.method != "POST":
        record = state["record"]
        return render(
            request,
            "identity/confirm.html",
            {
                "record": record,
                "birth_date": timezone.datetime.fromisoformat(record["birth_date"]).date(),
                "national_code": state["national_code"],
                "mobile": state["mobile"],
            },
        )
    _user, created, next_url = operations.confirm_registration(request)
    if created:
        messages.success(request, _("Your account is ready. You are signed in."))
    else:
        messages.success(request, _("You already had an account; your details were refreshed."))
    return redirect(next_url or reverse("identity:account"))


# -- sign-in -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request)
    form = LoginForm(request.POST or None)
    context = {"form": form, "next": next_url}
    if request.method != "POST":
        return render(request, "identity/login.html", context)
    try:
        operations.count_attempt_from(ratelimit.client_ip(request))
    except operations.IdentityError as exc:
        form.is_valid()
        form.add_error(None, exc.message)
        return render(request, "identity/login.html", context, status=_status(exc))
    if not form.is_valid():
        return render(request, "identity/login.html", context)
    try:
        operations.send_sign_in_code(request, form.cleaned_data["national_code"], next_url)
    except operations.IdentityError as exc:
        form.add_error(None, exc.message)
        return render(request, "identity/login.html", context, status=_status(exc))
    return redirect("identity:login_verify")


@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    if not operations.sign_in_in_progress(request):
        return redirect("identity:login")
    form = CodeForm(request.POST or None)
    context = {"form": form, "login": True}
    if request.method != "POST" or not form.is_valid():
        return render(request, "identity/verify.html", context)
    try:
        step = operations.verify_sign_in_code(request, form.cleaned_data["code"])
    except operations.IdentityError as exc:
        form.add_error(None, exc.message)
        return render(request, "identity/verify.html", context, status=_status(exc))
    if not step.signed_in:
        return redirect("identity:login_totp")
    return redirect(step.next_url or reverse("identity:account"))


@require_http_methods(["GET", "POST"])
def login_totp(request: HttpRequest) -> HttpResponse:
    if not operations.awaiting_authenticator(request):
        return redirect("identity:login")
    form = TotpForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        try:
            next_url = operations.verify_sign_in_authenticator(request, form.cleaned_data["code"])
        except operations.IdentityError as exc:
            form.add_error(None, exc.message)
            return render(request, "identity/totp_login.html", context, status=_status(exc))
        return redirect(next_url or reverse("identity:account"))
    return render(request, "identity/totp_login.html", context)


@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if operations.sign_out(request):
            messages.success(
                request, _("You have signed out of the national window and every agency window.")
            )
        return redirect(_safe_next(request, reverse("portal:home")))
    windows = []
    sid = request.session.get(SID_SESSION_KEY)
    if sid and request.user.is_authenticated:
        session = SsoSession.objects.filter(sid=sid).first()
        windows = [app.name for app in session.clients.all()] if session else []
    return render(request, "identity/logout.html", {"windows": windows})


# -- account, step-up ------------------------------------------------------------------------


@login_required
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "identity/account.html",
        {
            "level": user.assurance_level,
            "steps": assurance.missing_steps(user, assurance.MAX_LEVEL),
        },
    )


def _target_level(request: HttpRequest) -> tuple[int, object | None]:
    from panjereh.catalogue.models import Service

    service = None
    service_id = request.GET.get("service") or request.POST.get("service")
    if service_id:
        service = Service.objects.filter(service_id=service_id).first()
    if service is not None:
        return service.min_assurance_level, service
    try:
        level = int(request.GET.get("level") or request.POST.get("level") or 0)
    except ValueError:
        level = 0
    return max(0, min(level, assurance.MAX_LEVEL)), None


@login_required
def step_up(request: HttpRequest) -> HttpResponse:
    user = request.user
    target, service = _target_level(request)
    next_url = _safe_next(request)
    here = request.get_full_path()
    steps = [
        {
            "step": step,
            "url": (reverse(step.url_name) + "?" + urlencode({"next": here}))
            if step.url_name
            else None,
        }
        for step in assurance.missing_steps(user, target)
    ]
    # Level 3 and above count in this session only once a passkey was used in it.
    session_level = passkeys.session_level(request)
    use_passkey = (
        user.assurance_level >= target >= 3
        and session_level < target
        and passkeys.live_passkeys(user).exists()
    )
    return render(
        request,
        "identity/step_up.html",
        {
            "target": target,
            "service": service,
            "level": user.assurance_level,
            "steps": steps,
            "done": session_level >= target,
            "use_passkey": use_passkey,
            "next": next_url,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def photo(request: HttpRequest) -> HttpResponse:
    form = PhotoForm(request.POST or None, request.FILES or None)
    next_url = _safe_next(request, reverse("identity:step_up"))
    if request.method == "POST" and form.is_valid():
        try:
            operations.check_photo(
                request.user, form.cleaned_data["photo"], actor=request.user, request=request
            )
        except operations.IdentityError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your photo matches the civil registration photo."))
            return redirect(next_url)
    return render(request, "identity/photo.html", {"form": form, "next": next_url})


@login_required
@require_http_methods(["GET", "POST"])
def totp_enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    next_url = _safe_next(request, reverse("identity:step_up"))
    try:
        device = operations.start_authenticator_enrolment(user, actor=user)
    except operations.IdentityError as exc:  # already enrolled
        messages.info(request, exc.message)
        return redirect(next_url)
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            operations.confirm_authenticator(
                user, form.cleaned_data["code"], actor=user, request=request
            )
        except operations.IdentityError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your authenticator app is enrolled."))
            return redirect(next_url)
    uri = totp.provisioning_uri(device, user.national_code or user.username)
    return render(
        request,
        "identity/totp_enrol.html",
        {
            "form": form,
            "secret": totp.base32_secret(device),
            "qr_svg": segno.make(uri, error="m").svg_inline(scale=4),
            "next": next_url,
        },
    )


@login_required
def audit_trail(request: HttpRequest) -> HttpResponse:
    user = request.user
    events = (
        AuthEvent.objects.filter(Q(user=user) | Q(acting_for=user))
        .select_related("user", "acting_for")
        .order_by("-at", "-id")[:200]
    )
    return render(request, "identity/audit.html", {"events": events})


# -- delegations -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def delegations(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = DelegationForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            operations.offer_delegation(
                user,
                form.cleaned_data["helper_national_code"],
                form.cleaned_data["purpose"],
                form.cleaned_data["days"],
                request,
            )
        except operations.IdentityError as exc:
            form.add_error(None, exc.message)
            status = 429 if exc.code == "rate_limited" else 200
        else:
            # The same answer for every national code: the helper is named once they accept.
            messages.success(
                request,
                _(
                    "Your authorisation is recorded. It starts when the holder of this national "
                    "code signs in and accepts it; you will see their name here then."
                ),
            )
            return redirect("identity:delegations")
    now = timezone.now()
    return render(
        request,
        "identity/delegations.html",
        {
            "form": form,
            "given": user.delegations_given.select_related("helper").order_by("-created_at"),
            "offered": operations.pending_offers(user).select_related("principal"),
            "received": user.delegations_received.filter(
                revoked_at__isnull=True, accepted_at__isnull=False, expires_at__gt=now
            ).select_related("principal"),
            "acting": request.session.get(audit.ACTING_SESSION_KEY),
        },
        status=status,
    )


@login_required
@require_POST
def delegation_accept(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        operations.accept_delegation(request.user, pk, request)
    except operations.IdentityError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("You accepted. You can now act for this person."))
    return redirect("identity:delegations")


@login_required
@require_POST
def delegation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        operations.revoke_delegation(request.user, pk, request)
    except operations.IdentityError:
        raise Http404 from None
    return redirect("identity:delegations")


@login_required
@require_POST
def delegation_act(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        delegation = operations.start_acting(request.user, pk, request)
    except operations.IdentityError as exc:
        if exc.code == "not_found":
            raise Http404 from None
        messages.error(request, exc.message)
        return redirect("identity:delegations")
    messages.info(
        request,
        _("You are now acting for %(name)s. Everything you do is recorded as done for them.")
        % {"name": delegation.principal.get_full_name()},
    )
    return redirect("identity:delegations")


@login_required
@require_POST
def delegation_stop(request: HttpRequest) -> HttpResponse:
    operations.stop_acting(request)
    return redirect("identity:delegations")
