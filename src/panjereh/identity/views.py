"""The national window's identity pages: registration, sign-in, step-up, audit, delegations.

Registration and sign-in keep their progress in the server-side session and change nothing in
the database until the last step succeeds; every refusal is a clear message on the same page.
Sign-in never tells whether a national code has an account: the same page and message follow
whether it has or not, and a code is "sent" either way.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth import login, logout
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

from . import assurance, audit, operations, otp, registry_checks, sms, totp
from .forms import (
    CodeForm,
    DelegationForm,
    LoginForm,
    PhotoForm,
    RegisterForm,
    SigningKeyForm,
    TotpForm,
)
from .models import AuthEvent, SsoSession, TotpDevice, User
from .oidc import SID_SESSION_KEY

REG_KEY = "panjereh_registration"
LOGIN_KEY = "panjereh_login"
SIGNING_NONCE_KEY = "panjereh_signing_nonce"
BACKEND = "panjereh.identity.backends.RateLimitedModelBackend"


def _msg_ip_locked() -> str:
    return _("Too many attempts from your connection. Please try again in a few minutes.")


def _msg_code_locked() -> str:
    return _("Too many wrong attempts for this national code. Please try again in 15 minutes.")


def _msg_no_match() -> str:
    return _(
        "These details do not match the civil registration records. Check your national code "
        "and birth date, and use a mobile number registered in your own name."
    )


def _msg_unavailable() -> str:
    return _(
        "The civil registration service is not answering right now. Nothing was saved; "
        "please try again in a few minutes."
    )


OTP_MESSAGES = {
    otp.Outcome.WRONG: lambda: _("The code is not correct."),
    otp.Outcome.EXPIRED: lambda: _("The code has expired. Ask for a new code."),
    otp.Outcome.USED: lambda: _("This code has already been used. Ask for a new code."),
    otp.Outcome.EXHAUSTED: lambda: _("Too many wrong codes for this request. Ask for a new code."),
    otp.Outcome.UNKNOWN: lambda: _("This request has expired. Please start again."),
}


def _safe_next(request: HttpRequest, default: str | None = None) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default or reverse("identity:account")


def _sms_text(code: str) -> str:
    # The domain-bound line lets phones offer autofill and warns people off look-alike sites.
    return _("Panjereh code: %(code)s\nDo not give this code to anyone.") % {"code": code}


def _send_code(purpose: str, national_code: str, mobile: str | None) -> int:
    challenge_id, code = otp.issue(purpose, national_code)
    if mobile:
        sms.send_sms(mobile, _sms_text(code))
    return challenge_id


def _refuse(request, form, message: str, national_code: str | None, reason: str, status=200):
    form.add_error(None, message)
    audit.record(
        AuthEvent.Kind.REGISTRATION_REFUSED, request, national_code=national_code, reason=reason
    )
    return _register_page(request, form, status)


def _register_page(request, form, status: int = 200):
    context = {"form": form, "next": _safe_next(request, "")}
    return render(request, "identity/register.html", context, status=status)


# -- registration -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _register_page(request, RegisterForm())
    form = RegisterForm(request.POST)
    ip = ratelimit.client_ip(request)
    if ratelimit.is_locked(ratelimit.IP_ATTEMPTS, ip):
        form.is_valid()
        return _refuse(request, form, _msg_ip_locked(), None, "ip_locked", status=429)
    ratelimit.hit(ratelimit.IP_ATTEMPTS, ip)
    if not form.is_valid():
        return _register_page(request, form)
    code = form.cleaned_data["national_code"]
    birth_date = form.cleaned_data["birth_date"]
    mobile = form.cleaned_data["mobile"]
    if ratelimit.is_locked(ratelimit.CODE_FAILURES, code) or ratelimit.is_locked(
        ratelimit.CODES_SENT, code
    ):
        return _refuse(request, form, _msg_code_locked(), code, "code_locked", status=429)
    audit.record(AuthEvent.Kind.REGISTRATION_STARTED, request, national_code=code)
    try:
        # Both checks are made every time and a failure of either reads the same, so that the
        # form does not tell whether a birth date or a mobile number was the wrong one.
        record = registry_checks.match_identity(code, birth_date)
        owns_mobile = registry_checks.mobile_belongs_to(code, mobile)
        if record is None or not record.alive or not owns_mobile:
            ratelimit.hit(ratelimit.CODE_FAILURES, code)
            reason = (
                "mobile_not_owned" if record is not None and record.alive else "registry_mismatch"
            )
            return _refuse(request, form, _msg_no_match(), code, reason)
    except registry_checks.RegistryUnavailable:
        return _refuse(request, form, _msg_unavailable(), code, "registry_unavailable", 503)
    if ratelimit.hit(ratelimit.CODES_SENT, code):
        return _refuse(request, form, _msg_code_locked(), code, "too_many_codes", status=429)
    challenge_id = _send_code("register", code, mobile)
    audit.record(AuthEvent.Kind.OTP_SENT, request, national_code=code, purpose="register")
    request.session[REG_KEY] = {
        "national_code": code,
        "mobile": mobile,
        "challenge": challenge_id,
        "verified": False,
        "next": _safe_next(request, ""),
        "record": {
            "first_name": record.first_name,
            "last_name": record.last_name,
            "father_name": record.father_name,
            "birth_date": record.birth_date.isoformat(),
            "sex": record.sex,
        },
    }
    return redirect("identity:register_verify")


@require_http_methods(["GET", "POST"])
def register_verify(request: HttpRequest) -> HttpResponse:
    state = request.session.get(REG_KEY)
    if not state:
        return redirect("identity:register")
    form = CodeForm(request.POST or None)
    code = state["national_code"]
    context = {
        "form": form,
        "mobile_tail": state["mobile"][-4:],
        "resend": "identity:register_resend",
    }
    if request.method == "POST" and form.is_valid():
        if ratelimit.is_locked(ratelimit.CODE_FAILURES, code):
            form.add_error(None, _msg_code_locked())
            return render(request, "identity/verify.html", context, status=429)
        outcome = otp.verify(state["challenge"], "register", code, form.cleaned_data["code"])
        if outcome is otp.Outcome.OK:
            state["verified"] = True
            request.session[REG_KEY] = state
            return redirect("identity:register_confirm")
        if outcome in (otp.Outcome.WRONG, otp.Outcome.EXHAUSTED):
            audit.record(AuthEvent.Kind.OTP_FAILED, request, national_code=code, purpose="register")
            if ratelimit.hit(ratelimit.CODE_FAILURES, code):
                request.session.pop(REG_KEY, None)
                audit.record(AuthEvent.Kind.LOCKED_OUT, request, national_code=code)
                form.add_error(None, _msg_code_locked())
                return render(request, "identity/verify.html", context, status=429)
        form.add_error(None, OTP_MESSAGES[outcome]())
    return render(request, "identity/verify.html", context)


@require_POST
def register_resend(request: HttpRequest) -> HttpResponse:
    state = request.session.get(REG_KEY)
    if not state:
        return redirect("identity:register")
    code = state["national_code"]
    if ratelimit.is_locked(ratelimit.CODE_FAILURES, code) or ratelimit.hit(
        ratelimit.CODES_SENT, code
    ):
        messages.error(request, _msg_code_locked())
        return redirect("identity:register_verify")
    state["challenge"] = _send_code("register", code, state["mobile"])
    state["verified"] = False
    request.session[REG_KEY] = state
    messages.info(request, _("A new code has been sent."))
    return redirect("identity:register_verify")


@require_http_methods(["GET", "POST"])
def register_confirm(request: HttpRequest) -> HttpResponse:
    state = request.session.get(REG_KEY)
    if not state or not state.get("verified"):
        return redirect("identity:register")
    record = state["record"]
    birth_date = timezone.datetime.fromisoformat(record["birth_date"]).date()
    if request.method != "POST":
        return render(
            request,
            "identity/confirm.html",
            {
                "record": record,
                "birth_date": birth_date,
                "national_code": state["national_code"],
                "mobile": state["mobile"],
            },
        )
    user, created = operations.complete_registration(
        state["national_code"], state["mobile"], record, birth_date, request
    )
    request.session.pop(REG_KEY, None)
    _switch_person(request, user)
    request.panjereh_auth_method = "registration+otp"
    login(request, user, backend=BACKEND)
    if created:
        messages.success(request, _("Your account is ready. You are signed in."))
    else:
        messages.success(request, _("You already had an account; your details were refreshed."))
    return redirect(state.get("next") or reverse("identity:account"))


# -- sign-in -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request)
    form = LoginForm(request.POST or None)
    context = {"form": form, "next": next_url}
    if request.method != "POST":
        return render(request, "identity/login.html", context)
    ip = ratelimit.client_ip(request)
    if ratelimit.is_locked(ratelimit.IP_ATTEMPTS, ip):
        form.is_valid()
        form.add_error(None, _msg_ip_locked())
        return render(request, "identity/login.html", context, status=429)
    ratelimit.hit(ratelimit.IP_ATTEMPTS, ip)
    if not form.is_valid():
        return render(request, "identity/login.html", context)
    code = form.cleaned_data["national_code"]
    if ratelimit.is_locked(ratelimit.CODE_FAILURES, code) or ratelimit.hit(
        ratelimit.CODES_SENT, code
    ):
        form.add_error(None, _msg_code_locked())
        audit.record(AuthEvent.Kind.LOCKED_OUT, request, national_code=code)
        return render(request, "identity/login.html", context, status=429)
    user = User.objects.filter(national_code=code, is_active=True).first()
    # A challenge is made whether or not the code has an account, so that the next page, its
    # timing and its message are the same; without an account no SMS goes out and no code
    # can ever match.
    challenge_id = _send_code("login", code, user.mobile if user else None)
    audit.record(AuthEvent.Kind.OTP_SENT, request, user=user, national_code=code, purpose="login")
    request.session[LOGIN_KEY] = {
        "national_code": code,
        "challenge": challenge_id,
        "next": next_url,
        "otp_ok": False,
    }
    return redirect("identity:login_verify")


def _switch_person(request: HttpRequest, user: User) -> None:
    """If someone else is signed in on this browser, sign them out properly first, so that
    their agency windows are told (Django's login would only empty the session)."""
    if request.user.is_authenticated and request.user.pk != user.pk:
        logout(request)


def _finish_login(request: HttpRequest, user: User, method: str) -> HttpResponse:
    state = request.session.pop(LOGIN_KEY, {})
    ratelimit.reset(ratelimit.CODE_FAILURES, user.national_code or "")
    _switch_person(request, user)
    request.panjereh_auth_method = method
    login(request, user, backend=BACKEND)
    return redirect(state.get("next") or reverse("identity:account"))


def _code_failure(request, form, template, context, code, kind, user=None):
    audit.record(kind, request, user=user, national_code=code)
    if ratelimit.hit(ratelimit.CODE_FAILURES, code):
        request.session.pop(LOGIN_KEY, None)
        audit.record(AuthEvent.Kind.LOCKED_OUT, request, user=user, national_code=code)
        form.add_error(None, _msg_code_locked())
        return render(request, template, context, status=429)
    return None


@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    state = request.session.get(LOGIN_KEY)
    if not state:
        return redirect("identity:login")
    form = CodeForm(request.POST or None)
    context = {"form": form, "login": True}
    if request.method != "POST" or not form.is_valid():
        return render(request, "identity/verify.html", context)
    code = state["national_code"]
    if ratelimit.is_locked(ratelimit.CODE_FAILURES, code):
        form.add_error(None, _msg_code_locked())
        return render(request, "identity/verify.html", context, status=429)
    outcome = otp.verify(state["challenge"], "login", code, form.cleaned_data["code"])
    user = User.objects.filter(national_code=code, is_active=True).first()
    if outcome is otp.Outcome.OK and user is not None:
        if TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists():
            state["otp_ok"] = True
            request.session[LOGIN_KEY] = state
            return redirect("identity:login_totp")
        return _finish_login(request, user, "otp")
    if outcome in (otp.Outcome.WRONG, otp.Outcome.EXHAUSTED, otp.Outcome.OK):
        locked = _code_failure(
            request, form, "identity/verify.html", context, code, AuthEvent.Kind.OTP_FAILED, user
        )
        if locked:
            return locked
        outcome = otp.Outcome.WRONG if outcome is otp.Outcome.OK else outcome
    form.add_error(None, OTP_MESSAGES[outcome]())
    return render(request, "identity/verify.html", context)


@require_http_methods(["GET", "POST"])
def login_totp(request: HttpRequest) -> HttpResponse:
    state = request.session.get(LOGIN_KEY)
    if not state or not state.get("otp_ok"):
        return redirect("identity:login")
    code = state["national_code"]
    user = User.objects.filter(national_code=code, is_active=True).first()
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if user is None or device is None:
        return redirect("identity:login")
    form = TotpForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        if ratelimit.is_locked(ratelimit.CODE_FAILURES, code):
            form.add_error(None, _msg_code_locked())
            return render(request, "identity/totp_login.html", context, status=429)
        if totp.verify(device, form.cleaned_data["code"]):
            return _finish_login(request, user, "otp+totp")
        locked = _code_failure(
            request, form, "identity/totp_login.html", context, code, AuthEvent.Kind.TOTP_FAILED
        )
        if locked:
            return locked
        form.add_error(None, _("The authenticator code is not correct."))
    return render(request, "identity/totp_login.html", context)


@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if request.user.is_authenticated:
            logout(request)
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
    return render(
        request,
        "identity/step_up.html",
        {
            "target": target,
            "service": service,
            "level": user.assurance_level,
            "steps": steps,
            "done": user.assurance_level >= target,
            "next": next_url,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def photo(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = PhotoForm(request.POST or None, request.FILES or None)
    next_url = _safe_next(request, reverse("identity:step_up"))
    if request.method == "POST" and form.is_valid():
        try:
            matches = registry_checks.photo_matches(user.national_code, form.cleaned_data["photo"])
        except registry_checks.RegistryUnavailable:
            form.add_error(None, _msg_unavailable())
        else:
            if matches:
                assurance.mark_photo_checked(user, request)
                messages.success(request, _("Your photo matches the civil registration photo."))
                return redirect(next_url)
            audit.record(AuthEvent.Kind.PHOTO_CHECKED, request, user=user, result="no_match")
            form.add_error(None, _("The photo does not match the civil registration photo."))
    return render(request, "identity/photo.html", {"form": form, "next": next_url})


@login_required
@require_http_methods(["GET", "POST"])
def totp_enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    next_url = _safe_next(request, reverse("identity:step_up"))
    device = TotpDevice.objects.filter(user=user).first()
    if device is not None and device.confirmed_at is not None:
        messages.info(request, _("Your authenticator app is already enrolled."))
        return redirect(next_url)
    if device is None:
        device = totp.start_enrolment(user)
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if totp.verify(device, form.cleaned_data["code"]):
            audit.record(AuthEvent.Kind.TOTP_ENROLLED, request, user=user)
            assurance.recompute(user, request)
            messages.success(request, _("Your authenticator app is enrolled."))
            return redirect(next_url)
        form.add_error(None, _("The authenticator code is not correct."))
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
@require_http_methods(["GET", "POST"])
def signing_key(request: HttpRequest) -> HttpResponse:
    user = request.user
    next_url = _safe_next(request, reverse("identity:step_up"))
    nonce = request.session.get(SIGNING_NONCE_KEY)
    if not nonce or request.method == "GET":
        nonce = secrets.token_urlsafe(16)
        request.session[SIGNING_NONCE_KEY] = nonce
    challenge = assurance.signing_challenge(user, nonce)
    form = SigningKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key = assurance.enroll_signing_key(
                user, form.cleaned_data["public_key"], form.cleaned_data["signature"], challenge
            )
        except assurance.SigningKeyError as exc:
            form.add_error(None, str(exc))
        else:
            request.session.pop(SIGNING_NONCE_KEY, None)
            audit.record(
                AuthEvent.Kind.SIGNING_KEY_ENROLLED, request, user=user, fingerprint=key.fingerprint
            )
            assurance.recompute(user, request)
            messages.success(request, _("Your signing key is enrolled."))
            return redirect(next_url)
    return render(
        request,
        "identity/signing_key.html",
        {"form": form, "challenge": challenge.decode(), "next": next_url},
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
    request.session.pop(audit.ACTING_SESSION_KEY, None)
    return redirect("identity:delegations")
