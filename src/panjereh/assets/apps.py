from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssetsConfig(AppConfig):
    name = "panjereh.assets"
    label = "assets"
    verbose_name = _("Asset inquiry for judicial cases")
    default_auto_field = "django.db.models.BigAutoField"
