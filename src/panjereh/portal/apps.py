from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "panjereh.portal"
    label = "portal"
    verbose_name = _("Public portal")

    def ready(self) -> None:
        from django.contrib import admin

        # The back office carries the window's name in the staff member's language.
        admin.site.site_header = _("Panjereh back office")
        admin.site.site_title = _("Panjereh back office")
        admin.site.index_title = _("Back office of the national window")

        from . import backoffice

        backoffice.install()
