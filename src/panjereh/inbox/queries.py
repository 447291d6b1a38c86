"""What other apps may read of a person's inbox (the signed-in home's "inbox" part)."""

from __future__ import annotations

from .models import Message


def latest_messages(user, limit: int = 3) -> list[Message]:
    """``user``'s newest messages, newest first."""
    return list(Message.objects.filter(user=user).order_by("-created_at", "-pk")[:limit])


def unread_count(user) -> int:
    return Message.objects.filter(user=user, read_at__isnull=True).count()
