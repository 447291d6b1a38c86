from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "panjereh.identity"
    label = "identity"
    verbose_name = _("Identity")

    def ready(self) -> None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        from . import signals  # noqa: F401  (connects the receivers)
        from .keys import ensure_oidc_keys

        ensure_oidc_keys()  # demo and test: the keys not yet in var/oidc/ (settings only read)

        if not settings.OAUTH2_PROVIDER.get("OIDC_RSA_PRIVATE_KEY"):
            # Without its own signing key the national window cannot issue ID tokens; a
            # generated one would change on every deployment and break every agency window.
            raise ImproperlyConfigured("PANJEREH_OIDC_KEY (an RSA private key in PEM) must be set")
        if not settings.PANJEREH_OIDC_EC_KEY:
            raise ImproperlyConfigured(
                "PANJEREH_OIDC_EC_KEY (an EC P-256 private key in PEM) must be set"
            )
