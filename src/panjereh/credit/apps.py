from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "panjereh.credit"
    label = "credit"
    verbose_name = _("Transaction-credit check")
    default_auto_field = "django.db.models.BigAutoField"
