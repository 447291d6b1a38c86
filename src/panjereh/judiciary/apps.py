from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JudiciaryConfig(AppConfig):
    name = "panjereh.judiciary"
    label = "judiciary"
    verbose_name = _("Judicial e-services")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import pleadings

        pleadings.register()  # bill receipts checked on the public verify page
