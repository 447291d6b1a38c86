"""The agency service designer: pages where an agency's officers build, try and publish their
service definitions without writing JSON (issue 14).

Thin views over ``services.design`` (the lifecycle and its rights), ``services.definitions``
(validation and the plain-words reasons a draft is not smart) and ``services.testrun``.

Who sees what: a definition is shown to the staff of its agency (any membership) and to AEO
(who certifies every agency's smart definitions); another agency's answers 404, so its
existence is not disclosed. Every write is an operation of ``design`` (or the exchange's
``grants.request_grant``), which asks the rights again; a refusal there is a 403.

Everything works with JavaScript off (plain forms, POST and redirect); ``designer.js`` adds the
validation as the officer types (``check.json``) and the live document preview.
"""

from __future__ import annotations

import hashlib
import json
import re

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency, Service
from panjereh.common.persian import to_latin_digits
from panjereh.common.templatetags.persian import digits

from . import definitions, design, testrun
from . import designer_forms as dforms
from .definitions import DefinitionError
from .models import DefinitionStatus, ServiceDefinition

S = DefinitionStatus
ACTIONS = ("submit", "send_back", "certify", "publish", "rollback", "retire")
PREVIEW_SECONDS = 600  # how long a sample person's fetched data serves the live preview
PERSIAN_LETTER = re.compile(r"[\u0600-\u06ff]")


# -- who sees what ------------------------------------------------------------------------------


def _sees_all(user) -> bool:
    return roles.can(user, roles.CERTIFY)


def _visible(user):
    found = ServiceDefinition.objects.select_related("agency", "service")
    if _sees_all(user):
        return found
    return found.filter(agency_id__in=roles.agencies_for(user, roles.READ))


def _staff(request: HttpRequest):
    """None for the designer's users (agency staff, AEO), else the answer to give."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not (_sees_all(request.user) or roles.agencies_for(request.user, roles.READ)):
        raise PermissionDenied(_("The service designer is for agency staff and AEO."))
    return None


def _definition(request: HttpRequest, pk: int) -> ServiceDefinition:
    return get_object_or_404(_visible(request.user), pk=pk)


def _editable_agencies(user) -> list[Agency]:
    return list(
        Agency.objects.filter(pk__in=roles.agencies_for(user, roles.EDIT)).order_by("name_fa")
    )


def _lang() -> str:
    return "en" if (get_language() or "fa").startswith("en") else "fa"


# -- the list -----------------------------------------------------------------------------------


@require_http_methods(["GET"])
def index(request: HttpRequest) -> HttpResponse:
    refusal = _staff(request)
    if refusal:
        return refusal
    rows = _visible(request.user).order_by("agency__name_fa", "code", "-version")
    status = request.GET.get("status", "")
    if status in S.values:
        rows = rows.filter(status=status)
    services: dict[str, dict] = {}
    for row in rows[:1000]:
        entry = services.setdefault(
            row.code, {"code": row.code, "agency": row.agency, "newest": row, "versions": []}
        )
        entry["versions"].append(row)
    return render(
        request,
        "services/designer/index.html",
        {
            "services": list(services.values()),
            "can_create": bool(_editable_agencies(request.user)),
            "sees_all": _sees_all(request.user),
            "statuses": S.choices,
            "status": status,
        },
    )


# -- a new draft --------------------------------------------------------------------------------


def _free_cards(agencies: list[Agency]) -> list[Service]:
    """The agencies' catalogue cards no definition implements yet."""
    implemented = ServiceDefinition.objects.values_list("service_id", flat=True)
    return list(
        Service.objects.filter(agency__in=agencies, service_id__isnull=False)
        .exclude(service_id="")
        .exclude(pk__in=implemented)
        .order_by("title_fa")[:500]
    )


