from django.urls import path, re_path

from . import views

app_name = "permits"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("removed/", views.removed, name="removed"),
    re_path(r"^(?P<public_id>[0-9]{10})/$", views.permit, name="permit"),
]
