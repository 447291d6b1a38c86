"""Issued permits' pages: the public page reached by the QR code (with ratings), the check of a
signed permit, the PDF, the holder's "my licences" and the authority staff's page for a permit.

Thin: the rules are in :mod:`.ratings` and :mod:`.holding`, issuing and signing in
:mod:`.issuing`.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from panjereh.catalogue import roles
from panjereh.common import ratelimit
from panjereh.common.persian import to_latin_digits
from panjereh.services import documents

from . import holding, issuing, ratings
from .models import HolderRating, IssuedPermit, PermitEvent, PermitStatus

# Rating and answering forms sent per person (mistakes included): a flood is slowed down.
RATING_POSTS = ratelimit.Limit("permits-rating-post", limit=30, window=10 * 60, lockout=10 * 60)
PUBLIC_MAX_AGE = 30  # seconds a shared cache may keep an anonymous copy of a public page
MAX_TOKEN = 20_000
MAX_UPLOAD = 5 * 1024 * 1024


def _canonical(raw: str) -> str:
    return to_latin_digits(raw or "").strip()


def _not_found(request: HttpRequest, raw: str) -> HttpResponse:
    number = _canonical(raw)
    if not issuing.valid_number(number):
        title = _("This is not a valid permit ID")
        text = _(
            "A permit ID has 12 digits and its last digit checks the others; this one does not. "
            "Check the digits, or scan the QR code on the permit again."
        )
    else:
        title = _("No permit with this ID")
        text = _(
            "No permit with this ID was issued through the national window. A paper that shows "
            "this ID is not a valid permit."
        )
    return render(
        request,
        "permits/issued_not_found.html",
        {"title": title, "message": text},
        status=404,
    )


def _find(raw: str) -> IssuedPermit | None:
    number = _canonical(raw)
    if not issuing.valid_number(number):
        return None
    # One query: the permit with its type and authority (unique index on number).
    return (
        IssuedPermit.objects.select_related("permit", "authority", "company")
        .filter(number=number)
        .first()
    )


def _public_context(request: HttpRequest, issued: IssuedPermit, **extra) -> dict:
    user = request.user if request.user.is_authenticated else None
    summary = ratings.summary(issued)
    history = list(
        PermitEvent.objects.filter(issued=issued)
        .only("at", "kind", "from_status", "to_status", "note")
        .order_by("at", "id")
    )
    mine = ratings.already_rated(user, issued) if user else None
    holder = holding.is_holder(user, issued, fresh=False) if user else False
    return {
        "issued": issued,
        "history": history,
        "summary": summary,
        "min_ratings": ratings.min_public_ratings(),
        "rateable": issued.status in ratings.RATEABLE,
        "my_rating": mine,
        "is_holder": holder,
        "is_staff": bool(user) and holding.is_staff(user, issued, roles.READ),
        "can_moderate": bool(user) and roles.can(user, roles.MODERATE),
        "stars_choices": [1, 2, 3, 4, 5],
        "values": {"stars": "", "comment": ""},
        "error": None,
        "error_field": "",
        "answer_error": None,
        "answer_for": None,
        **extra,
    }


@require_http_methods(["GET", "HEAD", "POST"])
def public(request: HttpRequest, number: str) -> HttpResponse:
    """The public page of an issued permit (the QR code's address); POST: rate the holder."""
    issued = _find(number)
    if issued is None:
        return _not_found(request, number)
    if request.method != "POST" and issued.number != number:
        return redirect("permits:public", issued.number)
    if request.method == "POST":
        return _rate(request, issued)
    response = render(
        request,
        "permits/issued_public.html",
        _public_context(request, issued, saved=request.GET.get("saved")),
    )
    if request.user.is_authenticated:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        # Short: a suspension or revocation shows within half a minute everywhere.
        patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    patch_vary_headers(response, ["Cookie", "Accept-Language"])
    return response


def _rate(request: HttpRequest, issued: IssuedPermit) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("permits:public", args=[issued.number]))
    values = {"stars": request.POST.get("stars", ""), "comment": request.POST.get("comment", "")}
    if ratelimit.hit(RATING_POSTS, f"user:{request.user.pk}"):
        error, field, status = _("Too many attempts. Please try again later."), "", 429
    else:
        try:
            ratings.rate(request.user, issued, stars=values["stars"], comment=values["comment"])
        except ratings.RatingError as exc:
            error, field, status = str(exc), exc.field, 400
        else:
            return redirect(reverse("permits:public", args=[issued.number]) + "?saved=1#ratings")
    context = _public_context(request, issued, values=values, error=error, error_field=field)
    response = render(request, "permits/issued_public.html", context, status=status)
    patch_cache_control(response, private=True, no_cache=True)
    return response


