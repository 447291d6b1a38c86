from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CitizenApiConfig(AppConfig):
    name = "panjereh.citizenapi"
    label = "citizenapi"
    verbose_name = _("Citizen API for the window's own mobile app")
    default_auto_field = "django.db.models.BigAutoField"
