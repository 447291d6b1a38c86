"""The issuing authority's staff draft and publish a new version of a permit: its wording,
legal time, registration-based or not, and its conditions one row each with their legal basis.

Thin: the rules (who may edit, what a condition must hold, a removed condition refused with
its resolution named and the attempt recorded) are :mod:`.operations`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.common.persian import to_latin_digits

from . import operations
from .models import ConditionKind, PermitType, VersionState

TEXTS = ("text_fa", "text_en", "basis_fa", "basis_en")
FIELDS = ("title_fa", "title_en", "summary_fa", "summary_en")
BLANK_ROWS = 2
MAX_ROWS = operations.MAX_CONDITIONS + BLANK_ROWS


def _permit(public_id: str, user) -> PermitType:
    permit = (
        PermitType.objects.select_related("authority", "published_version")
        .filter(public_id=public_id)
        .first()
    )
    # Someone who may not edit it learns nothing about the permit's drafts.
    if permit is None or not operations.can_edit(user, permit.authority):
        raise Http404
    return permit


def _row_count(value: str | None) -> int:
    value = to_latin_digits((value or "").strip())
    count = int(value) if value.isascii() and value.isdigit() and len(value) < 4 else 0
    return min(count, MAX_ROWS)


def _posted(post) -> tuple[dict, list[dict], list[dict]]:
    """The form as posted: the version's fields, the conditions to save (rows left blank are
    dropped: that is how a row is removed) and every row as typed, to show the form again."""
    fields: dict = {name: post.get(name, "") for name in FIELDS}
    fields["registration_based"] = post.get("registration_based") == "on"
    days = to_latin_digits(post.get("legal_days", "").strip())
    fields["legal_days"] = (
        int(days) if days.isascii() and days.isdigit() and len(days) < 6 else days
    )
    rows, conditions = [], []
    for n in range(_row_count(post.get("rows"))):
        row = {"kind": post.get(f"c{n}-kind", "")}
        row.update({name: post.get(f"c{n}-{name}", "") for name in TEXTS})
        rows.append(row)
        if any(row[name].strip() for name in TEXTS):
            conditions.append(row)
    return fields, conditions, rows


def _saved(version) -> tuple[dict, list[dict]]:
    fields = {name: getattr(version, name) for name in FIELDS}
    fields["registration_based"] = version.registration_based
    fields["legal_days"] = version.legal_days
    rows = [
        {"kind": c.kind, **{name: getattr(c, name) for name in TEXTS}}
        for c in version.conditions.order_by("position")
    ]
    return fields, rows


def _anchor(exc: operations.PermitError, rows: list[dict]) -> str:
    """The field a refusal is about, for the error summary's link."""
    if isinstance(exc, operations.Reintroduced):
        for n, row in enumerate(rows):
            if exc.text in (row["text_fa"].strip(), row["text_en"].strip()):
                return f"c{n}-text_fa"
    return ""


def _blank(row: dict) -> bool:
    return not row.get("kind") and not any(row.get(name, "").strip() for name in TEXTS)


def _page(
    request, permit, draft, *, fields, rows, problem=None, blank=BLANK_ROWS, status=200
) -> HttpResponse:
    rows = [row for row in rows if not _blank(row)]
    rows += [{"kind": "", **dict.fromkeys(TEXTS, "")}] * max(0, min(blank, MAX_ROWS - len(rows)))
    errors = []
    if problem is not None:
        errors.append((_anchor(problem, rows), " ".join(problem.messages)))
    return render(
        request,
        "permits/versions.html",
        {
            "permit": permit,
            "draft": draft,
            "versions": list(permit.versions.order_by("-number")),
            "fields": fields,
            "rows": list(enumerate(rows)),
            "row_count": len(rows),
            "kinds": ConditionKind.choices,
            "errors": errors,
            "saved": request.GET.get("saved") == "1",
            "limits": {"days": operations.MAX_LEGAL_DAYS, "conditions": operations.MAX_CONDITIONS},
        },
        status=status,
    )


@login_required
def versions(request: HttpRequest, public_id: str) -> HttpResponse:
    permit = _permit(public_id, request.user)
    draft = permit.versions.filter(state=VersionState.DRAFT).first()
    if request.method != "POST":
        if draft is None:
            return _page(request, permit, None, fields={}, rows=[])
        fields, rows = _saved(draft)
        return _page(request, permit, draft, fields=fields, rows=rows)
    action = request.POST.get("action", "")
    try:
        if action == "start":
            operations.start_version(request.user, permit)
            return redirect("permits:versions", permit.public_id)
        if draft is None:
            raise operations.PermitError(_("There is no draft: start a new version first."))
        fields, conditions, rows = _posted(request.POST)
        if action == "more":  # one more empty row, nothing saved
            blank = sum(1 for row in rows if _blank(row)) + 1
            return _page(request, permit, draft, fields=fields, rows=rows, blank=blank)
        if action not in {"save", "publish"}:
            raise Http404
        operations.update_draft(request.user, draft, fields=fields, conditions=conditions)
        if action == "publish":
            operations.publish(request.user, draft)
            return redirect("permits:permit", permit.public_id)
        return redirect(f"{request.path}?saved=1")
    except roles.NotPermitted:
        raise Http404 from None
    except operations.PermitError as exc:
        if draft is None:
            fields, rows = {}, []
        elif action in {"save", "publish"}:
            pass  # the form as typed, kept
        else:
            fields, rows = _saved(draft)
        return _page(request, permit, draft, fields=fields, rows=rows, problem=exc, status=400)