@login_required
@require_POST
def answer(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    issued = _find(number)
    rating = HolderRating.objects.filter(pk=pk, issued=issued).first() if issued else None
    if rating is None:
        return _not_found(request, number)
    text = request.POST.get("answer", "")
    try:
        if ratelimit.hit(RATING_POSTS, f"user:{request.user.pk}"):
            raise ratings.RatingError(_("Too many attempts. Please try again later."), "limited")
        ratings.answer(request.user, rating, text)
    except roles.NotPermitted as exc:
        return _message(request, _("Answer a rating"), str(exc.args[0] if exc.args else exc), 403)
    except ratings.RatingError as exc:
        context = _public_context(
            request, issued, answer_error=str(exc), answer_for=rating.pk, answer_text=text
        )
        return render(request, "permits/issued_public.html", context, status=400)
    return redirect(reverse("permits:public", args=[issued.number]) + f"#rating-{rating.pk}")


@login_required
@require_POST
def hide(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    issued = _find(number)
    rating = HolderRating.objects.filter(pk=pk, issued=issued).first() if issued else None
    if rating is None:
        return _not_found(request, number)
    try:
        ratings.hide(request.user, rating, hidden=request.POST.get("hidden", "1") == "1")
    except roles.NotPermitted as exc:
        return _message(request, _("Hide a rating"), str(exc.args[0] if exc.args else exc), 403)
    return redirect(reverse("permits:public", args=[issued.number]) + "#ratings")


def _message(request: HttpRequest, title, text, status: int) -> HttpResponse:
    return render(
        request, "permits/issued_not_found.html", {"title": title, "message": text}, status=status
    )


@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Check a permit's signed document: its text pasted, or its PDF uploaded."""
    verdict, error = None, None
    token = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is not None:
            if upload.size > MAX_UPLOAD:
                error = _("The file is too large (at most 5 MB).")
            else:
                token = documents.token_from_file(upload.read())
        else:
            token = (request.POST.get("token") or "")[:MAX_TOKEN].strip()
        if not error:
            if not token:
                error = _("Paste the text of a signed permit, or choose its PDF file.")
            else:
                verdict = issuing.verify(token)
    return render(
        request,
        "permits/issued_verify.html",
        {"verdict": verdict, "error": error},
        status=400 if error else 200,
    )


def _may_download(user, issued: IssuedPermit) -> bool:
    return holding.is_holder(user, issued, fresh=False) or holding.is_staff(
        user, issued, roles.READ
    )


@login_required
@require_safe
def pdf(request: HttpRequest, number: str) -> HttpResponse:
    """The permit on paper, for its holder and the authority's staff (anyone else: 404)."""
    issued = _find(number)
    if issued is None or not _may_download(request.user, issued):
        return _not_found(request, number)
    response = HttpResponse(issuing.render_pdf(issued), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="permit-{issued.number}.pdf"'
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_safe
def mine(request: HttpRequest) -> HttpResponse:
    """My licences: those issued to me, and those of the company I act for now."""
    from panjereh.identity.businesses import acting_for

    acting = acting_for(request)
    where = Q(holder=request.user)
    if acting is not None:
        where |= Q(company=acting.company)
    permits = list(
        IssuedPermit.objects.filter(where)
        .select_related("permit", "authority", "company")
        .order_by("-issued_at", "-id")[:200]
    )
    counts: dict[int, int] = {}
    for issued_id in HolderRating.objects.filter(
        issued__in=[p.pk for p in permits], hidden=False, answered_at__isnull=True
    ).values_list("issued_id", flat=True):
        counts[issued_id] = counts.get(issued_id, 0) + 1
    rows = [
        {
            "issued": issued,
            "actions": [
                a for a in holding.available(request.user, issued) if a in ("renew", "cancel")
            ],
            "to_answer": counts.get(issued.pk, 0),
        }
        for issued in permits
    ]
    response = render(
        request,
        "permits/issued_mine.html",
        {"rows": rows, "acting": acting, "done": request.GET.get("done")},
    )
    patch_cache_control(response, private=True, no_cache=True)
    return response


HOLDER_ACTIONS = ("renew", "cancel")
STAFF_ACTIONS = ("amend", "suspend", "reinstate", "revoke")


@login_required
@require_POST
def act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """The holder renews or cancels their permit (from "my licences")."""
    issued = _find(number)
    if issued is None or action not in HOLDER_ACTIONS:
        return _not_found(request, number)
    try:
        if action == "renew":
            holding.renew(request.user, issued)
        else:
            holding.cancel(request.user, issued, request.POST.get("reason", ""))
    except roles.NotPermitted as exc:
        return _message(request, _("My licences"), str(exc.args[0] if exc.args else exc), 403)
    except ValidationError as exc:
        return _message(request, _("My licences"), "; ".join(exc.messages), 400)
    return redirect(reverse("permits:mine") + f"?done={action}")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def manage(request: HttpRequest, number: str) -> HttpResponse:
    """The issuing authority's staff page for one permit: amend, suspend, reinstate, revoke."""
    issued = _find(number)
    if issued is None or not holding.is_staff(request.user, issued, roles.READ):
        return _not_found(request, number)
    error, error_field, values, status = None, "", {}, 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        values = {k: request.POST.get(k, "") for k in ("reason", "business_name", "province")}
        try:
            if action == "amend":
                holding.amend(
                    request.user,
                    issued,
                    business_name=values["business_name"],
                    province=values["province"],
                    note=values["reason"],
                )
            elif action == "suspend":
                holding.suspend(request.user, issued, values["reason"])
            elif action == "reinstate":
                holding.reinstate(request.user, issued, values["reason"])
            elif action == "revoke":
                holding.revoke(request.user, issued, values["reason"])
            else:
                raise ratings.RatingError(_("Choose what to do."), "action")
        except roles.NotPermitted as exc:
            error, status = str(exc.args[0] if exc.args else exc), 403
        except ratings.RatingError as exc:
            error, error_field, status = str(exc), exc.field, 400
        except ValidationError as exc:
            error, status = "; ".join(exc.messages), 400
        else:
            return redirect(reverse("permits:manage", args=[issued.number]) + f"?done={action}")
    response = render(
        request,
        "permits/issued_manage.html",
        {
            "issued": issued,
            "history": list(issued.history.select_related("by").order_by("at", "id")),
            "actions": holding.available(request.user, issued),
            "error": error,
            "error_field": error_field,
            "values": values
            or {"business_name": issued.business_name, "province": issued.province, "reason": ""},
            "done": request.GET.get("done"),
            "statuses": PermitStatus,
        },
        status=status,
    )
    patch_cache_control(response, private=True, no_cache=True)
    return response
