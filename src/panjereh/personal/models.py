"""Share links: a holder lets anyone with the link see one of their documents until it expires.

The link's secret (``token``) is shown to the holder once, in the address; only its SHA-256 is
stored (``token_hash``), so the table read by someone else opens no document."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Lifetime(models.TextChoices):
    HOUR = "1h", _("One hour")
    DAY = "1d", _("One day")
    WEEK = "7d", _("Seven days")


LIFETIMES = {
    Lifetime.HOUR: dt.timedelta(hours=1),
    Lifetime.DAY: dt.timedelta(days=1),
    Lifetime.WEEK: dt.timedelta(days=7),
}


class ShareLink(models.Model):
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links"
    )
    reference = models.CharField(_("document"), max_length=80)  # HeldDocument.reference
    kind = models.CharField(_("kind"), max_length=20)
    title = models.CharField(_("title"), max_length=300)  # for the holder's list of links
    token_hash = models.CharField(max_length=64, unique=True)
    lifetime = models.CharField(_("valid for"), max_length=4, choices=Lifetime.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    views = models.PositiveIntegerField(_("views"), default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["holder", "-created_at"], name="personal_share_holder")]
        verbose_name = _("share link")
        verbose_name_plural = _("share links")

    def __str__(self) -> str:
        return f"{self.reference} until {self.expires_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
