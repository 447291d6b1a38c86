from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailboxConfig(AppConfig):
    name = "panjereh.mailbox"
    label = "mailbox"
    verbose_name = _("Official mailbox")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .signals import deliver_on_sign_in

        user_logged_in.connect(deliver_on_sign_in, dispatch_uid="mailbox.deliver_on_sign_in")