@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    refusal = _staff(request)
    if refusal:
        return refusal
    agencies = _editable_agencies(request.user)
    if not agencies:
        raise PermissionDenied(_("Only the agency's editors can draft its service definitions."))
    form = dforms.NewDraftForm(request.POST or None, agencies=agencies, cards=_free_cards(agencies))
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        agency = form.agencies[form.cleaned_data["agency"]]
        card = form.cards.get(form.cleaned_data["card"] or "")
        spec = dforms.skeleton(
            agency,
            code=form.cleaned_data["code"],
            title_fa=form.cleaned_data["title_fa"],
            title_en=form.cleaned_data["title_en"],
            service_id=card.service_id if card else dforms.new_service_id(),
        )
        try:
            definition = design.create_draft(agency, spec, actor=request.user, note="designer")
        except DefinitionError as exc:
            problems = exc.problems
        else:
            messages.success(request, _("The draft was created. Pick the data it needs."))
            return redirect("services:designer_version", definition.pk)
    return render(
        request,
        "services/designer/new.html",
        {"form": form, "problems": problems},
        status=400 if request.method == "POST" else 200,
    )


# -- one version: the edit form, the actions, the history ---------------------------------------


def _catalogue(definition: ServiceDefinition) -> list[dforms.CatalogueService]:
    return dforms.registry_catalogue(definition.agency, definition.service)


def _reasons(spec: dict) -> list[dict[str, str]]:
    lang = _lang()
    return [
        {
            "code": r.code,
            "part": r.part,
            "text": r.text(lang),
            "field": dforms.field_for_part(r.part),
        }
        for r in definitions.explain(spec)
    ]


def _checked(spec: dict) -> tuple[list[str], list[dict[str, str]]]:
    """(problems that are not smartness reasons, smartness reasons)."""
    reasons = _reasons(spec)
    texts = {r["text"] for r in reasons}
    problems = [p for p in definitions.validate(spec) if p not in texts]
    return problems, reasons


def sample_people() -> list[dict[str, str]]:
    """A few people of the simulated registries to try a service with (their index in the
    population, what fits them). ``PANJEREH_DESIGNER_SAMPLE_PEOPLE`` (national codes) replaces
    them where the registries are real."""
    from panjereh.common.conf import setting

    configured = setting("PANJEREH_DESIGNER_SAMPLE_PEOPLE", None)
    if isinstance(configured, str):  # from the environment: national codes, comma-separated
        configured = [code.strip() for code in configured.split(",") if code.strip()]
    if configured:
        return [{"national_code": code, "label": code} for code in configured]
    found = cache.get("designer:samples")
    if found is not None:
        return found
    from panjereh.registries import PROFILES
    from panjereh.registries.population import Population

    population = Population(size=PROFILES[setting("PANJEREH_DESIGNER_SAMPLE_PROFILE", "small")])
    wanted = {
        "student": (
            _("an enrolled student"),
            lambda i: population.student_status(i)["enrolled"],
        ),
        "veteran": (_("a veteran"), lambda i: population.veteran_status(i)["is_veteran"]),
        "record": (
            _("with a criminal record"),
            lambda i: population.criminal_record(i)["has_record"],
        ),
        "clean": (
            _("no criminal record"),
            lambda i: not population.criminal_record(i)["has_record"],
        ),
        "minor": (_("under 18"), lambda i: population.person(i)["age"] < 18),
    }
    found = []
    for i in range(min(population.size, 5000)):
        if not wanted:
            break
        person = population.person(i)
        if not person["alive"]:
            continue
        for key, (label, fits) in list(wanted.items()):
            if (key == "minor" or person["age"] >= 18) and fits(i):
                found.append(
                    {
                        "national_code": population.national_code(i),
                        "label": f"{person['first_name']} {person['last_name']} — {label}",
                    }
                )
                del wanted[key]
                break
    cache.set("designer:samples", found, 3600)
    return found


