"""People who sign in. Citizens are keyed by national code; staff by a username.

The identity issue adds registration, assurance levels and the OpenID Connect provider on top
of this model; it is defined at the start because Django fixes the user model at the first
migration.
"""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    national_code = models.CharField(
        _("national code"), max_length=10, unique=True, null=True, blank=True
    )
    mobile = models.CharField(_("mobile number"), max_length=11, blank=True)
    assurance_level = models.PositiveSmallIntegerField(_("assurance level"), default=0)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def display_name(self) -> str:
        return self.get_full_name() or self.username
