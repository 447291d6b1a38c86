from django.urls import path

from . import api

app_name = "catalogue-api"
urlpatterns = [
    path("stats/", api.StatsView.as_view(), name="stats"),
]