def _edit_context(
    request: HttpRequest,
    definition: ServiceDefinition,
    spec: dict,
    *,
    errors: dict | None = None,
    preview: dict | None = None,
    preview_problem: str = "",
) -> dict:
    catalogue = _catalogue(definition)
    problems, reasons = _checked(spec)
    errors = errors or {}
    rows = dforms.rows_of(spec)
    numbered = {}
    for prefix, key in (
        ("rule", "rules"),
        ("input", "inputs"),
        ("upload", "uploads"),
        ("visit", "visits"),
        ("docfield", "docfields"),
        ("feerule", "fee_rules"),
    ):
        numbered[f"{prefix}_rows"] = [
            {
                **row,
                "n": n,
                "ns": str(n),
                "number": n + 1,
                "err": {
                    name.rsplit("-", 1)[1]: texts
                    for name, texts in errors.items()
                    if name.startswith(f"{prefix}-{n}-")
                },
            }
            for n, row in enumerate(rows[key])
        ]
    for service in catalogue:
        service.picked = sum(1 for item in service.items if item.key in rows["picked"])
    # A refusal that is a smartness reason links to the part of the form at fault.
    reason_fields = {reason["text"]: reason["field"] for reason in reasons}
    error_list = [
        (reason_fields.get(str(text), "") if name == "__all__" else name, text)
        for name, texts in errors.items()
        for text in texts
    ]
    return {
        **numbered,
        "error_list": error_list,
        "sample": request.POST.get("sample", "") if request.method == "POST" else "",
        "definition": definition,
        "spec": spec,
        "rows": rows,
        "catalogue": catalogue,
        "paths": dforms.field_paths(spec, catalogue),
        "operators": list(dforms.OPERATOR_LABELS.items()),
        "fee_operators": [(op, dforms.OPERATOR_LABELS[op]) for op in dforms.FEE_OPERATORS],
        "typed_inputs": [
            (f"input.{item['code']}", item.get("label_fa") or item["code"], item.get("label_en"))
            for item in spec.get("inputs", [])
            if item.get("code")
        ],
        "levels": list(dforms.ASSURANCE_LABELS.items()),
        "errors": errors,
        "problems": problems,
        "reasons": reasons,
        "samples": sample_people(),
        "preview": preview,
        "preview_problem": preview_problem,
        "json_text": json.dumps(spec, ensure_ascii=False, indent=2),
    }


def _version_context(request: HttpRequest, definition: ServiceDefinition) -> dict:
    allowed = design.actions(definition, request.user)
    return {
        "definition": definition,
        "allowed": allowed,
        "buttons": [a for a in ACTIONS if a in allowed],
        "history": [
            {
                "event": event,
                "from": S(event.from_status).label if event.from_status in S.values else "",
                "to": S(event.to_status).label if event.to_status in S.values else "",
                # A note is read in the language it was written in.
                "note_lang": "fa" if PERSIAN_LETTER.search(event.note or "") else "en",
            }
            for event in design.history(definition)
        ],
        "versions": ServiceDefinition.objects.filter(code=definition.code).order_by("-version"),
        "can_new_version": definition.status != S.DRAFT
        and roles.can(request.user, roles.EDIT, definition.agency_id)
        and not ServiceDefinition.objects.filter(code=definition.code, status=S.DRAFT).exists(),
        "can_test": roles.can(request.user, roles.CERTIFY)
        or roles.can(request.user, roles.EDIT, definition.agency_id),
    }


