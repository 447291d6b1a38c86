"""Addresses outside the language prefix: the published keys."""

from django.urls import path

from . import views

urlpatterns = [path("services/jwks.json", views.jwks, name="services_jwks")]
