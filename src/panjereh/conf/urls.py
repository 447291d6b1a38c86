"""URL map. Public pages are under i18n patterns: ``/`` is Persian, ``/en/`` is English."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/catalogue/", include("panjereh.catalogue.api_urls")),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("", include("panjereh.portal.urls")),
    prefix_default_language=False,
)