@require_http_methods(["GET", "POST"])
def version(request: HttpRequest, pk: int) -> HttpResponse:
    """A version: the edit form when it is a draft the officer may change, else what it says;
    its actions and history either way."""
    refusal = _staff(request)
    if refusal:
        return refusal
    definition = _definition(request, pk)
    context = _version_context(request, definition)
    editable = "update" in context["allowed"]
    if request.method == "GET":
        if editable:
            context.update(_edit_context(request, definition, definition.spec))
        else:
            problems, reasons = _checked(definition.spec)
            context.update(
                {
                    "spec": definition.spec,
                    "problems": problems,
                    "reasons": reasons,
                    "json_text": design.export_json(definition),
                }
            )
        context["editable"] = editable
        return render(request, "services/designer/version.html", context)
    # POST: save the form (or the advanced JSON), or show the preview without saving.
    if not editable:
        raise PermissionDenied(_("Only a draft can be changed, by its agency's editors."))
    action = request.POST.get("action", "save")
    errors: dict = {}
    if action == "save_json":
        try:
            spec = design.parse_json(request.POST.get("spec_json", ""))
        except DefinitionError as exc:
            spec = definition.spec
            errors = {"spec_json": exc.problems}
    else:
        parsed = dforms.spec_from_post(request.POST, definition.spec, _catalogue(definition))
        spec, errors = parsed.spec, parsed.errors
    preview, preview_problem = None, ""
    if action == "preview":
        preview, preview_problem = _preview(
            request, definition, spec, request.POST.get("sample", "")
        )
    elif not errors:
        try:
            design.update_draft(definition, spec, actor=request.user, note="designer")
        except DefinitionError as exc:
            errors = {"__all__": exc.problems}
        except design.InvalidTransition as exc:
            errors = {"__all__": exc.messages}
        else:
            messages.success(request, _("The draft was saved."))
            return redirect(reverse("services:designer_version", args=[pk]) + "#checks")
    context.update(
        _edit_context(
            request,
            definition,
            spec,
            errors=errors,
            preview=preview,
            preview_problem=preview_problem,
        )
    )
    context["editable"] = True
    context["unsaved"] = action == "preview"
    if action == "save_json" and errors:  # the text comes back as typed, to be corrected
        context["json_text"] = request.POST.get("spec_json", "")[: design.MAX_IMPORT_BYTES]
    return render(request, "services/designer/version.html", context, status=400 if errors else 200)


# -- validation as the officer types ------------------------------------------------------------


@require_POST
def check(request: HttpRequest, pk: int) -> JsonResponse:
    """The posted form's problems and the reasons it is not smart (nothing is saved), and the
    document preview when a sample person's data was fetched in the last minutes."""
    refusal = _staff(request)
    if refusal:
        return JsonResponse({"error": "sign in"}, status=403)
    definition = _definition(request, pk)
    if "update" not in design.actions(definition, request.user):
        return JsonResponse({"error": _("Only a draft can be changed.")}, status=403)
    parsed = dforms.spec_from_post(request.POST, definition.spec, _catalogue(definition))
    problems, reasons = _checked(parsed.spec)
    field_errors = [
        {"field": name, "text": str(text)}
        for name, texts in parsed.errors.items()
        for text in texts
    ]
    answer = {
        "valid": not problems and not reasons and not field_errors,
        "smart": bool(parsed.spec.get("smart")) and not reasons,
        "problems": problems,
        "reasons": reasons,
        "fields": field_errors,
        "paths": dforms.field_paths(parsed.spec, _catalogue(definition)),
    }
    sample = request.POST.get("sample", "")
    data = cache.get(_preview_key(request, definition, parsed.spec, sample)) if sample else None
    if data is not None and not problems:
        try:
            document = testrun.preview(parsed.spec, data, sample)
        except (KeyError, TypeError, ValueError):
            document = None
        if document is not None:
            answer["preview"] = render_to_string(
                "services/designer/_document.html", {"document": document}, request=request
            )
    return JsonResponse(answer)


def _preview_key(request, definition, spec: dict, national_code: str) -> str:
    fetches = json.dumps(
        [spec.get("data", []), [i.get("code") for i in spec.get("inputs", [])]], sort_keys=True
    )
    digest = hashlib.sha256(fetches.encode()).hexdigest()[:24]
    return f"designer:preview:{request.user.pk}:{definition.pk}:{national_code}:{digest}"


def _sample_code(raw: str) -> str:
    from panjereh.identity.validators import is_valid_national_code

    code = to_latin_digits((raw or "").strip())[:10]
    return code if is_valid_national_code(code) else ""


