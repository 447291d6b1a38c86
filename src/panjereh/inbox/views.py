"""The citizen's inbox pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import translate_url
from django.utils import timezone, translation

from .models import Message


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    messages = Message.objects.filter(user=request.user)[:200]
    unread = Message.objects.filter(user=request.user, read_at__isnull=True).count()
    return render(request, "inbox/inbox.html", {"messages": messages, "unread": unread})


@login_required
def message(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Message, pk=pk, user=request.user)
    if item.read_at is None:
        Message.objects.filter(pk=item.pk).update(read_at=timezone.now())
    return render(
        request,
        "inbox/message.html",
        {
            "item": item,
            "link_url": in_reader_language(item.link_url),
            "deliveries": item.deliveries.all(),
        },
    )


def in_reader_language(url: str) -> str:
    """A sender's link (stored in the default language's form) in the reader's language; a
    link this site does not serve is given as it is."""
    if not url:
        return url
    language = translation.get_language()
    with translation.override(settings.LANGUAGE_CODE):
        return translate_url(url, language)
