"""Addresses outside the language prefix: the published keys and revocation lists."""

from django.urls import path

from . import views

urlpatterns = [
    path("services/jwks.json", views.jwks, name="services_jwks"),
    path("services/status/<slug:code>.jwt", views.status_list, name="services_status_list"),
]
