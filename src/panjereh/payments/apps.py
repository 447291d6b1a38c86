from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "panjereh.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from . import billing, providers

        providers.load()
        billing.register()  # the "bill" purpose: the biller is told once a bill is paid
