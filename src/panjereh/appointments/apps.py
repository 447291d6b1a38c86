from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "panjereh.appointments"
    label = "appointments"
    verbose_name = _("Appointments")
    default_auto_field = "django.db.models.BigAutoField"
