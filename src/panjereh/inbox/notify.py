"""The mailbox: messages in citizens' and staff's inboxes, and sending their alerts.

The apps write the messages (the services' decision notices are ``services.notices``); the
inbox knows no service: a message carries its text, the link its sender gives (with its label)
and, when it delivers one, its document's link.

Messages are unique per (person, dedupe key), so the engine can run a step again without a
second message. Email and SMS deliveries are rows with a status; :func:`deliver_pending` sends
them (the worker calls it), so a failing SMS gateway delays an alert but never the decision.
SMS goes through the one SMS client and email through Django's mail backends
(``panjereh.common.messaging``).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from panjereh.common import messaging

from .models import Delivery, Message

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
FIRST_RETRY_SECONDS = 30


def post(
    user,
    *,
    kind: str,
    dedupe_key: str,
    subject_fa: str,
    subject_en: str,
    body_fa: str = "",
    body_en: str = "",
    link_url: str = "",
    link_label_fa: str = "",
    link_label_en: str = "",
    document_url: str = "",
) -> tuple[Message, bool]:
    """One message in ``user``'s inbox (and its pending alerts); (message, created).

    ``link_url`` and its labels are the sender's page about the matter (an application and its
    journey); ``document_url`` is the link of the document the message delivers (a signed PDF).
    Both are given by the app that posts: the inbox shows them without knowing what they are."""
    existing = Message.objects.filter(user=user, dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            message = Message.objects.create(
                user=user,
                kind=kind,
                dedupe_key=dedupe_key,
                subject_fa=subject_fa[:300],
                subject_en=subject_en[:300],
                body_fa=body_fa,
                body_en=body_en,
                link_url=link_url[:300],
                link_label_fa=link_label_fa[:120],
                link_label_en=link_label_en[:120],
                document_url=document_url[:300],
            )
            if getattr(user, "mobile", ""):
                Delivery.objects.create(message=message, channel="sms", address=user.mobile)
            if getattr(user, "email", ""):
                Delivery.objects.create(message=message, channel="email", address=user.email)
    except IntegrityError:
        return Message.objects.get(user=user, dedupe_key=dedupe_key), False
    return message, True


def post_many(entries: list[tuple]) -> int:
    """Many messages at once (a bulk send's chunk): ``entries`` are (user, fields of
    :func:`post`) pairs; the same rows as :func:`post`, written in two statements. Run inside
    the caller's transaction; a (user, dedupe key) already there is skipped. How many were new."""
    keys = {(user.pk, fields["dedupe_key"]) for user, fields in entries}
    there = set(
        Message.objects.filter(
            user_id__in={pk for pk, _k in keys}, dedupe_key__in={k for _pk, k in keys}
        ).values_list("user_id", "dedupe_key")
    )
    rows, owners = [], []
    for user, fields in entries:
        if (user.pk, fields["dedupe_key"]) in there:
            continue
        there.add((user.pk, fields["dedupe_key"]))
        limits = {"subject_fa": 300, "subject_en": 300, "link_url": 300, "document_url": 300}
        limits.update(link_label_fa=120, link_label_en=120)
        data = {k: (v[: limits[k]] if k in limits else v) for k, v in fields.items()}
        rows.append(Message(user=user, **data))
        owners.append(user)
    Message.objects.bulk_create(rows)
    deliveries = []
    for message, user in zip(rows, owners, strict=True):
        if getattr(user, "mobile", ""):
            deliveries.append(Delivery(message=message, channel="sms", address=user.mobile))
        if getattr(user, "email", ""):
            deliveries.append(Delivery(message=message, channel="email", address=user.email))
    Delivery.objects.bulk_create(deliveries)
    return len(rows)


def tell_agency(
    agency_id: int | None,
    *,
    dedupe_key: str,
    subject_fa: str,
    subject_en: str,
    body_fa: str = "",
    body_en: str = "",
    link_url: str = "",
    link_label_fa: str = "",
    link_label_en: str = "",
) -> int:
    """One notice in the inbox of every staff member of an agency; how many were new."""
    from panjereh.catalogue.models import AgencyMembership

    if agency_id is None:
        return 0
    told = 0
    for membership in AgencyMembership.objects.filter(agency_id=agency_id).select_related("user"):
        _message, created = post(
            membership.user,
            kind=Message.Kind.NOTICE,
            dedupe_key=dedupe_key,
            subject_fa=subject_fa,
            subject_en=subject_en,
            body_fa=body_fa,
            body_en=body_en,
            link_url=link_url,
            link_label_fa=link_label_fa,
            link_label_en=link_label_en,
        )
        told += int(created)
    return told


def retry_after(attempts: int) -> dt.timedelta:
    """30 s, 90 s, 4½ min, 13½ min… after the ``attempts``-th failure."""
    return dt.timedelta(seconds=FIRST_RETRY_SECONDS * 3 ** max(0, attempts - 1))


def deliver_pending(limit: int = 50) -> int:
    """Send the pending email/SMS alerts that are due; returns how many were sent. A failure is
    recorded on the delivery and tried again after a growing pause, up to ``MAX_ATTEMPTS``."""
    sent = 0
    now = timezone.now()
    pending = (
        Delivery.objects.filter(status=Delivery.Status.PENDING, attempts__lt=MAX_ATTEMPTS)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .select_related("message")[:limit]
    )
    for delivery in pending:
        # Claimed first (its next attempt moved on): two workers never send it twice.
        claimed = (
            Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .update(next_attempt_at=now + retry_after(delivery.attempts + 1))
        )
        if not claimed:
            continue
        message = delivery.message
        # One full stop after the subject, whether or not the subject ends with its own.
        subject = message.subject_fa.rstrip(" .")
        text = f"پنجره ملی: {subject}. صندوق پیام خود را ببینید."
        try:
            if delivery.channel == Delivery.Channel.SMS:
                messaging.send_sms(delivery.address, text, reference=f"inbox:{delivery.pk}")
            else:
                messaging.send_email(delivery.address, message.subject_fa, text)
        except Exception as exc:  # noqa: BLE001 -- any provider failure is a delivery failure
            delivery.attempts += 1
            delivery.last_error = str(exc)[:300]
            delivery.next_attempt_at = now + retry_after(delivery.attempts)
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = Delivery.Status.FAILED
            delivery.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            log.warning("delivery %s failed: %s", delivery.pk, exc)
            continue
        delivery.attempts += 1
        delivery.status = Delivery.Status.SENT
        delivery.sent_at = timezone.now()
        delivery.save(update_fields=["attempts", "status", "sent_at"])
        sent += 1
    return sent
