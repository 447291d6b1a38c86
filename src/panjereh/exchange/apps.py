from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "panjereh.exchange"
    label = "exchange"
    verbose_name = _("National information exchange")

    def ready(self) -> None:
        # Every process (portal, worker, commands) moves the gateway's shared generation when a
        # consumer system, data service, agency or grant changes: the receivers live there.
        from . import gateway  # noqa: F401
