from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "panjereh.services"
    label = "services"
    verbose_name = _("Smart services")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from panjereh.catalogue.search import public_changed

        from . import fees
        from .models import ServiceDefinition

        # An application's fee is a payments purpose: paid, the application goes on.
        fees.register()

        # A service page's "Start now" follows its definition: a new or retired definition
        # must show on the next request, so it moves the catalogue's public generation.
        for signal in (post_save, post_delete):
            signal.connect(public_changed, sender=ServiceDefinition, dispatch_uid=f"defs-{signal}")
