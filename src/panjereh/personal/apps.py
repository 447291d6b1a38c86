from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PersonalConfig(AppConfig):
    name = "panjereh.personal"
    label = "personal"
    verbose_name = _("My window: my documents and what needs my action")
    default_auto_field = "django.db.models.BigAutoField"
