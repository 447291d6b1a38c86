from django.http import JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from rest_framework.routers import SimpleRouter

from . import api

app_name = "catalogue-api"
router = SimpleRouter()
router.register("agencies", api.AgencyViewSet, basename="agency")
router.register("services", api.ServiceViewSet, basename="service")


def not_found(request, rest=""):
    """Any other address under the API answers as the API does: JSON, 404."""
    return JsonResponse({"detail": _("Not found.")}, status=404)


urlpatterns = [
    path("stats/", api.StatsView.as_view(), name="stats"),
    path("", include(router.urls)),
    # [\s\S], not ".": an address with a newline in it is an address under the API too.
    re_path(r"^(?P<rest>[\s\S]*)$", not_found),
]
