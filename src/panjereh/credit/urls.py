from django.urls import path

from . import views

app_name = "credit"

urlpatterns = [
    path("", views.my_checks, name="mine"),
    path("new/", views.start, name="start"),
    path("<str:reference>/", views.check, name="check"),
]
