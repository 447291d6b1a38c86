"""Demo data for e-participation (idempotent): a few approved proposals, two consultations,
and last week's votes of the demo citizens, so every page has something to show."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from panjereh.catalogue.models import Agency
from panjereh.identity.models import User
from panjereh.participation import operations, queries, weeks
from panjereh.participation.models import (
    Consultation,
    ConsultationState,
    Goal,
    Moderation,
    Origin,
    Suggestion,
    Vote,
    WeeklyTally,
)
from panjereh.participation.roles import MODERATORS

PROPOSALS = [
    (Goal.SMART, "صدور گواهی اشتغال به تحصیل بدون مراجعه حضوری و به‌صورت خودکار"),
    (Goal.ELECTRONIC, "ثبت درخواست تعویض پلاک خودرو به‌صورت برخط و بدون نوبت حضوری"),
]
CONSULTATIONS = [
    (
        "پیش‌نویس دستورالعمل خدمات هوشمند",
        "نظر شما درباره پیش‌نویس دستورالعمل ارائه خدمات هوشمند بدون مراجعه حضوری چیست؟",
        ConsultationState.OPEN,
    ),
    (
        "ساعات پاسخ‌گویی مرکز تماس",
        "آیا پاسخ‌گویی مرکز تماس در روزهای پنجشنبه ادامه یابد؟",
        ConsultationState.SUMMARY,
    ),
]


@transaction.atomic
def seed(write=print) -> None:
    Group.objects.get_or_create(name=MODERATORS)
    agency = Agency.objects.filter(in_scope=True).order_by("pk").first()
    if agency is None:
        return
    now = timezone.now()
    for goal, text in PROPOSALS:
        Suggestion.objects.get_or_create(
            origin=Origin.CITIZEN,
            text=text,
            defaults={
                "goal": goal,
                "agency": agency,
                "status": Moderation.APPROVED,
                "moderated_at": now,
            },
        )
    for title, text, state in CONSULTATIONS:
        if Consultation.objects.filter(title=title).exists():
            continue
        closed = state == ConsultationState.SUMMARY
        item = Consultation.objects.create(
            agency=agency,
            title=title,
            text=text,
            opens_at=now - dt.timedelta(days=30 if closed else 1),
            closes_at=now + (dt.timedelta(days=-10) if closed else dt.timedelta(days=14)),
        )
        operations.transition(item, ConsultationState.OPEN)
        if closed:
            operations.transition(item, ConsultationState.CLOSED)
            operations.transition(
                item,
                ConsultationState.SUMMARY,
                summary="پاسخ‌گویی در روزهای پنجشنبه تا ساعت ۱۴ ادامه می‌یابد.",
                summary_published_at=now,
            )
    # Last week's votes by the demo citizens for a few not-yet-online cards, so that a
    # "services of the week" list is published on the first visit.
    last_week = weeks.last_completed_week()
    if not Vote.objects.filter(jalali_week=last_week).exists():
        citizens = list(User.objects.exclude(national_code=None).order_by("pk")[:20])
        cards = list(queries.not_online_services()[:5])
        voted_at = weeks.bounds(last_week)[0] + dt.timedelta(days=2)
        for i, card in enumerate(cards):
            suggestion = operations.catalogue_suggestion(card)
            voters = citizens[: max(0, len(citizens) - 3 * i)]
            Vote.objects.bulk_create(
                Vote(user=u, suggestion=suggestion, jalali_week=last_week, cast_at=voted_at)
                for u in voters
            )
        operations.recount(last_week)
    write(
        f"Participation: {Suggestion.objects.count()} suggestions, "
        f"{Consultation.objects.count()} consultations, "
        f"{WeeklyTally.objects.filter(jalali_week=last_week).count()} items voted last week"
    )
