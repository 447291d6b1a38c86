"""Bill templates (لوایح): the catalogue, filling one for a case, the bill and its receipt.

Thin: who may, the answers, the text and the sending are :mod:`.pleadings` and :mod:`.bills`.
The journey: the catalogue → a template → the case (one question on its page) → the plain
questions (one form; refused answers come back with the error summary first and the form as
typed) → the composed text → confirm → the bill's page (its state, then its signed receipt).
"""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from panjereh.services import documents

from . import bills, pleadings


def _sana_required(view):
    """Bills are for SANA holders: anyone else is sent to SANA with a plain word why."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if pleadings.sana_account(request.user) is None:
            messages.info(
                request,
                _(
                    "Bills are sent through your SANA account, the judiciary's account for "
                    "electronic services. Register for SANA first; it takes a minute, without a "
                    "visit."
                ),
            )
            return redirect("judiciary:sana")
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _template_or_404(code: str) -> bills.Template:
    template = bills.get(code)
    if template is None:
        raise Http404
    return template


def _case_or_404(user, number: str):
    try:
        return pleadings.case_of(user, number)
    except pleadings.NotAParty as exc:
        raise Http404 from exc


def answer_form(template: bills.Template, data=None) -> forms.Form:
    """A form of the template's questions. It only carries and shows the answers: every check
    is :func:`.bills.clean`'s (through :func:`.pleadings.prepare`)."""
    fields: dict[str, forms.Field] = {}
    for q in template.questions:
        attrs = {"autocomplete": "off", "maxlength": q.limit}
        if q.kind == "long":
            widget: forms.Widget = forms.Textarea(attrs={**attrs, "rows": 6})
        elif q.kind == "choice":
            widget = forms.RadioSelect(choices=q.options())
        elif q.kind in ("number", "amount"):
            widget = forms.TextInput(attrs={**attrs, "inputmode": "numeric"})
        elif q.kind == "date":
            widget = forms.TextInput(attrs={**attrs, "inputmode": "numeric", "dir": "ltr"})
        else:
            widget = forms.TextInput(attrs=attrs)
        fields[q.code] = forms.CharField(
            label=q.label(), help_text=q.hint(), required=False, strip=False, widget=widget
        )
    form_class = type("AnswerForm", (forms.Form,), fields)
    return form_class(data)


def _raw(template: bills.Template, data) -> dict[str, str]:
    return {q.code: data.get(q.code, "") for q in template.questions}


@_sana_required
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    """The templates by category, and the person's bills."""
    # From a case's page (?case=): the templates that fit that case, each for it.
    chosen = party = None
    if request.GET.get("case"):
        chosen, party = _case_or_404(request.user, request.GET["case"])
    groups: dict[str, list[bills.Template]] = {}
    for template in bills.TEMPLATES:
        if chosen is None or template.applies_to(chosen.kind, chosen.stage, party.role):
            groups.setdefault(template.category, []).append(template)
    return render(
        request,
        "judiciary/bills.html",
        {
            "groups": [
                (bills.CATEGORIES[code][0], bills.CATEGORIES[code][1], items)
                for code, items in groups.items()
            ],
            "mine": pleadings.mine(request.user)[:50],
            "cases": pleadings.my_cases(request.user),
            "case": chosen,
            "count": len(bills.TEMPLATES),
            "capacity": bills.CAPACITY,
        },
    )


def _pick_case(request: HttpRequest, template: bills.Template) -> HttpResponse:
    """The case question, on its own page."""
    options = []
    for case, party in pleadings.my_cases(request.user):
        options.append((case, party, template.applies_to(case.kind, case.stage, party.role)))
    error = ""
    status = 200
    if request.GET.get("asked"):  # the question was sent back unanswered
        error = _("Choose the case the bill is for.")
        status = 400
    return render(
        request,
        "judiciary/bill_case.html",
        {
            "template": template,
            "options": options,
            "usable": [o for o in options if o[2]],
            "error": error,
        },
        status=status,
    )


@_sana_required
@require_http_methods(["GET", "POST"])
def bill_new(request: HttpRequest, template: str) -> HttpResponse:
    template_obj = _template_or_404(template)
    number = (request.GET.get("case") or "").strip()
    if not number:
        return _pick_case(request, template_obj)
    case, party = _case_or_404(request.user, number)
    context = {"template": template_obj, "case": case, "party": party}
    if not template_obj.applies_to(case.kind, case.stage, party.role):
        return render(request, "judiciary/bill_unfit.html", context, status=400)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    form = answer_form(template_obj, request.POST if request.method == "POST" else None)
    if action in ("preview", "confirm"):
        form.is_valid()  # binds the answers; the rules are prepare's
        try:
            draft = pleadings.prepare(
                request.user,
                template_obj.code,
                case.number,
                _raw(template_obj, request.POST),
                actor=request.user,
            )
        except pleadings.BillRefused as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
            return render(
                request, "judiciary/bill_form.html", {**context, "form": form}, status=400
            )
        if action == "preview":
            return render(
                request, "judiciary/bill_preview.html", {**context, "form": form, "draft": draft}
            )
        pleading, _created = pleadings.submit(draft, request.user, actor=request.user)
        pleadings.send(pleading.pk)  # the first try now; the job tries again if need be
        return redirect("judiciary:bill", reference=pleading.reference)
    return render(request, "judiciary/bill_form.html", {**context, "form": form})


@_sana_required
@require_GET
def bill(request: HttpRequest, reference: str) -> HttpResponse:
    try:
        pleading = pleadings.own(request.user, reference)
    except pleadings.NotAParty as exc:
        raise Http404 from exc
    paper = pleadings.receipt_paper(pleading) if pleading.receipt_token else None
    link = documents.verification_url(paper) if paper else ""
    return render(
        request,
        "judiciary/bill.html",
        {
            "pleading": pleading,
            "template": bills.get(pleading.template),
            "receipt": paper,
            "verify_url": link,
            "verify_ref": f"{reverse('services:verify')}?ref={pleading.reference}",
            "qr": documents.qr_svg(link) if link else "",
        },
    )


@_sana_required
@require_GET
def bill_pdf(request: HttpRequest, reference: str) -> HttpResponse:
    try:
        pleading = pleadings.own(request.user, reference)
    except pleadings.NotAParty as exc:
        raise Http404 from exc
    if not pleading.receipt_token:
        raise Http404
    response = HttpResponse(pleadings.receipt_pdf(pleading), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pleading.reference}.pdf"'
    return response
