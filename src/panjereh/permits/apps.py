from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PermitsConfig(AppConfig):
    name = "panjereh.permits"
    label = "permits"
    verbose_name = _("Permits catalogue")

    def ready(self) -> None:
        # A permit's fee: the payments app tells the application when it is paid.
        from . import applying

        applying.register()
