"""The status page under ``/status/`` (Persian) and ``/en/status/`` (English)."""

from django.urls import path

from . import views

app_name = "status"

urlpatterns = [
    path("", views.index, name="index"),
    path("incidents/", views.lookup, name="lookup"),
    path("incidents/<str:public_id>/", views.incident_detail, name="incident"),
    path("api/", views.api, name="api"),
    path("api/incidents/<str:public_id>/", views.api_incident, name="api-incident"),
    path("healthz/", views.healthz, name="healthz"),
    path("healthz/exchange/", views.healthz_exchange, name="healthz-exchange"),
]