def _preview(request, definition, spec: dict, raw: str) -> tuple[dict | None, str]:
    """Fetch the sample person's data (a test run: through the exchange, nothing issued), keep
    it a few minutes for the live preview, and render the document."""
    national_code = _sample_code(raw)
    if not national_code:
        return None, _("Choose a sample person, or enter a valid national code.")
    problems = definitions.validate(spec)
    if problems:
        return None, _("Correct the draft first: the preview needs a valid definition.")
    run = testrun.test_run(spec, national_code, actor=request.user)
    if run.document is None:
        stopped = [s for s in run.steps if s.outcome not in ("received", "complete", "approved")]
        why = (stopped[-1].text_en if _lang() == "en" else stopped[-1].text_fa) if stopped else ""
        return None, _("No document for this person: %(why)s") % {"why": why or run.outcome}
    cache.set(
        _preview_key(request, definition, spec, national_code),
        testrun.data_of(run),
        PREVIEW_SECONDS,
    )
    return run.document, ""


# -- the test run ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def test_page(request: HttpRequest, pk: int) -> HttpResponse:
    refusal = _staff(request)
    if refusal:
        return refusal
    definition = _definition(request, pk)
    run, problem = None, ""
    national_code = ""
    inputs = {item["code"]: "" for item in definition.spec.get("inputs", [])}
    if request.method == "POST":
        national_code = _sample_code(request.POST.get("national_code", ""))
        inputs = {
            code: design.plain(request.POST.get(f"input-{code}", ""))[:1000] for code in inputs
        }
        if not national_code:
            problem = _("Choose a sample person, or enter a valid national code.")
        else:
            run = testrun.test_run(definition, national_code, actor=request.user, inputs=inputs)
    return render(
        request,
        "services/designer/test.html",
        {
            "definition": definition,
            "samples": sample_people(),
            "national_code": national_code,
            "inputs": [
                (item, inputs.get(item["code"], "")) for item in definition.spec.get("inputs", [])
            ],
            "run": run,
            "problem": problem,
        },
        status=400 if problem else 200,
    )


# -- the lifecycle --------------------------------------------------------------------------------


@require_POST
def act(request: HttpRequest, pk: int) -> HttpResponse:
    refusal = _staff(request)
    if refusal:
        return refusal
    definition = _definition(request, pk)
    action = request.POST.get("action", "")
    note = design.plain(request.POST.get("note", "")).strip()[:1000]
    if action not in ACTIONS:
        raise Http404
    target = definition
    try:
        if action == "submit":
            design.submit(definition, actor=request.user, note=note)
        elif action == "send_back":
            design.send_back(definition, note, actor=request.user)
        elif action == "certify":
            design.certify(definition, actor=request.user, note=note)
        elif action == "publish":
            design.publish(definition, actor=request.user, note=note)
        elif action == "rollback":
            target = design.rollback(definition.code, actor=request.user, note=note)
        elif action == "retire":
            design.retire(definition, actor=request.user, note=note)
    except (design.InvalidTransition, DefinitionError) as exc:
        text = exc.problems if isinstance(exc, DefinitionError) else exc.messages
        context = _version_context(request, definition)
        problems, reasons = _checked(definition.spec)
        context.update(
            {
                "spec": definition.spec,
                "problems": problems,
                "reasons": reasons,
                "json_text": design.export_json(definition),
                "editable": False,
                "action_errors": text,
            }
        )
        return render(request, "services/designer/version.html", context, status=400)
    done = {
        "submit": _("The draft was submitted for review."),
        "send_back": _("The version was sent back to its authors."),
        "certify": _("The version was certified as smart."),
        "publish": _("The version was published: new applications use it."),
        "rollback": _("The previous version was published again."),
        "retire": _("The version was retired."),
    }
    messages.success(request, done[action])
    return redirect("services:designer_version", target.pk)


