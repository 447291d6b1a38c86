"""My cases, and one case with its stages, hearings, decisions and bills (thin: the reading is
in :mod:`.cases`, the rights in :mod:`.queries`). Only the case's parties see a case (404 for
anyone else); people without a SANA account are sent to register first."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from panjereh.common import jalali

from . import cases, queries
from .models import CaseEvent, CaseParty

KINDS = {
    "civil": _("Civil"),
    "criminal": _("Criminal"),
    "family": _("Family"),
}


def _url(name: str, *args: str) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _needs_sana(request: HttpRequest) -> HttpResponse | None:
    if queries.has_sana(request.user):
        return None
    messages.info(
        request,
        _(
            "Your cases are shown to you through your SANA account, the judiciary's account "
            "for electronic services. Register for SANA first; it takes a minute."
        ),
    )
    return redirect(f"{_url('judiciary:sana')}?{urlencode({'next': request.path})}")


def _refresh(request: HttpRequest) -> bool:
    """Read the person's cases from the courts (at most every few minutes); False if the
    courts could not be asked (the page then shows what the window already holds)."""
    try:
        cases.sync_person(request.user)
    except cases.CourtsUnavailable:
        return False
    return True


def _stage(code: str) -> str:
    fa, en = cases.stage_label(code)
    return fa if (translation.get_language() or "fa").startswith("fa") else en


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    blocked = _needs_sana(request)
    if blocked is not None:
        return blocked
    reached = _refresh(request)
    rows = []
    for case in queries.cases_of(request.user)[:200]:
        roles = queries.roles_in(request.user, case)
        rows.append(
            {
                "case": case,
                "kind": KINDS.get(case.kind, _("Other")),
                "stage": _stage(case.stage),
                "roles": [CaseParty.Role(r).label for r in roles],
            }
        )
    return render(
        request,
        "judiciary/cases.html",
        {
            "rows": rows,
            "reached": reached,
            "feed": queries.feed_state(),
            "home_url": _url("judiciary:home"),
            "mailbox_url": _url("mailbox:mailbox"),
        },
    )


def _hearing(event: CaseEvent) -> dict | None:
    court = event.detail.get("court") if isinstance(event.detail, dict) else None
    if not isinstance(court, dict) or not court.get("hearing_at"):
        return None
    try:
        moment = dt.datetime.fromisoformat(str(court["hearing_at"]))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return {
        "at": moment,
        "time": moment.astimezone(jalali.TEHRAN).strftime("%H:%M"),
        "room": str(court.get("room") or "")[:20],
    }


@login_required
@require_GET
def case_page(request: HttpRequest, number: str) -> HttpResponse:
    blocked = _needs_sana(request)
    if blocked is not None:
        return blocked
    case = queries.case_for(request.user, number)
    if case is None:
        raise Http404
    reached = _refresh(request)
    case.refresh_from_db()
    mine = str(request.user.pk)
    timeline, hearings, decisions = [], [], []
    for event in queries.events_of(case):
        detail = event.detail if isinstance(event.detail, dict) else {}
        court = detail.get("court") if isinstance(detail.get("court"), dict) else {}
        notice = (detail.get("notices") or {}).get(mine, "")
        item = {
            "event": event,
            "title_fa": event.title,
            "title_en": detail.get("title_en") or event.get_kind_display(),
            "stage": _stage(event.stage) if event.stage else "",
            "notice_url": _url("mailbox:notice", notice) if notice else "",
        }
        timeline.append(item)
        if event.kind == CaseEvent.Kind.HEARING:
            hearing = _hearing(event)
            if hearing:
                hearings.append(hearing)
        elif event.kind == CaseEvent.Kind.DECISION:
            decisions.append(
                {
                    "at": event.at,
                    "summary_fa": str(court.get("summary_fa") or "")[:1000],
                    "summary_en": str(court.get("summary_en") or court.get("summary_fa") or "")[
                        :1000
                    ],
                }
            )
    roles = [CaseParty.Role(r).label for r in queries.roles_in(request.user, case)]
    bills_url = _url("judiciary:bills")
    pleadings = [
        {"pleading": p, "url": _url("judiciary:bill", p.reference)}
        for p in queries.pleadings_of(request.user, case)
    ]
    return render(
        request,
        "judiciary/case.html",
        {
            "case": case,
            "kind": KINDS.get(case.kind, _("Other")),
            "stage": _stage(case.stage),
            "roles": roles,
            "timeline": timeline,
            "hearings": hearings,
            "decisions": decisions,
            "pleadings": pleadings,
            "new_bill_url": f"{bills_url}?{urlencode({'case': case.number})}" if bills_url else "",
            "reached": reached,
        },
    )
