"""The decision notice: the services tell the applicant (and whom else the definition names)
the outcome in their inbox, and write that they did into the application's journey.

The inbox is a mailbox that knows no service (``inbox.notify.post``); the notice's text, its
kind, the link to the application and its journey (:func:`link`) and, when a document was
issued, the signed PDF's link travel on the message.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from panjereh.inbox.models import Message
from panjereh.inbox.notify import post

from . import workflow
from .labels import render
from .models import JourneyEvent
from .rules import lookup


def link(application) -> dict[str, str]:
    """The message fields that link the application's page (its journey), for ``notify.post``.

    The address is the default language's; the inbox gives it in the reader's language."""
    with translation.override(settings.LANGUAGE_CODE):
        url = reverse("services:detail", args=[application.tracking_code])
    return {
        "link_url": url,
        "link_label_fa": "دیدن درخواست و مراحل آن",
        "link_label_en": "See the application and its journey",
    }


def staff_link(application) -> dict[str, str]:
    """The message fields that link the agency's review page of the application, for
    ``notify.tell_agency``."""
    with translation.override(settings.LANGUAGE_CODE):
        url = reverse("services:agency_detail", args=[application.tracking_code])
    return {
        "link_url": url,
        "link_label_fa": "بررسی درخواست",
        "link_label_en": "Review the application",
    }


def decision(application, *, document=None, data=None) -> None:
    """Tell the applicant (and, for a birth, both parents who use the window) the outcome."""
    spec = application.definition.spec
    outcome = spec["decision"]["approved" if application.decision == "approved" else "rejected"]
    reasons = application.decision_reasons or []
    body_fa = outcome["fa"] + "".join("\n• " + r["fa"] for r in reasons)
    body_en = outcome["en"] + "".join("\n• " + r["en"] for r in reasons)
    if application.decision != "approved" and application.fee_rials:
        from .fees import rejection_lines

        fee_fa, fee_en = rejection_lines(application)  # the fee given back, or why not
        body_fa, body_en = body_fa + fee_fa, body_en + fee_en
    document_url = ""
    if document is not None:
        body_fa += f"\nشماره سند: {document.number}"
        body_en += f"\nDocument number: {document.number}"
        document_url = reverse("services:document_pdf", args=[document.number])
    recipients = [application.user]
    codes = [lookup(data or {}, path) for path in (spec.get("document") or {}).get("notify", [])]
    User = get_user_model()
    for user in User.objects.filter(national_code__in=[c for c in codes if c]):
        if user.pk != application.user_id:
            recipients.append(user)
    title_fa = application.definition.title_fa
    title_en = application.definition.title_en
    about = (spec.get("document") or {}).get("about")
    if about and data:
        # Whom the message is about when it is not the reader (a newborn): named, not implied.
        title_fa += f" — {render(about, data)}"
        title_en += f" — {render(about, data, 'en')}"
    for user in recipients:
        _message, created = post(
            user,
            kind=Message.Kind.DOCUMENT if document is not None else Message.Kind.DECISION,
            dedupe_key=f"decision:{application.tracking_code}",
            subject_fa=f"{title_fa}: {outcome['fa']}",
            subject_en=f"{title_en}: {outcome['en']}",
            body_fa=body_fa,
            body_en=body_en,
            document_url=document_url,
            **link(application),
        )
        if created:
            workflow.record(
                application,
                JourneyEvent.Kind.NOTIFIED,
                "نتیجه در صندوق پیام شهروند قرار گرفت",
                "The outcome was put in the citizen's inbox",
                {"user": user.pk},
            )