@require_POST
def new_version(request: HttpRequest, pk: int) -> HttpResponse:
    """A new draft from this version's content (the next version number)."""
    refusal = _staff(request)
    if refusal:
        return refusal
    definition = _definition(request, pk)
    try:
        draft = design.create_draft(
            definition.agency,
            definition.spec,
            actor=request.user,
            note=f"from version {definition.version}",
        )
    except DefinitionError as exc:
        messages.error(request, "; ".join(exc.problems))
        return redirect("services:designer_version", pk)
    return redirect("services:designer_version", draft.pk)


# -- data access ------------------------------------------------------------------------------------


@require_POST
def request_access(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask the Interoperability Working Group for the items of one data service the draft
    needs and the agency holds no grant for (the exchange's grant workflow)."""
    from panjereh.exchange import grants
    from panjereh.exchange.models import DataService

    refusal = _staff(request)
    if refusal:
        return refusal
    definition = _definition(request, pk)
    service = get_object_or_404(DataService, pk=request.POST.get("service", "0") or 0, enabled=True)
    entry = next((s for s in _catalogue(definition) if s.pk == service.pk), None)
    wanted = [
        item.code
        for item in (entry.items if entry else [])
        if not item.granted and not item.requested
    ]
    picked = set(request.POST.getlist("item")) & set(wanted)
    items = sorted(picked or wanted)
    if not items:
        messages.info(request, _("Your agency holds or has asked for every item of this service."))
        return redirect(reverse("services:designer_version", args=[pk]) + "#data")
    justification = design.plain(request.POST.get("justification", "")).strip()[:2000] or _(
        "Needed by the service “%(title)s” (%(code)s), designed in the national window."
    ) % {"title": definition.title_fa, "code": definition.code}
    try:
        with transaction.atomic():
            grant = grants.request_grant(
                definition.agency,
                service,
                items,
                definition.service,
                actor=request.user,
                note=justification,
            )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect(reverse("services:designer_version", args=[pk]) + "#data")
    messages.success(
        request,
        _("Your request for access was sent to the Interoperability Working Group (request %(n)s).")
        % {"n": digits(grant.pk)},
    )
    return redirect(reverse("exchange:grant", args=[grant.pk]))


# -- JSON ---------------------------------------------------------------------------------------------


@require_http_methods(["GET"])
def export(request: HttpRequest, pk: int) -> HttpResponse:
    refusal = _staff(request)
    if refusal:
        return refusal
    definition = _definition(request, pk)
    response = HttpResponse(
        design.export_json(definition), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{definition.code}-v{definition.version}.json"'
    )
    return response


@require_http_methods(["GET", "POST"])
def import_definition(request: HttpRequest) -> HttpResponse:
    refusal = _staff(request)
    if refusal:
        return refusal
    if not _editable_agencies(request.user):
        raise PermissionDenied(_("Only the agency's editors can draft its service definitions."))
    problems: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            problems = [_("Choose a definition file (JSON) to import.")]
        elif upload.size > design.MAX_IMPORT_BYTES:
            problems = [_("The file is larger than 1 MB.")]
        else:
            raw = upload.read(design.MAX_IMPORT_BYTES + 1)
            try:
                spec = design.parse_json(raw)
                agency = Agency.objects.filter(code=spec["agency"]["code"]).first()
                if agency is None or agency.pk not in roles.agencies_for(request.user, roles.EDIT):
                    raise DefinitionError(
                        spec["code"],
                        [
                            _("The file names the agency %(code)s; you draft for another.")
                            % {"code": spec["agency"]["code"]}
                        ],
                    )
                definition = design.import_json(raw, actor=request.user)
            except DefinitionError as exc:
                problems = exc.problems
            else:
                messages.success(
                    request,
                    _("Imported as version %(v)s, a draft.") % {"v": digits(definition.version)},
                )
                return redirect("services:designer_version", definition.pk)
    return render(
        request,
        "services/designer/import.html",
        {"problems": problems},
        status=400 if problems else 200,
    )
