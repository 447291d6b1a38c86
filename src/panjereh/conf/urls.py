"""URL map. Public pages are under i18n patterns: ``/`` is Persian, ``/en/`` is English."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView

from panjereh.portal.views import switch_language
from panjereh.portal.views_pwa import service_worker

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    # The installable app's service worker, from the root so that its scope is the whole site.
    path("sw.js", service_worker, name="service_worker"),
    path("i18n/<str:language>/", switch_language, name="switch_language"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/catalogue/", include("panjereh.catalogue.api_urls")),
    path("api/mailbox/v1/", include("panjereh.mailbox.api_urls")),
    path("api/me/v1/", include("panjereh.citizenapi.urls")),
    path("r1/", include("panjereh.exchange.gateway_urls")),
    path("", include("panjereh.services.public_urls")),
    path("", include("panjereh.identity.oidc_views")),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("exchange/", include("panjereh.exchange.urls")),
    path("account/proactive/", include("panjereh.proactive.urls")),
    path("account/", include("panjereh.identity.urls")),
    path("oversight/", include("panjereh.oversight.urls")),
    path("services/", include("panjereh.services.urls")),
    path("inbox/", include("panjereh.inbox.urls")),
    path("mailbox/", include("panjereh.mailbox.urls")),
    path("payments/", include("panjereh.payments.urls")),
    path("feedback/", include("panjereh.feedback.urls")),
    path("participate/", include("panjereh.participation.urls")),
    path("status/", include("panjereh.status.urls")),
    path("transparency/", include("panjereh.oversight.public_urls")),
    path("permits/", include("panjereh.permits.urls")),
    path("judiciary/", include("panjereh.judiciary.urls")),
    path("appointments/", include("panjereh.appointments.urls")),
    path("credit/", include("panjereh.credit.urls")),
    path("assets/", include("panjereh.assets.urls")),
    path("my/", include("panjereh.personal.urls")),
    path("shared/", include("panjereh.personal.share_urls")),
    path("", include("panjereh.portal.urls")),
    prefix_default_language=False,
)
