from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api

app_name = "catalogue-api"
router = SimpleRouter()
router.register("agencies", api.AgencyViewSet, basename="agency")
router.register("services", api.ServiceViewSet, basename="service")
urlpatterns = [
    path("stats/", api.StatsView.as_view(), name="stats"),
    path("", include(router.urls)),
]
